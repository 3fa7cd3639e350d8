/**
 * Several roomcast nodes (child processes) on one real redis-server: cross-node fan-out, one
 * order per room, cluster-wide dedup, a node killed with -9 mid-stream, and a Redis outage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import Fastify from 'fastify';
import { roomcast } from '../server/src/plugin.ts';
import { createRedisEngine } from '../server/src/engine/redis-engine.ts';
import { connect, eventSeqs } from './helpers/ws-client.ts';
import type { TestSocket } from './helpers/ws-client.ts';
import { peerJoined } from './helpers/payloads.ts';
import { startNode } from './helpers/node-process.ts';
import type { NodeProcess } from './helpers/node-process.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import type { RedisServer } from './helpers/redis-server.ts';
import { TEST_KEY, TEST_SECRET, postWebhook, testToken, webhookId } from './helpers/server.ts';

const redis = await startRedisServer({ persistent: true });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function subscriber(node: NodeProcess, room: string, since?: string): Promise<TestSocket> {
  const client = await connect(node.wsUrl(await testToken()));
  client.send({ type: 'subscribe', room, ...(since ? { since } : {}) });
  await client.subscribed(room);
  return client;
}

describe('several nodes on Redis', { skip: redis === undefined }, () => {
  const server = redis as RedisServer;
  let nodes: NodeProcess[];
  before(async () => {
    nodes = await Promise.all([1, 2, 3].map(() => startNode({ REDIS_URL: server.url })));
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    await server.close();
  });

  test('a webhook on A reaches subscribers on B and C', async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const onB = await subscriber(b, 'x-fan');
    const onC = await subscriber(c, 'x-fan');
    const answer = await postWebhook(a, 'peer:joined', peerJoined('x-fan', 'p1'));
    assert.deepEqual(answer.body, { ok: true, roomId: 'x-fan', seq: 1 });
    for (const client of [onB, onC]) {
      await client.until((frames) => eventSeqs(frames, 'x-fan').length === 1);
      client.close();
    }
  });

  test('concurrent webhooks for one room split across nodes arrive in one order everywhere', async () => {
    const clients = await Promise.all(nodes.map((node) => subscriber(node, 'x-order')));
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        postWebhook(nodes[i % 3]!, 'peer:joined', peerJoined('x-order', `p${i}`)),
      ),
    );
    assert.deepEqual(
      answers.filter((answer) => answer.status !== 200),
      [],
    );
    assert.deepEqual(
      answers.map((answer) => answer.body.seq as number).sort((x, y) => x - y),
      Array.from({ length: 150 }, (_, i) => i + 1),
    );
    const orders = [];
    for (const client of clients) {
      await client.until((frames) => eventSeqs(frames, 'x-order').length === 150, 15_000);
      assert.deepEqual(
        eventSeqs(client.frames, 'x-order'),
        Array.from({ length: 150 }, (_, i) => i + 1),
      );
      orders.push(client.frames.filter((f) => f.type === 'event').map((f) => f.id));
      client.close();
    }
    assert.deepEqual(orders[1], orders[0]);
    assert.deepEqual(orders[2], orders[0]);
  });

  test('a duplicate id sent to two nodes is accepted once', async () => {
    const id = webhookId();
    const answers = await Promise.all([
      postWebhook(nodes[0]!, 'peer:joined', peerJoined('x-dup', 'p'), { id }),
      postWebhook(nodes[1]!, 'peer:joined', peerJoined('x-dup', 'p'), { id }),
    ]);
    assert.equal(answers.filter((answer) => answer.body.seq === 1).length, 1);
    assert.equal(answers.filter((answer) => answer.body.duplicate === true).length, 1);
  });

  test('kill -9 a node mid-stream: its subscriber resumes on another node with no gap', async (t) => {
    const victim = await startNode({ REDIS_URL: server.url });
    t.after(() => victim.kill());
    const client = await subscriber(victim, 'x-kill');
    let posting = true;
    let sent = 0;
    const poster = (async () => {
      while (posting) {
        const answer = await postWebhook(
          nodes[0]!,
          'peer:joined',
          peerJoined('x-kill', `p${sent}`),
        );
        assert.equal(answer.status, 200);
        sent++;
        await sleep(5);
      }
    })();
    await client.until((frames) => eventSeqs(frames, 'x-kill').length >= 20);
    await victim.kill('SIGKILL');
    await client.closed;
    const seen = eventSeqs(client.frames, 'x-kill');
    const last = client.frames.filter((f) => f.type === 'event').at(-1)!;
    await sleep(100); // events keep coming while the client is away
    const resumed = await subscriber(nodes[1]!, 'x-kill', `${last.epoch}:${last.seq}`);
    await sleep(100);
    posting = false;
    await poster;
    await resumed.until((frames) => {
      const seqs = eventSeqs(frames, 'x-kill');
      return seqs.at(-1) === sent;
    }, 10_000);
    assert.equal(resumed.of('x-kill', 'subscribed')[0]!.recovered, true);
    assert.equal(resumed.of('x-kill', 'snapshot').length, 0);
    const stitched = [...seen, ...eventSeqs(resumed.frames, 'x-kill')];
    assert.deepEqual(
      stitched,
      Array.from({ length: sent }, (_, i) => i + 1),
    );
    resumed.close();
  });

  test('Redis stops mid-stream: 503s and not ready while down; afterwards delivery goes on with no gap', async () => {
    const [a, b] = nodes as [NodeProcess, NodeProcess];
    const client = await subscriber(b, 'x-outage');
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await postWebhook(a, 'peer:joined', peerJoined('x-outage', `before${i}`))).status,
        200,
      );
    await client.until((frames) => eventSeqs(frames, 'x-outage').length === 5);
    await server.stop();
    const during = await postWebhook(a, 'peer:joined', peerJoined('x-outage', 'during'));
    assert.equal(during.status, 503);
    assert.equal(during.body.error?.code, 'ENGINE_UNAVAILABLE');
    assert.equal((await fetch(`${a.url}/readyz`)).status, 503);
    assert.equal((await fetch(`${a.url}/healthz`)).status, 200);
    await server.start();
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = (await fetch(`${a.url}/readyz`)).status === 200;
      if (!ready) await sleep(100);
    }
    assert.ok(ready, 'ready again after Redis returned');
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await postWebhook(a, 'peer:joined', peerJoined('x-outage', `after${i}`))).status,
        200,
      );
    await client.until((frames) => eventSeqs(frames, 'x-outage').length === 10, 10_000);
    assert.deepEqual(
      eventSeqs(client.frames, 'x-outage'),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    assert.equal(client.closeCode, undefined, 'the subscriber stayed connected');
    client.close();
  });
});

describe('embedding with the app’s own Redis client', { skip: redis === undefined }, () => {
  test('app.close() closes sockets with 1012 and leaves a handed-in Redis client open', async (t) => {
    const server = (await startRedisServer()) as RedisServer;
    const client = new Redis(server.url);
    const engine = createRedisEngine({ client });
    try {
      const app = Fastify();
      t.after(() => app.close());
      await app.register(roomcast, {
        huddle01ApiKey: TEST_KEY,
        tokenSecret: TEST_SECRET,
        engine,
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = (app.server.address() as { port: number }).port;
      const socket = await connect(`ws://127.0.0.1:${port}/ws?token=${await testToken()}`);
      t.after(() => socket.close());
      socket.send({ type: 'subscribe', room: 'embedded' });
      await socket.subscribed('embedded');
      const answer = await postWebhook(
        { url: `http://127.0.0.1:${port}` },
        'peer:joined',
        peerJoined('embedded', 'p'),
      );
      assert.equal(answer.status, 200);
      await app.close();
      assert.equal(await socket.closed, 1012);
      assert.equal(await client.ping(), 'PONG', 'the handed-in client is still open');
      await engine.close();
      assert.equal(await client.ping(), 'PONG', 'closing the engine leaves the client open too');
    } finally {
      await engine.close(); // the app owns the engine it handed in; closing it leaves the client
      client.disconnect();
      await server.close();
    }
  });
});
