/**
 * Liveness and backpressure: WS ping/pong termination, SSE heartbeats, slow SSE readers cut.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { connect } from './helpers/ws-client.ts';
import { peerJoined } from './helpers/payloads.ts';
import { parseMetrics } from './helpers/metrics.ts';
import { postWebhook, startServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { until } from './helpers/wait.ts';
import { openRawWebSocket } from './reliability/raw-websocket.ts';

async function metricValue(server: TestServer, key: string): Promise<number | undefined> {
  return parseMetrics(await (await server.get('/metrics')).text()).get(key);
}

describe('liveness', () => {
  test('a WebSocket that does not answer pings is terminated; one that does stays', async (t) => {
    const server = await startServer({ pingInterval: 100, pongTimeout: 100 });
    try {
      const silent = await connect(server.wsUrl, { autoPong: false });
      t.after(() => silent.close());
      const healthy = await connect(server.wsUrl);
      t.after(() => healthy.close());
      let pings = 0;
      healthy.socket.on('ping', () => pings++);
      assert.equal(await silent.closed, 1006);
      // Three more pings answered are the probe: three rounds in which it could have been cut.
      const seen = pings;
      await until(() => pings >= seen + 3 || healthy.closeCode !== undefined, {
        timeoutMs: 2000,
        what: 'three more pings',
      });
      assert.equal(healthy.closeCode, undefined);
      healthy.close();
    } finally {
      await server.close();
    }
  });

  test('pings are spread over the interval, each socket pinged about once per interval', async (t) => {
    // 40 sockets on a 500 ms interval: one round of pings all at once would block the event
    // loop at scale; the wheel pings a slot per 10 ms tick instead.
    const interval = 500;
    const server = await startServer({ pingInterval: interval, pongTimeout: 400 });
    try {
      const sockets = await Promise.all(Array.from({ length: 40 }, () => connect(server.wsUrl)));
      t.after(() => {
        for (const client of sockets) client.close();
      });
      const pings = sockets.map(() => [] as number[]);
      sockets.forEach((client, i) => client.socket.on('ping', () => pings[i]!.push(Date.now())));
      await new Promise((resolve) => setTimeout(resolve, 3 * interval + 100));
      const firsts = pings.map((times) => times[0]!);
      assert.ok(
        Math.max(...firsts) - Math.min(...firsts) >= interval / 4,
        `first pings within ${Math.max(...firsts) - Math.min(...firsts)} ms`,
      );
      for (const times of pings) {
        assert.ok(times.length >= 2 && times.length <= 4, `${times.length} pings in 3 intervals`);
      }
      // Every pong came back in time: nobody was terminated.
      for (const client of sockets) assert.equal(client.closeCode, undefined);
      for (const client of sockets) client.close();
    } finally {
      await server.close();
    }
  });

  test('SSE streams open with a heartbeat telling the interval, and get one every interval', async (t) => {
    const server = await startServer({ sseHeartbeat: 50 });
    try {
      const controller = new AbortController();
      t.after(() => controller.abort());
      // A stream that stalls or ends fails within seconds, not at the runner's timeout.
      const stalled = setTimeout(() => controller.abort(), 5000);
      const response = await fetch(server.authed('/rooms/hb/events'), {
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const beat = 'event: heartbeat\ndata: {"type":"heartbeat","interval":50}\n\n';
      while (text.split(beat).length < 4) {
        const { done, value } = await reader.read();
        assert.equal(done, false, `the stream ended after ${JSON.stringify(text)}`);
        text += decoder.decode(value, { stream: true });
      }
      clearTimeout(stalled);
      controller.abort();
      // The first message, before the room's snapshot: a reader knows the interval at once.
      assert.ok(text.replace(/^retry: \d+\n\n/, '').startsWith(beat), text.slice(0, 200));
    } finally {
      await server.close();
    }
  });

  test('WebSocket: a heartbeat frame telling the interval once authenticated, then one with every ping', async (t) => {
    const server = await startServer({ pingInterval: 100 });
    try {
      const authed = await connect(server.wsUrl);
      t.after(() => authed.close());
      await authed.until(() => authed.heartbeats.length >= 3, 2000, 'three heartbeats');
      assert.deepEqual(authed.heartbeats[0], { type: 'heartbeat', interval: 100 });
      // Without a token, nothing until the auth frame is accepted.
      const later = await connect(server.bareWsUrl);
      t.after(() => later.close());
      // Two more heartbeats on the authenticated socket are the probe: two beats went by.
      const beats = authed.heartbeats.length;
      await authed.until(() => authed.heartbeats.length >= beats + 2, 2000, 'two more heartbeats');
      assert.equal(later.heartbeats.length, 0, 'no heartbeat before authentication');
      later.send({ type: 'auth', token: server.token });
      await later.until(() => later.heartbeats.length >= 1, 2000, 'a heartbeat after auth');
      authed.close();
      later.close();
    } finally {
      await server.close();
    }
  });

  test('every ping has its heartbeat frame right behind it; a client that pongs stays', async (t) => {
    const server = await startServer({ pingInterval: 100 });
    t.after(() => server.close());
    const raw = await openRawWebSocket(server.wsUrl.replace(/^ws:/, 'http:'), { autoPong: true });
    t.after(() => raw.destroy());
    const { session } = raw;
    await until(() => session.pings >= 3, { timeoutMs: 5000, what: 'three pings' });
    await raw.settle(50, 500);
    const beat = JSON.stringify({ type: 'heartbeat', interval: 100 });
    // The first beat (on authentication) goes alone; every later one right after its ping.
    const [first, ...rest] = session.opcodes;
    assert.equal(first, 0x1);
    const pairs = rest.slice(0, rest.length - (rest.length % 2));
    assert.deepEqual(
      pairs,
      pairs.map((_, i) => (i % 2 === 0 ? 0x9 : 0x1)),
    );
    assert.ok(session.texts.every((text) => text === beat));
    assert.equal(session.ended, false);
  });

  test('an SSE reader that stops reading is cut; the server keeps serving', async () => {
    const server = await startServer({ maxBufferedBytes: '64KiB' });
    try {
      const { port } = new URL(server.url);
      let reader: IncomingMessage | undefined;
      const closed = new Promise<void>((resolve) => {
        const req = request(
          { host: '127.0.0.1', port, path: `/rooms/slow-sse/events?token=${server.token}` },
          (res) => {
            reader = res;
            res.pause(); // never read
            res.on('close', () => resolve());
            res.on('error', () => resolve());
          },
        );
        req.on('error', () => resolve());
        req.end();
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const metadata = 'm'.repeat(100_000);
      for (let i = 0; i < 200; i++) {
        const answer = await postWebhook(
          server,
          'peer:joined',
          peerJoined('slow-sse', `p${i}`, 1_790_000_000_000 + i, undefined, { metadata }),
        );
        assert.equal(answer.status, 200);
      }
      // The server has cut the stream (a reset); a client that stopped reading learns it as soon
      // as it reads again, whatever its kernel buffered meanwhile.
      assert.equal(await metricValue(server, 'roomcast_drops_total{reason="slow_consumer"}'), 1);
      assert.equal(await metricValue(server, 'roomcast_connections{transport="sse"}'), 0);
      reader?.resume();
      await closed;
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
    } finally {
      await server.close();
    }
  });
});
