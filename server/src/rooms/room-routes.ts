/**
 * REST views of the engine: GET /rooms/:roomId (snapshot), GET /rooms/:roomId/history (the
 * retained events), GET /rooms (active rooms, paged), GET /admin/dead-letters. A room needs a token
 * granting it; the lists need `*`.
 */
import type { FastifyInstance } from 'fastify';
import { ErrorCode, isValidRoomId } from '@roomcast/shared';
import type { EventFrame, HistoryPage } from '@roomcast/shared';
import type { Access } from '../auth/access.ts';
import { ALL_ROOMS } from '../auth/tokens.ts';
import type { Engine, LogEntry } from '../engine/engine.ts';
import type { Occupancy } from '../hub/occupancy.ts';
import { httpError } from '../http-errors.ts';
import { parseRoomPage, readRoomsPage } from './room-pages.ts';

/** Events a history page holds when `?limit=` is not given. */
const DEFAULT_HISTORY_LIMIT = 100;

/**
 * The last `limit` retained events of a room, newest last, through the engine's own `read`
 * (no engine method of its own): from `head - limit`, and when that is older than what is
 * retained (trimmed by size or age), the longest window inside the history, found by bisection
 * (a dozen reads at most for the default 1,000 events).
 */
export async function readHistory(
  engine: Engine,
  roomId: string,
  limit: number,
): Promise<HistoryPage> {
  const { epoch, seq } = await engine.snapshot(roomId);
  const page = (entries: LogEntry[]): HistoryPage => ({
    roomId,
    epoch,
    // Events appended meanwhile are welcome, but the page keeps its size.
    events: entries.slice(-limit).map(eventFrameOf),
  });
  const attempt = async (window: number) => {
    const result = await engine.read(roomId, { epoch, seq: seq - window });
    if (result.recovered) return result.entries;
    // A new log (another epoch): nothing of the old one is kept, and no window will do.
    return result.snapshot.epoch === epoch ? undefined : [];
  };
  let bad = Math.min(limit, seq);
  if (bad === 0) return page([]);
  let best = await attempt(bad);
  if (best) return page(best);
  best = [];
  let good = 0;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    const entries = await attempt(middle);
    if (entries === undefined) bad = middle;
    else {
      good = middle;
      best = entries;
    }
  }
  return page(best);
}

function eventFrameOf(entry: LogEntry): EventFrame {
  const { roomId, epoch, seq, id, event, payload } = entry;
  return { type: 'event', room: roomId, epoch, seq, id, event, payload } as EventFrame;
}

/** Options of the REST routes. */
export interface RoomRouteOptions {
  engine: Engine;
  access: Access;
  /** The largest `?limit=` of a history page (the engine keeps no more): `ROOMCAST_HISTORY_SIZE`. */
  historySize: number;
  /** Who watches which room (`subscribers` in the snapshot and the room list). */
  occupancy: Occupancy;
}

/** Dead letters per page of `GET /admin/dead-letters`: by default, and at most. */
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** A whole number ≥ 0 from a query value; `fallback` when absent, undefined when malformed. */
function pageNumber(value: unknown, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  return typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : undefined;
}

/** Registers the REST routes. */
export async function roomRoutes(
  app: FastifyInstance,
  { engine, access, historySize, occupancy }: RoomRouteOptions,
) {
  app.get('/rooms/:roomId', async (request, reply) => {
    const { roomId } = request.params as { roomId: string };
    if (!isValidRoomId(roomId)) {
      return httpError(reply, ErrorCode.BAD_REQUEST, 'invalid room id');
    }
    if (!(await access.authorizeRooms(request, reply, [roomId]))) return reply;
    const [{ epoch, seq, state }, totals] = await Promise.all([
      engine.snapshot(roomId),
      occupancy.totals([roomId]),
    ]);
    return { roomId, epoch, seq, state, subscribers: totals.get(roomId) ?? 0 };
  });

  app.get('/rooms/:roomId/history', async (request, reply) => {
    const { roomId } = request.params as { roomId: string };
    if (!isValidRoomId(roomId)) {
      return httpError(reply, ErrorCode.BAD_REQUEST, 'invalid room id');
    }
    const raw = (request.query as Record<string, unknown>).limit;
    const limit = raw === undefined ? DEFAULT_HISTORY_LIMIT : Number(raw);
    if (!Number.isInteger(limit) || limit < 1) {
      return httpError(reply, ErrorCode.BAD_REQUEST, '?limit= must be a positive integer');
    }
    if (!(await access.authorizeRooms(request, reply, [roomId]))) return reply;
    return readHistory(engine, roomId, Math.min(limit, historySize));
  });

  // Paged, newest activity first: `?limit=` (default 50, at most 500) and `?cursor=` (the last
  // page's `nextCursor`); a cursor stays valid while rooms change (see RoomCursor).
  app.get('/rooms', async (request, reply) => {
    const { limit, cursor } = request.query as Record<string, unknown>;
    const query = parseRoomPage(limit, cursor);
    if ('code' in query) return httpError(reply, query.code, query.message);
    if (!(await access.authorizeRooms(request, reply, [ALL_ROOMS]))) return reply;
    return readRoomsPage(engine, occupancy, query);
  });

  // Paged: `?limit=` (default 100, at most 1000) from `?offset=` (newest first); `next` is the
  // offset of the following page while there may be one.
  app.get('/admin/dead-letters', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const limit = pageNumber(query.limit, DEFAULT_PAGE);
    const offset = pageNumber(query.offset, 0);
    if (limit === undefined || limit < 1 || limit > MAX_PAGE || offset === undefined) {
      const message = `limit must be 1–${MAX_PAGE} and offset a whole number`;
      return httpError(reply, ErrorCode.BAD_REQUEST, message);
    }
    if (!(await access.authorizeRooms(request, reply, [ALL_ROOMS]))) return reply;
    const page = await engine.deadLetters({ offset, limit: limit + 1 });
    const deadLetters = page.slice(0, limit);
    return page.length > limit ? { deadLetters, next: offset + limit } : { deadLetters };
  });
}
