// Your app backend decides who may watch which room, and hands the browser a short-lived token.
// (Quoted in README.md; run by test/auth.test.ts.)
import Fastify from 'fastify';
import { createSubscriberToken } from '@roomcast/server';

export function buildBackend(
  currentUser: (cookie?: string) => { id: string; rooms: string[] } | undefined,
) {
  const app = Fastify();
  app.get('/api/roomcast-token', async (request, reply) => {
    const user = currentUser(request.headers.cookie); // your own session check
    if (!user) return reply.code(401).send({ error: 'log in first' });
    // ROOMCAST_TOKEN_SECRET must be the same value the roomcast server uses.
    const token = await createSubscriberToken({ rooms: user.rooms, ttl: '15m', sub: user.id });
    return { token };
  });
  return app;
}
