/**
 * @roomcast/client/cache: keeps each room's state and position in sessionStorage, so that a
 * reload shows the room at once and resumes after its position (recovered, no snapshot).
 * `createClient({ url, getToken, cache: sessionCache() })`. sessionStorage is per tab and
 * ends with it: nothing outlives the session.
 */
import type { RoomCache } from './client.ts';
import type { CachedRoom } from './room.ts';

/** Options of sessionCache. */
export interface SessionCacheOptions {
  /** Key prefix (one per server if a page talks to several). Default `roomcast:`. */
  prefix?: string;
  /** The storage. Default: `sessionStorage`. */
  storage?: Storage;
  /** Writes are gathered for this many ms (a burst of events, one write). Default 250. */
  delay?: number;
}

/** A cache in sessionStorage; what is pending is written when the page is hidden or left. */
export function sessionCache(options: SessionCacheOptions = {}): RoomCache {
  const prefix = options.prefix ?? 'roomcast:';
  const storage = options.storage ?? globalThis.sessionStorage;
  const pending = new Map<string, CachedRoom>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  function flush() {
    clearTimeout(timer);
    timer = undefined;
    for (const [roomId, room] of pending) {
      try {
        storage.setItem(prefix + roomId, JSON.stringify(room));
      } catch {
        // full or refused: the next load simply starts from a snapshot
      }
    }
    pending.clear();
  }
  // A reload may come before the timer: write on the way out.
  globalThis.addEventListener?.('pagehide', flush);
  globalThis.document?.addEventListener('visibilitychange', flush);

  return {
    load(roomId) {
      try {
        const text = storage.getItem(prefix + roomId);
        return text ? (JSON.parse(text) as CachedRoom) : undefined;
      } catch {
        return undefined;
      }
    },
    save(roomId, room) {
      pending.set(roomId, room);
      timer ??= setTimeout(flush, options.delay ?? 250);
    },
  };
}
