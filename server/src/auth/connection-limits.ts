/**
 * Connection limits: at most N open subscriber connections per process and per client IP, and at
 * most M connection attempts per IP per second. One counter map; no timer per connection.
 */

/** Why a connection was refused. */
export type LimitRefusal = 'process' | 'ip' | 'rate';

/** Options of the limiter (each documented with its env name in config.ts). */
export interface ConnectionLimitOptions {
  maxConnections: number;
  maxConnectionsPerIp: number;
  connectRatePerIp: number;
}

/** Admits and releases connections. */
export interface ConnectionLimiter {
  /** Counts an attempt; undefined when admitted (then `release` must be called once). */
  admit(ip: string, now?: number): LimitRefusal | undefined;
  release(ip: string): void;
  readonly open: number;
}

/** Creates a limiter. */
export function createConnectionLimiter(options: ConnectionLimitOptions): ConnectionLimiter {
  const openByIp = new Map<string, number>();
  const attempts = new Map<string, { second: number; count: number }>();
  let open = 0;

  return {
    admit(ip, now = Date.now()) {
      const second = Math.floor(now / 1000);
      const window = attempts.get(ip);
      if (!window || window.second !== second) {
        // Forget other IPs' old windows now and then so the map stays small.
        if (attempts.size > 10_000)
          for (const [key, value] of attempts) if (value.second !== second) attempts.delete(key);
        attempts.set(ip, { second, count: 1 });
      } else if (++window.count > options.connectRatePerIp) return 'rate';
      if (open >= options.maxConnections) return 'process';
      const fromIp = openByIp.get(ip) ?? 0;
      if (fromIp >= options.maxConnectionsPerIp) return 'ip';
      openByIp.set(ip, fromIp + 1);
      open++;
      return undefined;
    },
    release(ip) {
      const fromIp = openByIp.get(ip) ?? 0;
      if (fromIp <= 1) openByIp.delete(ip);
      else openByIp.set(ip, fromIp - 1);
      open = Math.max(0, open - 1);
    },
    get open() {
      return open;
    },
  };
}
