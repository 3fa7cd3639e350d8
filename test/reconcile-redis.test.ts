/**
 * Reconcile with several nodes on one real redis-server: the lease gives each room one
 * reconciler at a time, and two nodes bootstrapping one room at once append its seed once.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createRedisEngine } from '../server/src/engine/redis-engine.ts';
import type { Engine } from '../server/src/engine/engine.ts';
import { reduceRoom } from '../shared/src/index.ts';
import type { RoomEvent, RoomState } from '../shared/src/index.ts';
import { startFakeHuddle01 } from './helpers/fake-huddle01.ts';
import type { FakeHuddle01 } from './helpers/fake-huddle01.ts';
import { meetingStarted } from './helpers/payloads.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import type { RedisServer } from './helpers/redis-server.ts';
import { TEST_KEY, postWebhook, startServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { connect } from './helpers/ws-client.ts';
import type { TestSocket } from './helpers/ws-client.ts';

const redis = await startRedisServer();
const KEY_A = 'node-a-api-key-0123456789';
const KEY_B = 'node-b-api-key-0123456789';
let prefixes = 0;

describe('reconcile on Redis: several nodes', { skip: redis === undefined }, () => {
  const server = redis as RedisServer;
  let fake: FakeHuddle01;
  const engines: Engine[] = [];
  const apps: TestServer[] = [];
  const sockets: TestSocket[] = [];

  before(async () => {
    fake = await startFakeHuddle01([KEY_A, KEY_B]);
  });
  after(async () => {
    await fake.close();
    await server.close();
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(engines.splice(0).map((engine) => engine.close()));
    fake.rooms.clear();
  });

  /** Two nodes on one key prefix, each calling the API with its own key. */
  async function twoNodes(interval: string): Promise<[TestServer, TestServer]> {
    const keyPrefix = `rc-reconcile-${process.pid}-${++prefixes}:`;
    const nodes = [];
    for (const key of [KEY_A, KEY_B]) {
      const engine = createRedisEngine({ url: server.url, keyPrefix });
      engines.push(engine);
      const app = await startServer(
        {
          huddle01ApiKeys: [key, TEST_KEY],
          reconcileInterval: interval,
          // A budget that never makes a call wait: the lease alone spaces a room's calls.
          reconcileBudget: 60_000,
          huddle01ApiUrl: fake.url,
        },
        engine,
      );
      apps.push(app);
      nodes.push(app);
    }
    return nodes as [TestServer, TestServer];
  }

  test('a lease is held by one engine until it lapses', async () => {
    const keyPrefix = `rc-lease-${process.pid}:`;
    const a = createRedisEngine({ url: server.url, keyPrefix });
    const b = createRedisEngine({ url: server.url, keyPrefix });
    engines.push(a, b);
    assert.equal(await a.lease!('lease-room', 300), true);
    assert.equal(await b.lease!('lease-room', 300), false);
    assert.equal(await a.lease!('lease-room', 300), false, 'not re-entrant: it lapses');
    assert.equal(await b.lease!('other-room', 300), true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(await b.lease!('lease-room', 300), true);
  });

  test('two nodes reconcile each room once per interval between them', async () => {
    const [a, b] = await twoNodes('1s');
    const startTime = Date.now() - 600_000;
    const rooms = ['lease-1-room', 'lease-2-room', 'lease-3-room'];
    for (const room of rooms) {
      fake.rooms.set(room, { live: { sessionId: `s-${room}`, startTime }, participants: [] });
      await postWebhook(a, 'meeting:started', meetingStarted(room, `s-${room}`, startTime));
    }
    fake.rooms.get(rooms[0]!)!.live!.livestreamCount = 1;
    // Each pass asks for a live room's participants (the project-wide list has no peer count).
    await fake.until(
      () => rooms.every((room) => fake.callsOf(room, 'participants').length >= 3),
      20_000,
    );
    for (const room of rooms) {
      const times = fake.callsOf(room, 'participants').map((call) => call.at);
      for (let i = 1; i < times.length; i++) {
        // Without the lease both nodes would call within milliseconds of each other; with it a
        // room's calls are an interval apart (half of it allowed for a loaded machine's jitter).
        assert.ok(
          times[i]! - times[i - 1]! >= 500,
          `${room}: calls ${times[i]! - times[i - 1]!} ms apart`,
        );
      }
    }
    // Huddle01's livestream count reached the shared state once, whichever node saw it.
    const snapshot = await (await b.get(`/rooms/${rooms[0]}`)).json();
    assert.equal(snapshot.seq, 2, 'meeting:started, then one reconcile:media');
    assert.equal(snapshot.state.meeting.media.livestreamCount, 1);
    assert.equal(snapshot.state.meeting.media.recordingCount, 0);
  });

  test('two nodes bootstrapping one room at once append its seed once', async () => {
    const [a, b] = await twoNodes('60s');
    const room = 'boot-both-room';
    const startTime = Date.now() - 600_000;
    const peers = ['p1', 'p2', 'p3'];
    fake.rooms.set(room, {
      live: { sessionId: 'sess-b', startTime },
      participants: peers.map((peerId, i) => ({ peerId, joinTime: startTime + i + 1 })),
    });
    const clients = await Promise.all([a, b].map((node) => connect(node.wsUrl)));
    sockets.push(...clients);
    for (const client of clients) client.send({ type: 'subscribe', room });
    await Promise.all(clients.map((client) => client.subscribed(room)));
    for (const client of clients) {
      await client.until(() => presentPeers(client, room).length === peers.length, 10_000);
      assert.deepEqual(presentPeers(client, room), peers);
    }
    const snapshot = await (await a.get(`/rooms/${room}`)).json();
    assert.equal(snapshot.seq, 1 + peers.length, 'meeting:started and one join per peer, once');
  });
});

function presentPeers(client: TestSocket, room: string): string[] {
  const snapshot = client.of(room, 'snapshot').at(-1);
  if (snapshot === undefined) return [];
  let state = snapshot.state as RoomState;
  for (const frame of client.of(room, 'event')) {
    state = reduceRoom(state, { event: frame.event, payload: frame.payload } as RoomEvent);
  }
  return Object.keys(state.peers).sort();
}
