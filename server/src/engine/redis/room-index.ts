/**
 * Reads of the Redis room index (`<prefix>rooms`: sorted set, room id → last activity, ms) for
 * `listRooms`: one ZREVRANGEBYSCORE per page (more only when many rooms share the cursor's
 * millisecond), then one HMGET per listed room, all sent at once. O(log n + page) per call.
 * How the index is written (ZADD after each append) lives in redis-engine.ts; only this module
 * reads it, so a change of layout touches these two places.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RoomCursor, RoomListPage, RoomListQuery, RoomSummary } from '../engine.ts';
import { compareIds } from '../room-order.ts';
import type { KeyLayout } from './keys.ts';

/** Options of the reader. */
export interface RoomIndexOptions {
  redis: Redis | Cluster;
  keys: KeyLayout;
  /** Rooms idle longer than this are not listed (and the first page drops them from the index). */
  roomIdleTtl: number;
  now: () => number;
  onError: (error: unknown) => void;
}

/** The reader's API. */
export interface RoomIndex {
  list(query: RoomListQuery): Promise<RoomListPage>;
}

/** Creates the reader. */
export function createRoomIndex(options: RoomIndexOptions): RoomIndex {
  const { redis, keys, roomIdleTtl, now, onError } = options;

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
        keys.rooms,
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
    async list(query) {
      if (!query.cursor && query.after === undefined) {
        // Keeps the index bounded: what the idle TTL forgot leaves it (one call per first page).
        const cutoff = now() - roomIdleTtl;
        await redis.zremrangebyscore(keys.rooms, '-inf', `(${cutoff}`);
      }
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
          if (!epoch) redis.zrem(keys.rooms, roomId).catch(onError);
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
  };
}
