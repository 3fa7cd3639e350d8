/**
 * REST views of the engine: GET /rooms/:roomId (snapshot), GET /rooms (active rooms),
 * GET /admin/dead-letters.
 */
import type { FastifyInstance } from 'fastify';
import { ErrorCode, isValidRoomId } from '@roomcast/shared';
import type { Engine } from '../engine/engine.ts';
import { sendError } from '../http-errors.ts';

/** Registers the REST routes. */
export async function roomRoutes(app: FastifyInstance, { engine }: { engine: Engine }) {
  app.get('/rooms/:roomId', async (request, reply) => {
    const { roomId } = request.params as { roomId: string };
    if (!isValidRoomId(roomId))
      return sendError(reply, 400, ErrorCode.BAD_REQUEST, 'invalid room id');
    const { epoch, seq, state } = await engine.snapshot(roomId);
    return { roomId, epoch, seq, state };
  });

  app.get('/rooms', async () => ({ rooms: await engine.rooms() }));

  app.get('/admin/dead-letters', async () => ({ deadLetters: await engine.deadLetters() }));
}
