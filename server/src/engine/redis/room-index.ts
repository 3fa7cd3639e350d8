/**
 * The room index of the Redis engine: one sorted set, room id → last activity (ms), newest
 * first for `GET /rooms`. It is kept cluster-safe and bounded:
 * - touched as its own command (never inside an append script, whose keys are the room's slot),
 *   and at most once per room every `touchEvery` per node, so the one key a Cluster shard holds
 *   for it sees a bounded rate, not every webhook;
 * - entries older than the room idle TTL are trimmed (at most once a minute per node), the set
 *   never holds more than `maxRooms` (the least recently active go first), and the key expires
 *   with the room idle TTL when nothing touches it.
 */
import type { RedisClient } from './connection.ts';

/** Options of the room index. */
export interface RoomIndexOptions {
  redis: RedisClient;
  /** The sorted set's key. */
  key: string;
  /** A room not touched for this long leaves the index, ms. */
  roomIdleTtl: number;
  /** Rooms kept at most. Default 100,000. */
  maxRooms?: number;
  /** A room is touched at most this often per node, ms. Default 2000. */
  touchEvery?: number;
  now: () => number;
  onError: (error: unknown) => void;
}

/** The room index (see the module comment). */
export interface RoomIndex {
  /** Records activity in `roomId` now (throttled; not awaited by the caller). */
  touch(roomId: string): void;
  /** Room ids, most recently active first (at most `limit`), after trimming stale ones. */
  list(limit?: number): Promise<string[]>;
  /** Forgets a room whose keys are gone. */
  forget(roomId: string): void;
}

/** How often one node trims the index, ms. */
const TRIM_EVERY_MS = 60_000;

/** Creates the room index. */
export function createRoomIndex(options: RoomIndexOptions): RoomIndex {
  const { redis, key, roomIdleTtl, now, onError } = options;
  const maxRooms = options.maxRooms ?? 100_000;
  const touchEvery = options.touchEvery ?? 2000;
  /** Room → when this node touched it last (only recent ones are kept). */
  const touched = new Map<string, number>();
  let trimmedAt = 0;

  function forgetOldTouches(at: number): void {
    // Map order is insertion order and re-touches re-insert: the oldest are first.
    for (const [roomId, when] of touched) {
      if (at - when < touchEvery) break;
      touched.delete(roomId);
    }
  }

  async function trim(at: number): Promise<void> {
    trimmedAt = at;
    await redis
      .multi()
      .zremrangebyscore(key, '-inf', `(${at - roomIdleTtl}`)
      .zremrangebyrank(key, 0, -(maxRooms + 1))
      .exec();
  }

  return {
    touch(roomId) {
      const at = now();
      forgetOldTouches(at);
      if (touched.has(roomId)) return;
      touched.set(roomId, at);
      // One key, so one slot: a MULTI is fine on a Cluster too.
      const work = redis.multi().zadd(key, at, roomId).pexpire(key, roomIdleTtl).exec();
      work.catch(onError);
      if (at - trimmedAt >= TRIM_EVERY_MS) trim(at).catch(onError);
    },

    async list(limit = maxRooms) {
      await trim(now());
      return redis.zrevrange(key, 0, Math.min(limit, maxRooms) - 1);
    },

    forget(roomId) {
      redis.zrem(key, roomId).catch(onError);
    },
  };
}
