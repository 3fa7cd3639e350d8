/**
 * REST views of the engine: GET /rooms/:roomId (snapshot), GET /rooms (active rooms),
 * GET /admin/dead-letters. A room needs a token granting it; the lists need `*`.
 */
import type { FastifyInstance } from 'fastify';
import { ErrorCode, isValidRoomId } from '@roomcast/shared';
import type { Access } from '../auth/access.ts';
import { ALL_ROOMS } from '../auth/tokens.ts';
import type { Engine } from '../engine/engine.ts';
import { sendError } from '../http-errors.ts';

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
  { engine, access }: { engine: Engine; access: Access },
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

  app.get('/rooms', async (request, reply) => {
    if (!(await access.authorizeRooms(request, reply, [ALL_ROOMS]))) return reply;
    return { rooms: await engine.rooms() };
  });

  // Paged: `?limit=` (default 100, at most 1000) from `?offset=` (newest first); `next` is the
  // offset of the following page while there may be one.
  app.get('/admin/dead-letters', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const limit = pageNumber(query.limit, DEFAULT_PAGE);
    const offset = pageNumber(query.offset, 0);
    if (limit === undefined || limit < 1 || limit > MAX_PAGE || offset === undefined) {
      const message = `limit must be 1–${MAX_PAGE} and offset a whole number`;
      return sendError(reply, 400, ErrorCode.BAD_REQUEST, message);
    }
    if (!(await access.authorizeRooms(request, reply, [ALL_ROOMS]))) return reply;
    const page = await engine.deadLetters({ offset, limit: limit + 1 });
    const deadLetters = page.slice(0, limit);
    return page.length > limit ? { deadLetters, next: offset + limit } : { deadLetters };
  });
}
