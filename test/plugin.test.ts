/**
 * roomcast embedded in a host fastify app: the README example end to end, two instances under
 * two prefixes, close behaviour, the `authorize` option and the event hook.
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { buildApp as buildExampleApp } from '../docs/examples/embedded-app.ts';
import { roomcast } from '../server/src/plugin.ts';
import { createMemoryEngine } from '../server/src/engine/memory-engine.ts';
import type { RoomcastEvent } from '../server/src/event-hook.ts';
import { connect, eventSeqs } from './helpers/ws-client.ts';
import { TestEventSource } from './helpers/sse-client.ts';
import { peerJoined } from './helpers/payloads.ts';
import { TEST_KEY, TEST_SECRET, postWebhook, webhookId } from './helpers/server.ts';
import { until } from './helpers/wait.ts';

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

const secrets = { huddle01ApiKey: TEST_KEY, tokenSecret: TEST_SECRET };

describe('roomcast as a plugin', () => {
  test('the README example: log in, get a token, subscribe at /realtime/ws, receive a webhook', async (t) => {
    const app = await buildExampleApp(secrets);
    const host = await listen(app);
    try {
      const refused = await fetch(`http://${host}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'ada', password: 'nope' }),
      });
      assert.equal(refused.status, 401);
      const login = await fetch(`http://${host}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'ada', password: 'lovelace' }),
      });
      const { token } = (await login.json()) as { token: string };
      const client = await connect(`ws://${host}/realtime/ws?token=${token}`);
      t.after(() => client.close());
      client.send({ type: 'subscribe', room: 'standup' });
      client.send({ type: 'subscribe', room: 'board-meeting' });
      await client.subscribed('standup');
      const answer = await postWebhook(
        { url: `http://${host}/realtime` },
        'peer:joined',
        peerJoined('standup', 'p1'),
      );
      assert.deepEqual(answer.body, { ok: true, roomId: 'standup', seq: 1 });
      await client.until((frames) => eventSeqs(frames, 'standup').length === 1);
      assert.equal(client.frames.find((f) => f.type === 'error')?.code, 'FORBIDDEN');
      assert.equal((await fetch(`http://${host}/realtime/healthz`)).status, 200);
      assert.equal(
        (await fetch(`http://${host}/healthz`)).status,
        404,
        'nothing lands outside the prefix',
      );
      client.close();
    } finally {
      await app.close();
    }
  });

  test('two instances under two prefixes stay independent', async (t) => {
    const app = Fastify();
    await app.register(roomcast, { ...secrets, prefix: '/a' });
    await app.register(roomcast, { ...secrets, prefix: '/b', decorator: 'roomcastB' });
    const host = await listen(app);
    try {
      const token = await app.roomcast.createSubscriberToken({ rooms: ['*'] });
      const onA = await connect(`ws://${host}/a/ws?token=${token}`);
      t.after(() => onA.close());
      const onB = await connect(`ws://${host}/b/ws?token=${token}`);
      t.after(() => onB.close());
      for (const client of [onA, onB]) client.send({ type: 'subscribe', room: 'shared-name' });
      await onA.subscribed('shared-name');
      await onB.subscribed('shared-name');
      await postWebhook(
        { url: `http://${host}/a` },
        'peer:joined',
        peerJoined('shared-name', 'only-a'),
      );
      await onA.until((frames) => eventSeqs(frames, 'shared-name').length === 1);
      // B's own event is the probe: had A's event reached B, B would hold it before its own.
      await postWebhook(
        { url: `http://${host}/b` },
        'peer:joined',
        peerJoined('shared-name', 'only-b'),
      );
      await onB.until((frames) => eventSeqs(frames, 'shared-name').length === 1);
      assert.deepEqual(
        onB.of('shared-name', 'event').map((frame) => (frame.payload as { id: string }).id),
        ['only-b'],
      );
      assert.equal(eventSeqs(onA.frames, 'shared-name').length, 1, 'nor B’s event on A');
      assert.equal((await app.roomcast.room('shared-name')).seq, 1);
      assert.equal(
        (
          await (app as unknown as Record<string, typeof app.roomcast>).roomcastB!.room(
            'shared-name',
          )
        ).seq,
        1,
      );
      onA.close();
      onB.close();
    } finally {
      await app.close();
    }
  });

  test('app.close() closes WS with 1012, ends SSE streams, and leaves a handed-in engine open', async (t) => {
    const engine = createMemoryEngine();
    const app = Fastify();
    t.after(() => app.close());
    await app.register(roomcast, { ...secrets, engine });
    const host = await listen(app);
    const token = await app.roomcast.createSubscriberToken({ rooms: ['*'] });
    const client = await connect(`ws://${host}/ws?token=${token}`);
    t.after(() => client.close());
    client.send({ type: 'subscribe', room: 'x' });
    await client.subscribed('x');
    const stream = await fetch(`http://${host}/rooms/x/events?token=${token}`);
    const streamText = stream.text(); // resolves when the server ends the stream
    await app.close();
    assert.equal(await client.closed, 1012);
    assert.match(await streamText, /retry: \d+\n\n$/, 'the SSE stream ends with a retry hint');
    await engine.ping(); // still usable: the plugin closes only what it opened
    await engine.close();
  });

  test('app.close() ends a connection that never sent a request (a browser preconnect)', async (t) => {
    // Registered first, so it runs first: a regression fails in 10 s, not at the file's timeout.
    let spare: Socket | undefined;
    t.after(() => spare?.destroy());
    const app = Fastify();
    t.after(() => app.close());
    await app.register(roomcast, secrets);
    const host = await listen(app);
    const [hostname, port] = host.split(':');
    // Node's server.close() leaves such a connection open; closing waited until the browser
    // gave up on it (minutes). The client side sees its end, and close() completes.
    const socket = (spare = tcpConnect(Number(port), hostname));
    await new Promise((resolve) => socket.once('connect', resolve));
    const ended = new Promise((resolve) => socket.once('close', resolve));
    const stuck = new Promise((_, reject) => {
      setTimeout(() => reject(new Error('app.close() still waiting after 10 s')), 10_000).unref();
    });
    await Promise.race([app.close(), stuck]);
    await ended;
    assert.equal(socket.bytesRead, 0, 'nothing was written to it');
  });

  test('authorize: the host app decides by its own session cookie (WS and SSE)', async (t) => {
    const app = Fastify();
    const sessions = new Map([['s-ada', ['standup']]]);
    await app.register(roomcast, {
      ...secrets,
      authorize: async (request, roomId) => {
        const session = /session=([\w-]+)/.exec(request.headers.cookie ?? '')?.[1];
        return sessions.get(session ?? '')?.includes(roomId) ?? false;
      },
    });
    const host = await listen(app);
    try {
      const client = await connect(`ws://${host}/ws`, { headers: { cookie: 'session=s-ada' } });
      t.after(() => client.close());
      client.send({ type: 'subscribe', room: 'standup' });
      client.send({ type: 'subscribe', room: 'secret' });
      await client.subscribed('standup');
      await client.until((frames) => frames.some((f) => f.type === 'error'));
      assert.equal(client.frames.find((f) => f.type === 'error')?.room, 'secret');
      assert.equal(client.frames.find((f) => f.type === 'error')?.code, 'FORBIDDEN');
      client.close();

      assert.equal(
        (
          await fetch(`http://${host}/rooms/standup/events`, {
            headers: { cookie: 'session=nobody' },
          })
        ).status,
        403,
      );
      const sse = new TestEventSource(`http://${host}/rooms/standup/events`, {
        cookie: 'session=s-ada',
      });
      t.after(() => sse.close());
      await sse.until((messages) => messages.some((m) => m.type === 'subscribed'));
      sse.close();
      // A roomcast token still works next to the host's check.
      const token = await app.roomcast.createSubscriberToken({ rooms: ['secret'] });
      assert.equal(
        (
          await fetch(`http://${host}/rooms/secret`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).status,
        200,
      );
    } finally {
      await app.close();
    }
  });

  test('the event hook sees every accepted event once, in order, after the append', async () => {
    const app = Fastify();
    await app.register(roomcast, { ...secrets, trackHold: 5000 });
    const seen: RoomcastEvent[] = [];
    app.roomcast.on('event', async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 1)); // a slow handler keeps the order
      seen.push(event);
    });
    const host = await listen(app);
    try {
      const base = { url: `http://${host}` };
      const duplicate = webhookId();
      await postWebhook(base, 'peer:trackPublished', { id: 'p0', track: 'audio' }); // held until p0 joins
      await postWebhook(base, 'peer:joined', peerJoined('hook', 'p0'));
      for (let i = 1; i < 20; i++)
        await postWebhook(base, 'peer:joined', peerJoined('hook', `p${i}`));
      await postWebhook(base, 'peer:joined', peerJoined('hook', 'dup'), { id: duplicate });
      await postWebhook(base, 'peer:joined', peerJoined('hook', 'dup'), { id: duplicate });
      // A later event is the probe: the hook would have seen a second copy before it.
      await postWebhook(base, 'peer:joined', peerJoined('hook', 'probe'));
      await until(() => seen.length >= 23, { what: '23 events at the hook' });
      assert.deepEqual(
        seen.map((e) => e.seq),
        Array.from({ length: 23 }, (_, i) => i + 1),
      );
      assert.equal(seen[1]?.event, 'peer:trackPublished');
      assert.ok(seen.every((e) => e.roomId === 'hook'));
    } finally {
      await app.close();
    }
  });
});
