/**
 * Attacks on the subscriber side, through real sockets (docs/reliability.md, "Attacks"): a
 * client that stops reading and floods subscribe frames, connection slots taken and never given
 * back, X-Forwarded-For chosen by the client. After each, the server still serves and its
 * gauges (connections, subscriptions, active rooms) are back to zero.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect } from './helpers/ws-client.ts';
import { peerJoined } from './helpers/payloads.ts';
import Fastify from 'fastify';
import { roomcast } from '../server/src/plugin.ts';
import { configFromEnv } from '../server/src/config.ts';
import { TEST_KEY, TEST_SECRET, postWebhook, startServer, testToken } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import {
  gaugesBackToZero,
  rawExchange,
  rawSocketOf,
  sleep,
  stillServes,
} from './helpers/attack.ts';

const KiB = 1024;

/** Server-side bytes queued for every WebSocket client (what the attack makes the server hold). */
function serverBacklogs(server: TestServer): number[] {
  return [...server.app.websocketServer.clients].map((client) => client.bufferedAmount);
}

/** A room whose snapshot is about `peers` × `metadataBytes`. */
async function bigRoom(server: TestServer, room: string, peers: number, metadataBytes: number) {
  const metadata = 'm'.repeat(metadataBytes);
  for (let i = 0; i < peers; i++) {
    const answer = await postWebhook(
      server,
      'peer:joined',
      peerJoined(room, `p${i}`, 1_790_000_000_000 + i, undefined, { metadata }),
    );
    assert.equal(answer.status, 200);
  }
}

describe('attack: a client that stops reading and floods subscribe (item 1)', () => {
  test('every queued byte counts: the backlog stays under the limit plus one snapshot', async (t) => {
    const limit = 64 * KiB;
    // A generous subscribe rate: what is checked here is the byte accounting alone.
    const server = await startServer({ maxBufferedBytes: limit, subscribeRate: 10_000 });
    try {
      await bigRoom(server, 'big', 20, 2 * KiB); // a snapshot of about 45 KB, 20 events of history
      const token = await testToken(['big']); // a one-room token is all it takes
      const attacker = await connect(`${server.url.replace('http', 'ws')}/ws?token=${token}`);
      t.after(() => attacker.close());
      attacker.send({ type: 'subscribe', room: 'big' });
      await attacker.subscribed('big');
      const snapshotBytes = JSON.stringify(attacker.of('big', 'snapshot')[0]).length;
      const epoch = String(attacker.of('big', 'snapshot')[0]!.epoch);
      rawSocketOf(attacker).pause(); // reads nothing more
      // 150 subscribes (half of them asking for the whole history again): about 7 MB of
      // snapshots and replays if each were queued.
      for (let i = 0; i < 150; i++) {
        attacker.send(
          i % 2 === 0
            ? { type: 'subscribe', room: 'big' }
            : { type: 'subscribe', room: 'big', since: `${epoch}:0` },
        );
        await sleep(2);
      }
      await sleep(300);
      const [backlog = 0] = serverBacklogs(server);
      assert.ok(
        backlog <= limit + snapshotBytes + KiB,
        `the server holds ${backlog} bytes for a client that reads nothing (limit ${limit} + one snapshot ${snapshotBytes})`,
      );
      attacker.close();
      await attacker.closed;
      await gaugesBackToZero(server.url);
      await stillServes(server.wsUrl);
    } finally {
      await server.close();
    }
  });

  test('a resume whose replay is many times the limit is paced, not dropped, and has no gap', async (t) => {
    const limit = 16 * KiB;
    const server = await startServer({ maxBufferedBytes: limit });
    try {
      await bigRoom(server, 'replay', 40, 4 * KiB); // a replay of about 170 KB, 10× the limit
      const client = await connect(server.wsUrl);
      t.after(() => client.close());
      client.send({ type: 'subscribe', room: 'replay', since: 'x:0' });
      await client.subscribed('replay');
      const epoch = String(client.of('replay', 'snapshot')[0]!.epoch);
      const resumed = await connect(server.wsUrl);
      t.after(() => resumed.close());
      resumed.send({ type: 'subscribe', room: 'replay', since: `${epoch}:0` });
      await resumed.subscribed('replay');
      const seqs = resumed.of('replay', 'event').map((frame) => frame.seq);
      assert.deepEqual(
        seqs,
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      assert.equal(resumed.of('replay', 'subscribed')[0]!.recovered, true);
      assert.equal(resumed.closeCode, undefined, 'not dropped as slow');
      client.close();
      resumed.close();
      await Promise.all([client.closed, resumed.closed]);
      await gaugesBackToZero(server.url);
    } finally {
      await server.close();
    }
  });

  test('subscribe frames are rate-limited per connection: a flood is refused, then closed', async (t) => {
    const server = await startServer({ subscribeRate: 20, maxSubscriptions: 10 });
    try {
      const client = await connect(server.wsUrl);
      t.after(() => client.close());
      for (let i = 0; i < 200; i++) client.send({ type: 'subscribe', room: 'flood' });
      const code = await Promise.race([client.closed, sleep(5000).then(() => 'still open')]);
      assert.equal(code, 1008, 'closed for too many refused frames');
      const limited = client.frames.filter((f) => f.type === 'error' && f.code === 'RATE_LIMITED');
      assert.ok(limited.length >= 1, 'RATE_LIMITED error frames');
      assert.ok(
        client.of('flood', 'snapshot').length <= 20,
        `${client.of('flood', 'snapshot').length} snapshots for 200 subscribes`,
      );
      await gaugesBackToZero(server.url);
      await stillServes(server.wsUrl);
    } finally {
      await server.close();
    }
  });
});

/** An upgrade request for /ws written by hand. */
function upgradeRequest(path: string, key = 'dGhlIHNhbXBsZSBub25jZQ=='): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`
  );
}

/** After an attack from this IP: a WebSocket and an SSE stream still open (no slot kept). */
async function notLockedOut(server: TestServer): Promise<void> {
  await stillServes(server.wsUrl);
  const controller = new AbortController();
  const response = await fetch(server.authed('/rooms/after/events'), { signal: controller.signal });
  assert.equal(response.status, 200, 'an SSE stream opens');
  controller.abort();
  await response.body?.cancel().catch(() => undefined);
}

describe('attack: connection slots that are never given back (item 2)', () => {
  // Small limits: a handful of leaked slots locks this IP (and, per process, everyone) out.
  const options = { maxConnectionsPerIp: 10, maxConnections: 10, connectRatePerIp: 100_000 };

  test('plain GET /ws without Upgrade, 200 times: no slot kept, no token needed', async () => {
    const server = await startServer(options);
    try {
      for (let i = 0; i < 200; i++) {
        const response = await fetch(`${server.url}/ws`);
        await response.body?.cancel();
        assert.equal(response.status, 404);
      }
      await notLockedOut(server);
      await gaugesBackToZero(server.url);
    } finally {
      await server.close();
    }
  });

  test('upgrades ws refuses (a bad Sec-WebSocket-Key), 200 times', async () => {
    const server = await startServer(options);
    try {
      for (let i = 0; i < 200; i++) {
        const answer = await rawExchange(server.url, upgradeRequest('/ws', 'bad'));
        assert.match(answer, /^HTTP\/1\.1 400/);
      }
      await notLockedOut(server);
      await gaugesBackToZero(server.url);
    } finally {
      await server.close();
    }
  });

  test('clients hanging up mid-upgrade, 200 times', async () => {
    // Many secrets (a long rotation) and a token signed with the last: each check tries them
    // all, which widens the window a hang-up must hit.
    const secrets = Array.from({ length: 40 }, (_, i) => `rotated-secret-${i}-0123456789abcdef`);
    const server = await startServer({ ...options, tokenSecrets: [...secrets, TEST_SECRET] });
    try {
      const token = await testToken(['hangup']);
      for (let i = 0; i < 200; i++) {
        // Gone with the request (read with it), while the server checks the token, or just after.
        await rawExchange(server.url, upgradeRequest(`/ws?token=${token}`), {
          hangUpAfterMs: [0, 1, 3, 6][i % 4],
        });
      }
      // A later subscriber is the probe: its token is checked after theirs, so a zombie that a
      // hang-up left behind exists by the time it is served.
      await notLockedOut(server);
      await gaugesBackToZero(server.url);
    } finally {
      await server.close();
    }
  });

  test('SSE clients hanging up while their check runs: no zombie stream, subscription or room', async () => {
    // The host app's own check (a session lookup) takes 50 ms; the clients leave during it.
    const app = Fastify();
    await app.register(roomcast, {
      huddle01ApiKey: TEST_KEY,
      tokenSecret: TEST_SECRET,
      ...options,
      authorize: async () => {
        await sleep(50);
        return true;
      },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      for (let i = 0; i < 100; i++) {
        const path = i % 2 === 0 ? '/rooms/hangup/events' : '/events?room=hangup&room=other';
        await rawExchange(url, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, {
          hangUpAfterMs: [0, 5, 20, 40][i % 4],
        });
      }
      // A later stream is the probe: its 50 ms check started after theirs, so a zombie that a
      // hang-up left behind exists by the time it is answered.
      const response = await fetch(`${url}/rooms/after/events`);
      assert.equal(response.status, 200, 'not locked out');
      await response.body?.cancel();
      await gaugesBackToZero(url);
    } finally {
      await app.close();
    }
  });
});

describe('attack: X-Forwarded-For written by the client (item 3)', () => {
  /** Opens an SSE stream as if through a proxy that appended `client` to the client's own `spoof`. */
  async function streamVia(server: TestServer, spoof: string, client: string) {
    const controller = new AbortController();
    const response = await fetch(server.authed('/rooms/xff/events'), {
      headers: { 'x-forwarded-for': `${spoof}, ${client}` },
      signal: controller.signal,
    });
    return { status: response.status, close: () => controller.abort() };
  }

  for (const [label, trustProxy] of [
    ['a hop count (1)', 1],
    ['the proxy address (127.0.0.1)', '127.0.0.1'],
  ] as const) {
    test(`trusting ${label}: the client's own left-most entries change nothing`, async () => {
      const server = await startServer({
        trustProxy,
        maxConnectionsPerIp: 3,
        connectRatePerIp: 1000,
      });
      try {
        const streams = [];
        for (let i = 0; i < 6; i++)
          streams.push(await streamVia(server, `10.9.${i}.1`, '198.51.100.7'));
        assert.deepEqual(
          streams.map((stream) => stream.status),
          [200, 200, 200, 429, 429, 429],
          'counted as one client, 198.51.100.7',
        );
        // Another client behind the same proxy is not affected.
        const other = await streamVia(server, '10.9.9.9', '198.51.100.8');
        assert.equal(other.status, 200);
        for (const stream of [...streams, other]) stream.close();
        await gaugesBackToZero(server.url);
      } finally {
        await server.close();
      }
    });
  }

  test('ROOMCAST_TRUST_PROXY=true (every hop, so the client-written entry) is refused at startup', () => {
    assert.throws(
      () => configFromEnv({ ROOMCAST_TRUST_PROXY: 'true' }),
      /ROOMCAST_TRUST_PROXY: expected the number of proxies/,
    );
    assert.throws(
      () => configFromEnv({ ROOMCAST_TRUST_PROXY: '10.0.0.0/99' }),
      /ROOMCAST_TRUST_PROXY/,
    );
    assert.equal(configFromEnv({ ROOMCAST_TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(
      configFromEnv({ ROOMCAST_TRUST_PROXY: '10.0.0.1, 10.1.0.0/16, loopback' }).trustProxy,
      ['10.0.0.1', '10.1.0.0/16', 'loopback'],
    );
    assert.equal(configFromEnv({ ROOMCAST_TRUST_PROXY: 'false' }).trustProxy, false);
  });
});
