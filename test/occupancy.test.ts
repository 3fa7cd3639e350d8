/**
 * Occupancy through real sockets: who watches a room (WebSocket + SSE), in the snapshot route
 * and the room list, pushed as `occupancy` frames to subscribers that ask (only on change, at
 * most one a second per room), summed across two nodes sharing Redis, back to zero when
 * everyone leaves, and in the metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedisNodes } from './helpers/redis-nodes.ts';
import type { RedisNodes } from './helpers/redis-nodes.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import { startServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { connect } from './helpers/ws-client.ts';
import type { Frame, TestSocket } from './helpers/ws-client.ts';
import { readUntil, until } from './helpers/wait.ts';

async function watcher(server: TestServer, room: string, occupancy = true): Promise<TestSocket> {
  const socket = await connect(server.wsUrl);
  socket.send({ type: 'subscribe', room, ...(occupancy ? { occupancy: true } : {}) });
  await socket.until((frames) => frames.some((f) => f.type === 'subscribed' && f.room === room));
  return socket;
}

const counts = (frames: Frame[], room: string) =>
  frames.filter((f) => f.type === 'occupancy' && f.room === room).map((f) => f.subscribers);

async function subscribersOf(server: TestServer, room: string): Promise<number> {
  const body = (await (await server.get(`/rooms/${room}`)).json()) as { subscribers: number };
  return body.subscribers;
}

describe('occupancy, one node', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test('counts WS and SSE subscribers, pushes changes to those who asked, back to zero', async (t) => {
    const started = Date.now();
    const a = await watcher(server, 'occ-a');
    t.after(() => a.socket.terminate());
    await a.until((frames) => counts(frames, 'occ-a').at(-1) === 1, 5000, 'occupancy 1');

    const quiet = await watcher(server, 'occ-a', false);
    const sse = new AbortController();
    t.after(() => sse.abort());
    const stream = await fetch(server.authed('/rooms/occ-a/events?occupancy=1'), {
      signal: sse.signal,
    });
    const reader = stream.body!.getReader();
    await a.until((frames) => counts(frames, 'occ-a').at(-1) === 3, 5000, 'occupancy 3');
    assert.equal(await subscribersOf(server, 'occ-a'), 3);
    const list = (await (await server.get('/rooms')).json()) as {
      rooms: { roomId: string; subscribers: number }[];
    };
    // The room list holds rooms with events; an unknown room is not listed, but counted above.
    assert.ok(Array.isArray(list.rooms));

    const text = await readUntil(
      reader,
      (read) => /event: occupancy\ndata: .*"subscribers":3/.test(read),
      {
        what: 'the SSE occupancy message',
      },
    );
    assert.match(text, /event: occupancy\n/);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /roomcast_room_subscribers\{room="occ-a"\} 3/);

    quiet.socket.terminate();
    sse.abort();
    await a.until((frames) => counts(frames, 'occ-a').at(-1) === 1, 5000, 'back to 1');
    // Only on change, and at most one a second per room (one frame at subscribe time too).
    const seen = counts(a.frames, 'occ-a');
    for (let i = 1; i < seen.length; i++) assert.notEqual(seen[i], seen[i - 1]);
    assert.ok(seen.length <= Math.ceil((Date.now() - started) / 1000) + 1, String(seen));
    assert.deepEqual(
      counts(quiet.frames, 'occ-a'),
      [],
      'no frames to a subscriber that did not ask',
    );
    a.socket.terminate();
    await until(async () => (await subscribersOf(server, 'occ-a')) === 0, {
      timeoutMs: 8000,
      what: 'no subscriber left',
      intervalMs: 50,
    });
  });
});

const redis = await startRedisServer();
describe('occupancy, two nodes on one Redis', { skip: !redis }, () => {
  let a: TestServer;
  let b: TestServer;
  let nodes: RedisNodes | undefined;
  before(async () => {
    nodes = await startRedisNodes(redis!.url, 'occ');
    ({ a, b } = nodes);
  });
  after(async () => {
    await nodes?.close();
    await redis?.close();
  });

  test('subscribers on both nodes are summed; a node that closes is withdrawn', async (t) => {
    const onA = await watcher(a, 'occ-r');
    t.after(() => onA.socket.terminate());
    const onB = [await watcher(b, 'occ-r', false), await watcher(b, 'occ-r', false)];
    t.after(() => onB.forEach((socket) => socket.socket.terminate()));
    await onA.until((frames) => counts(frames, 'occ-r').at(-1) === 3, 8000, 'occupancy 3');
    assert.equal(await subscribersOf(a, 'occ-r'), 3);
    await until(async () => (await subscribersOf(b, 'occ-r')) === 3, {
      timeoutMs: 8000,
      what: 'three subscribers seen from node b',
      intervalMs: 50,
    });
    for (const socket of onB) socket.socket.terminate();
    await onA.until((frames) => counts(frames, 'occ-r').at(-1) === 1, 8000, 'back to 1');
  });
});
