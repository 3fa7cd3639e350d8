// roomcast inside an existing fastify app, at /realtime. (Quoted in README.md; run by test/plugin.test.ts.)
import Fastify from 'fastify';
import roomcast from '@roomcast/server';

export async function buildApp(secrets: { huddle01ApiKey: string; tokenSecret: string }) {
  const app = Fastify();
  const users = new Map([['ada', { password: 'lovelace', rooms: ['standup'] }]]); // your own users
  app.post('/login', async (request, reply) => {
    const { user, password } = request.body as { user: string; password: string };
    const account = users.get(user);
    if (account?.password !== password) return reply.code(401).send({ error: 'bad login' });
    const token = await app.roomcast.createSubscriberToken({
      rooms: account.rooms,
      ttl: '1h',
      sub: user,
    });
    return { token }; // the browser subscribes at /realtime/ws?token=…
  });
  // Huddle01 posts to /realtime/webhooks/huddle01; every roomcast route lives under the prefix.
  await app.register(roomcast, { prefix: '/realtime', ...secrets });
  app.roomcast.on('event', ({ roomId, seq, event }) =>
    app.log.info({ roomId, seq, event }, 'audit'),
  );
  return app;
}
