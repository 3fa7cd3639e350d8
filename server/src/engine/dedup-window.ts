/**
 * Remembers webhook ids for a time window, with a hard cap on how many (oldest forgotten
 * first), so memory stays bounded whatever the webhook rate.
 */
export interface DedupWindow {
  /** Records `id`; false when it was already inside the window (a duplicate). */
  add(id: string, now: number): boolean;
  has(id: string, now: number): boolean;
  readonly size: number;
}

/** Creates a window of `windowMs` holding at most `maxIds` ids. */
export function createDedupWindow(windowMs: number, maxIds: number): DedupWindow {
  // A Map iterates in insertion order, and insertion times only grow: the front is the oldest.
  const expiries = new Map<string, number>();
  // When the front entry expires. Until then a sweep would find nothing to drop, so `add` skips
  // it: the sweep's iterator was most of an add's cost (about 1 µs per webhook in a profile).
  let nextExpiry = Infinity;

  function sweep(now: number): void {
    nextExpiry = Infinity;
    for (const [id, expiresAt] of expiries) {
      if (expiresAt > now && expiries.size <= maxIds) {
        nextExpiry = expiresAt;
        break;
      }
      expiries.delete(id);
    }
  }

  return {
    add(id, now) {
      if (now >= nextExpiry) sweep(now);
      if (expiries.has(id)) return false;
      const expiresAt = now + windowMs;
      expiries.set(id, expiresAt);
      if (expiries.size > maxIds) sweep(now);
      else if (expiries.size === 1) nextExpiry = expiresAt;
      return true;
    },
    has(id, now) {
      const expiresAt = expiries.get(id);
      return expiresAt !== undefined && expiresAt > now;
    },
    get size() {
      return expiries.size;
    },
  };
}
