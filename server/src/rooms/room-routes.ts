/**
 * REST views of the engine: GET /rooms/:roomId (snapshot), GET /rooms/:roomId/history (the
 * retained events), GET /rooms (active rooms), GET /admin/dead-letters. A room needs a token
 * granting it; the lists need `*`.
 */
import type { FastifyInstance } from 'fastify';
import { ErrorCode, isValidRoomId } from '@roomcast/shared';
import type { EventFrame, HistoryPage } from '@roomcast/shared';
import type { Access } from '../auth/access.ts';
import { ALL_ROOMS } from '../auth/tokens.ts';
import type { Engine, LogEntry } from '../engine/engine.ts';
import { sendError } from '../http-errors.ts';

/** Events a history page holds when `?limit=` is not given. */
const DEFAULT_HISTORY_LIMIT = 100;

/**
 * The last `limit` retained events of a room, newest last, through the engine's own `read`
 * (no engine method of its own): from `head - limit`, and when that is older than what is
 * retained (trimmed by age), a window halved until it is inside the history.
 */
export async function readHistory(
  engine: Engine,
  roomId: string,
  limit: number,
): Promise<HistoryPage> {
  const { epoch, seq } = await engine.snapshot(roomId);
  for (let window = Math.min(limit, seq); window > 0; window = Math.floor(window / 2)) {
    const result = await engine.read(roomId, { epoch, seq: seq - window });
    if (!result.recovered) {
      if (result.snapshot.epoch !== epoch) break; // a new log: nothing of the old one is kept
      continue;
    }
    // Events appended meanwhile are welcome, but the page keeps its size.
    const events = result.entries.slice(-limit).map(eventFrameOf);
    return { roomId, epoch, events };
  }
  return { roomId, epoch, events: [] };
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
}

/** Registers the REST routes. */
export async function roomRoutes(
  app: FastifyInstance,
  { engine, access, historySize }: RoomRouteOptions,
) {
  app.get('/rooms/:roomId', async (request, reply) => {
    const { roomId } = request.params as { roomId: string };
    if (!isValidRoomId(roomId)) {
      return sendError(reply, 400, ErrorCode.BAD_REQUEST, 'invalid room id');
    }
    if (!(await access.authorizeRooms(request, reply, [roomId]))) return reply;
    const { epoch, seq, state } = await engine.snapshot(roomId);
    return { roomId, epoch, seq, state };
  });

  app.get('/rooms/:roomId/history', async (request, reply) => {
    const { roomId } = request.params as { roomId: string };
    if (!isValidRoomId(roomId)) {
      return sendError(reply, 400, ErrorCode.BAD_REQUEST, 'invalid room id');
    }
    const raw = (request.query as Record<string, unknown>).limit;
    const limit = raw === undefined ? DEFAULT_HISTORY_LIMIT : Number(raw);
    if (!Number.isInteger(limit) || limit < 1) {
      return sendError(reply, 400, ErrorCode.BAD_REQUEST, '?limit= must be a positive integer');
    }
    if (!(await access.authorizeRooms(request, reply, [roomId]))) return reply;
    return readHistory(engine, roomId, Math.min(limit, historySize));
  });

  app.get('/rooms', async (request, reply) => {
    if (!(await access.authorizeRooms(request, reply, [ALL_ROOMS]))) return reply;
    return { rooms: await engine.rooms() };
  });

  app.get('/admin/dead-letters', async (request, reply) => {
    if (!(await access.authorizeRooms(request, reply, [ALL_ROOMS]))) return reply;
    return { deadLetters: await engine.deadLetters() };
  });
}
