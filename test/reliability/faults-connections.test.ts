/**
 * Connection faults against a server child process: subscribers that read too slowly or never
 * (WS closed with 4008, SSE stream cut, the others unaffected, server memory bounded), and
 * subscribers whose TCP connection silently dies behind a proxy (the server notices by
 * ping/pong). Every one resumes with no gap; every fault shows in /metrics and in the logs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sample } from '../helpers/metrics.ts';
import { peerJoined } from '../helpers/payloads.ts';
import { testToken } from '../helpers/server.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { createInvariantChecker } from './invariant-checker.ts';
import { createLoadDriver } from './load-driver.ts';
import { startProbeServer } from './probe-client.ts';
import type { ProbeServer } from './probe-client.ts';
import { settleAndVerify } from './room-heads.ts';
import { createWebhookPoster } from './webhook-poster.ts';
import type { WebhookPoster } from './webhook-poster.ts';

const MiB = 2 ** 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Posts a peer:joined to `room` every ~15 ms until the returned stop is awaited. */
function liveTraffic(poster: WebhookPoster, room: string, prefix: string): () => Promise<void> {
  let posting = true;
  const loop = (async () => {
    for (let i = 0; posting; i++) {
      await poster.post('peer:joined', peerJoined(room, `${prefix}${i}`, 1_790_000_100_000 + i));
      await sleep(15);
    }
  })();
  return async () => {
    posting = false;
    await loop;
  };
}

async function drops(server: ProbeServer, reason: string): Promise<number> {
  return sample(await server.metrics(), 'roomcast_drops_total', { reason });
}

describe('slow consumers and clients that never read', () => {
  test('closed with 4008 / stream cut, others unaffected, memory bounded, then resumed with no gap', async () => {
    const server = await startProbeServer(); // ROOMCAST_MAX_BUFFERED: the default 1 MiB
    const checker = createInvariantChecker();
    const token = await testToken();
    let stopLive = async () => {};
    const driver = createLoadDriver({
      checker,
      urls: [server.url],
      token,
      rooms: ['slow'],
      ws: 6,
      sse: 3,
      multiRoomShare: 0,
    });
    try {
      await driver.open();
      const slowWs = driver.subscribers[0]!;
      const slowSse = driver.subscribers[6]!;
      slowWs.pause();
      slowSse.pause();
      const before = await server.probe();
      // 300 events of 100 KB: 30 MB that each reader that never reads would make the server
      // hold if its backlog were not bounded.
      const poster = createWebhookPoster({ checker, urls: [server.url] });
      const metadata = 'm'.repeat(100_000);
      for (let i = 0; i < 300; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, (_, j) =>
            poster.post(
              'peer:joined',
              peerJoined('slow', `p${i + j}`, 1_790_000_000_000 + i + j, undefined, { metadata }),
            ),
          ),
        );
      }
      await waitFor(
        'two slow-consumer drops',
        async () => (await drops(server, 'slow_consumer')) >= 2,
      );
      const during = await server.probe();
      assert.ok(
        during.external - before.external < 16 * MiB,
        `socket buffers grew by ${((during.external - before.external) / MiB).toFixed(1)} MiB`,
      );
      assert.equal(await drops(server, 'slow_consumer'), 2, 'each slow subscriber counted once');
      // Logs arrive on the child's stdout a little after the metric moved.
      await waitFor('the log line', async () => /slow consumer/.test(server.output()));

      // They read again, are told (4008 / end of stream), and resume: a replay of over 20 MB, far
      // over the limit, while live events keep coming. That burst is not slowness.
      slowWs.resume();
      slowSse.resume();
      stopLive = liveTraffic(poster, 'slow', 'late');
      await waitFor('both resumed', async () => driver.subscribers.every((s) => s.connected));
      await sleep(1000);
      await stopLive();
      const summary = await settleAndVerify({
        url: server.url,
        token,
        rooms: ['slow'],
        driver,
        checker,
      });
      assert.deepEqual(summary.violations, []);
      assert.equal(driver.stats.serverCloses['4008'], 1);
      assert.equal(driver.stats.serverCloses['sse-end'], 1);
      assert.equal(await drops(server, 'slow_consumer'), 2, 'the resumes were not dropped as slow');
      assert.ok(summary.recovered >= 2, 'both resumed from where they stopped');
      assert.equal(summary.resyncs, 0);
    } finally {
      await stopLive(); // a failed assertion must not leave the traffic running
      await driver.close();
      await server.kill();
    }
  });
});

describe('a TCP connection cut silently by the network', () => {
  test('the server drops the dead WebSocket by ping/pong; every subscriber resumes with no gap', async () => {
    const server = await startProbeServer({
      ROOMCAST_PING_INTERVAL: '1s',
      ROOMCAST_PONG_TIMEOUT: '2s',
    });
    const proxy = await startTcpProxy(server.url);
    const checker = createInvariantChecker();
    const token = await testToken();
    // Even-numbered subscribers go through the proxy; a reconnect goes straight to the server.
    const driver = createLoadDriver({
      checker,
      urls: [proxy.url, server.url],
      token,
      rooms: ['cut'],
      ws: 4,
      sse: 2,
      multiRoomShare: 0,
    });
    let stopTraffic = async () => {};
    const poster = createWebhookPoster({ checker, urls: [server.url] });
    try {
      await driver.open();
      stopTraffic = liveTraffic(poster, 'cut', 'p');
      await sleep(300);
      proxy.blackhole();
      const proxiedWs = driver.subscribers.filter((s, i) => i % 2 === 0 && s.transport === 'ws');
      await waitFor('the server to drop the dead sockets', async () => {
        return (await drops(server, 'heartbeat_timeout')) >= proxiedWs.length;
      });
      // At least those (a starved test process may miss a pong on a direct connection too).
      assert.ok((await drops(server, 'heartbeat_timeout')) >= proxiedWs.length);
      await waitFor('the log line', async () => /no pong/.test(server.output()));
      // The clients notice too (their own liveness checks) and reconnect, straight this time.
      for (const [i, subscriber] of driver.subscribers.entries())
        if (i % 2 === 0) subscriber.drop();
      await sleep(300);
      await stopTraffic();
      const summary = await settleAndVerify({
        url: server.url,
        token,
        rooms: ['cut'],
        driver,
        checker,
      });
      assert.deepEqual(summary.violations, []);
      assert.equal(summary.resyncs, 0);
      assert.ok(summary.recovered >= 3);
    } finally {
      await stopTraffic();
      await driver.close();
      await proxy.close();
      await server.kill();
    }
  });
});
