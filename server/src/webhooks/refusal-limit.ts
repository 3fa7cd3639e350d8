/**
 * Refused webhooks per client IP: past `perMinute` refusals (bad or missing signature, stale
 * timestamp, bad body, too large) in a minute, the IP's next requests are answered 429 before
 * anything of them is read or parsed. Huddle01's own webhooks are signed and never refused, so
 * they never count; a flood of forged ones stops costing CPU after the first few.
 */

/** Counts refusals and tells whether an IP is over its limit. */
export interface RefusalLimiter {
  /** Seconds until `ip` is under the limit again; 0 when it is now. */
  blockedFor(ip: string, now?: number): number;
  /** Counts one refusal of `ip`. */
  refused(ip: string, now?: number): void;
}

/** A limiter of `perMinute` refusals per IP (fixed one-minute windows); 0 = no limit. */
export function createRefusalLimiter(perMinute: number): RefusalLimiter {
  const windows = new Map<string, { minute: number; count: number }>();
  return {
    blockedFor(ip, now = Date.now()) {
      if (perMinute === 0) return 0;
      const window = windows.get(ip);
      const minute = Math.floor(now / 60_000);
      if (!window || window.minute !== minute || window.count < perMinute) return 0;
      return Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000));
    },
    refused(ip, now = Date.now()) {
      if (perMinute === 0) return;
      const minute = Math.floor(now / 60_000);
      const window = windows.get(ip);
      if (window && window.minute === minute) {
        window.count++;
        return;
      }
      // Forget old windows now and then so the map stays small.
      if (windows.size > 10_000)
        for (const [key, value] of windows) if (value.minute !== minute) windows.delete(key);
      windows.set(ip, { minute, count: 1 });
    },
  };
}
