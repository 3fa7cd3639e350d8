/**
 * The room index of the Redis engine (`<prefix>rooms`: sorted set, room id → last activity, ms),
 * written and read only here.
 *
 * Writes are kept cluster-safe and bounded:
 * - touched by commands of their own (never inside an append script, whose keys are the room's
 *   slot), at most once per room every `touchEvery` per node: a room's first activity in a window
 *   is written at once, later ones in the same window once at its end, all pending rooms in one
 *   ZADD. So the one key a Cluster shard holds for the index sees a bounded rate, not every
 *   webhook, and the index lags a room's last activity by at most `touchEvery` (a node's own
 *   listing first writes what it has pending and waits for its writes in flight);
 * - entries older than the room idle TTL are trimmed (at most once a minute per node, and on
 *   every first page), the set never holds more than `maxRooms` (the least recently active go
 *   first), and the key expires with the room idle TTL when nothing touches it.
 *
 * Reads serve `listRooms`: one ZREVRANGEBYSCORE per page (more only when many rooms share the
 * cursor's millisecond), then one HMGET per listed room, all sent at once. O(log n + page).
 */
import type { RoomCursor, RoomListPage, RoomListQuery, RoomSummary } from '../engine.ts';
import { compareIds } from '../room-order.ts';
import type { RedisClient } from './connection.ts';
import type { KeyLayout } from './keys.ts';

/** Options of the room index. */
export interface RoomIndexOptions {
  redis: RedisClient;
  keys: KeyLayout;
  /** A room not touched for this long leaves the index (and is not listed), ms. */
  roomIdleTtl: number;
  /** Rooms kept at most. Default 100,000. */
  maxRooms?: number;
  /** A room is written at most this often per node, ms. Default 2000. */
  touchEvery?: number;
  now: () => number;
  onError: (error: unknown) => void;
}

/** The room index (see the module comment). */
export interface RoomIndex {
  /** Records activity in `roomId` now (throttled; not awaited by the caller). */
  touch(roomId: string): void;
  /** One page of rooms, newest activity first. */
  list(query: RoomListQuery): Promise<RoomListPage>;
  /** Writes what is pending now and stops the flush timer. */
  close(): void;
}

/** How often one node trims the index, ms. */
const TRIM_EVERY_MS = 60_000;

/** Creates the room index. */
export function createRoomIndex(options: RoomIndexOptions): RoomIndex {
  const { redis, keys, roomIdleTtl, now, onError } = options;
  const key = keys.rooms;
  const maxRooms = options.maxRooms ?? 100_000;
  const touchEvery = options.touchEvery ?? 2000;
  /** Room → when this node last wrote it (only recent ones are kept). */
  const written = new Map<string, number>();
  /** Room → its latest activity not written yet (it came within `touchEvery` of the last write). */
  const pending = new Map<string, number>();
  /** Writes sent and not answered yet (a room's first write is not awaited by `touch`). */
  const inFlight = new Set<Promise<unknown>>();
  let flushTimer: NodeJS.Timeout | undefined;
  let trimmedAt = 0;

  function forgetOldWrites(at: number): void {
    // Map order is insertion order and writes re-insert: the oldest are first.
    for (const [roomId, when] of written) {
      if (at - when < touchEvery) break;
      written.delete(roomId);
    }
  }

  function write(entries: [string, number][]): Promise<unknown> {
    const at = now();
    const args: (string | number)[] = [];
    for (const [roomId, when] of entries) {
      written.delete(roomId);
      written.set(roomId, at);
      args.push(when, roomId);
    }
    // One key, so one slot: a MULTI is fine on a Cluster too.
    const done = redis
      .multi()
      .zadd(key, ...args)
      .pexpire(key, roomIdleTtl)
      .exec()
      .catch(onError)
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
    if (at - trimmedAt >= TRIM_EVERY_MS) trim(at).catch(onError);
    return done;
  }

  function flush(): Promise<unknown> {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (pending.size === 0) return Promise.resolve();
    const entries = [...pending];
    pending.clear();
    return write(entries);
  }

  async function trim(at: number): Promise<void> {
    trimmedAt = at;
    await redis
      .multi()
      .zremrangebyscore(key, '-inf', `(${at - roomIdleTtl}`)
      .zremrangebyrank(key, 0, -(maxRooms + 1))
      .exec();
  }

  /**
   * Index entries after the cursor, newest first, at most `want`. Equal scores come in member
   * order descending (Redis's own order for ZREVRANGEBYSCORE), which `compareIds` matches: the
   * cursor's own member and the greater ones of its score were on earlier pages and are skipped.
   */
  async function entries(query: RoomListQuery, want: number): Promise<RoomCursor[]> {
    const { cursor, after } = query;
    const cutoff = now() - roomIdleTtl;
    const max = cursor ? String(cursor.updatedAt) : '+inf';
    const min = after !== undefined && after >= cutoff ? `(${after}` : String(cutoff);
    const found: RoomCursor[] = [];
    let offset = 0;
    while (found.length < want) {
      const count = want - found.length;
      const reply = await redis.zrevrangebyscore(
        key,
        max,
        min,
        'WITHSCORES',
        'LIMIT',
        offset,
        count,
      );
      for (let i = 0; i < reply.length; i += 2) {
        const entry = { roomId: reply[i]!, updatedAt: Number(reply[i + 1]) };
        const seen =
          cursor &&
          entry.updatedAt === cursor.updatedAt &&
          compareIds(entry.roomId, cursor.roomId) >= 0;
        if (!seen) found.push(entry);
      }
      if (reply.length < count * 2) break; // the end of the index
      offset += reply.length / 2;
    }
    return found;
  }

  return {
    touch(roomId) {
      const at = now();
      forgetOldWrites(at);
      if (!written.has(roomId)) {
        void write([[roomId, at]]);
        return;
      }
      pending.set(roomId, at);
      if (flushTimer === undefined) {
        flushTimer = setTimeout(flush, touchEvery);
        flushTimer.unref();
      }
    },

    async list(query) {
      // This node's own activity is never behind in its own answers; other nodes' lags by at
      // most `touchEvery`. So every write sent so far is awaited, not only the pending ones:
      // order on the connection is not enough, as a write rejected while a Cluster node's
      // connection was opening is retried by ioredis ~100 ms later, after this read.
      await flush();
      await Promise.all(inFlight);
      // Keeps the index bounded: what the idle TTL forgot leaves it (once per first page).
      if (!query.cursor && query.after === undefined) await trim(now());
      // One more than asked tells whether a next page exists.
      const found = await entries(query, query.limit + 1);
      const page = found.slice(0, query.limit);
      const metas = await Promise.all(
        page.map(({ roomId }) =>
          redis.hmget(keys.room(roomId).meta, 'epoch', 'seq', 'peers', 'meeting', 'recording'),
        ),
      );
      const rooms: RoomSummary[] = [];
      metas.forEach(([epoch, seq, peers, meeting, recording], index) => {
        const { roomId, updatedAt } = page[index]!;
        if (!epoch || !seq || seq === '0') {
          // Expired (or never written): the index forgets it too.
          if (!epoch) redis.zrem(key, roomId).catch(onError);
          return;
        }
        rooms.push({
          roomId,
          epoch,
          seq: Number(seq),
          peers: Number(peers ?? 0),
          meetingActive: meeting === '1',
          recordingActive: recording === '1',
          updatedAt,
        });
      });
      return { rooms, nextCursor: found.length > query.limit ? page[page.length - 1]! : null };
    },

    close() {
      void flush();
    },
  };
}
