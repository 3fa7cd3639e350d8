/**
 * REST views of the engine: GET /rooms/:roomId (snapshot), GET /rooms (active rooms),
 * GET /admin/dead-letters. A room needs a token granting it; the lists need `*`.
 */
import type { FastifyInstance } from 'fastify';
import { ErrorCode, isValidRoomId } from '@roomcast/shared';
import type { Access } from '../auth/access.ts';
import { ALL_ROOMS } from '../auth/tokens.ts';
import type { Engine } from '../engine/engine.ts';
import type { Occupancy } from '../hub/occupancy.ts';
import { sendError } from '../http-errors.ts';

/** Registers the REST routes. */
export async function roomRoutes(
  app: FastifyInstance,
  { engine, access, occupancy }: { engine: Engine; access: Access; occupancy: Occupancy },
) {
  app.get('/rooms/:roomId', async (request, reply) => {
    const { roomId } = request.params as { roomId: string };
    if (!isValidRoomId(roomId)) {
      return sendError(reply, 400, ErrorCode.BAD_REQUEST, 'invalid room id');
    }
    if (!(await access.authorizeRooms(request, reply, [roomId]))) return reply;
    const [{ epoch, seq, state }, totals] = await Promise.all([
      engine.snapshot(roomId),
      occupancy.totals([roomId]),
    ]);
    return { roomId, epoch, seq, state, subscribers: totals.get(roomId) ?? 0 };
  });

  app.get('/rooms', async (request, reply) => {
    if (!(await access.authorizeRooms(request, reply, [ALL_ROOMS]))) return reply;
    const rooms = await engine.rooms();
    const totals = await occupancy.totals(rooms.map((room) => room.roomId));
    return { rooms: rooms.map((room) => ({ ...room, subscribers: totals.get(room.roomId) ?? 0 })) };
  });

  app.get('/admin/dead-letters', async (request, reply) => {
    if (!(await access.authorizeRooms(request, reply, [ALL_ROOMS]))) return reply;
    return { deadLetters: await engine.deadLetters() };
  });
}
