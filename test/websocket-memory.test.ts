/**
 * What an idle subscribed WebSocket costs the server is what it keeps: after the upgrade, the
 * HTTP request (its headers, its URL with the token, fastify's request and reply) must be
 * collectable while the socket stays open. Checked with weak references and forced full
 * garbage collections on real sockets, with a token in the URL and with the host's
 * `authorize` (the one mode that keeps the request, for its cookies).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Fastify from 'fastify';
import type { IncomingMessage } from 'node:http';
import { roomcast } from '../server/src/plugin.ts';
import { startServer, TEST_KEY, TEST_SECRET } from './helpers/server.ts';
import { connect } from './helpers/ws-client.ts';
import type { TestSocket } from './helpers/ws-client.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full collections until `refs` are all gone, or `rounds` tried. */
async function collected(refs: WeakRef<object>[], rounds = 10): Promise<number> {
  for (let round = 0; round < rounds; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    if (refs.every((ref) => ref.deref() === undefined)) break;
  }
  return refs.filter((ref) => ref.deref() !== undefined).length;
}

/** Subscribes `count` sockets to rooms and returns them once each is live. */
async function subscribers(url: string, count: number): Promise<TestSocket[]> {
  const sockets: TestSocket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = await connect(url);
    sockets.push(socket);
    socket.send({ type: 'subscribe', room: `memory-${i}` });
    await socket.until((frames) => frames.some((frame) => frame.type === 'subscribed'));
  }
  return sockets;
}

test('an open subscribed WebSocket (token in the URL) keeps none of its upgrade request', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const requests: WeakRef<IncomingMessage>[] = [];
  server.app.server.on('upgrade', (request: IncomingMessage) =>
    requests.push(new WeakRef(request)),
  );

  const sockets = await subscribers(server.wsUrl, 5);
  t.after(() => sockets.forEach((socket) => socket.close()));
  assert.equal(requests.length, 5);
  assert.equal(await collected(requests), 0, 'every upgrade request was collected');

  // The sockets are still served after the collections.
  sockets[0]!.send({ type: 'subscribe', room: 'memory-again' });
  await sockets[0]!.until((frames) =>
    frames.some((frame) => frame.type === 'subscribed' && frame.room === 'memory-again'),
  );
});

test("with the host's authorize, the request is kept (its cookies are read on each subscribe)", async (t) => {
  const app = Fastify();
  t.after(() => app.close());
  const seen: string[] = [];
  await app.register(roomcast, {
    huddle01ApiKey: TEST_KEY,
    tokenSecret: TEST_SECRET,
    authorize: (request, room) => {
      seen.push(`${String(request.headers.cookie)} ${room}`);
      return true;
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const requests: WeakRef<IncomingMessage>[] = [];
  app.server.on('upgrade', (request: IncomingMessage) => requests.push(new WeakRef(request)));

  const socket = await connect(`ws://127.0.0.1:${port}/ws`, { headers: { cookie: 'session=a' } });
  t.after(() => socket.close());
  assert.equal(await collected(requests, 3), 1, 'the request stays while the socket is open');
  socket.send({ type: 'subscribe', room: 'cookie-room' });
  await socket.until((frames) => frames.some((frame) => frame.type === 'subscribed'));
  assert.deepEqual(seen, ['session=a cookie-room']);
});
