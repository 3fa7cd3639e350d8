/**
 * Redis-mode faults under live traffic: two roomcast nodes (child processes) on one real
 * redis-server (append-only file, so a restart keeps the data), WS and SSE subscribers spread
 * over both and churning, meetings posted round-robin with Huddle01's retry-until-accepted. In
 * the middle of each run one fault: a node killed with -9 and restarted, redis-server
 * restarted, redis-server frozen (SIGSTOP) past the command timeout and thawed. Afterwards the
 * invariant holds (nothing acknowledged lost, no gap), no webhook hung, and the fault shows in
 * the nodes' /metrics and logs.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { meetingScript } from '../../server/src/cli/meeting-script.ts';
import { parseMetrics, sample } from '../helpers/metrics.ts';
import { startNode } from '../helpers/node-process.ts';
import type { NodeProcess } from '../helpers/node-process.ts';
import { startRedisServer } from '../helpers/redis-server.ts';
import type { RedisServer } from '../helpers/redis-server.ts';
import { testToken } from '../helpers/server.ts';
import { createInvariantChecker } from './invariant-checker.ts';
import type { CheckSummary } from './invariant-checker.ts';
import { createLoadDriver } from './load-driver.ts';
import type { LoadStats } from './load-driver.ts';
import { settleAndVerify } from './room-heads.ts';
import { createWebhookPoster, playScript } from './webhook-poster.ts';
import type { PosterStats } from './webhook-poster.ts';

const BIN = fileURLToPath(new URL('../../server/bin/roomcast.js', import.meta.url));
const redis = await startRedisServer({ persistent: true });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One line of figures for the test output (and docs/reliability.md). */
function figures({ summary, poster, driver }: Outcome): string {
  const { acknowledged, eventsDelivered, resumes, recovered, resyncs } = summary;
  return JSON.stringify({
    acknowledged,
    eventsDelivered,
    resumes,
    recovered,
    resyncs,
    answers: poster.answers,
    retries: poster.retries,
    slowestAnswerMs: poster.slowestMs,
    serverCloses: driver.serverCloses,
    errorFrames: summary.errors,
    violations: summary.violations.length,
  });
}

interface Outcome {
  summary: CheckSummary;
  poster: PosterStats;
  driver: LoadStats;
}

describe('faults in Redis mode, under traffic', { skip: redis === undefined }, () => {
  const server = redis as RedisServer;
  const env = () => ({ REDIS_URL: server.url });
  let nodes: [NodeProcess, NodeProcess];
  before(async () => {
    nodes = [await startNode(env()), await startNode(env())];
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    await server.close();
  });

  const metricsOf = async (node: NodeProcess) =>
    parseMetrics(await (await fetch(`${node.url}/metrics`)).text());

  /** A Redis outage: refused with 503 and retried until accepted, counted and logged by the nodes. */
  async function assertOutageShown(outcome: Outcome): Promise<void> {
    assert.ok((outcome.poster.answers[503] ?? 0) > 0, 'webhooks were refused with 503 meanwhile');
    assert.equal(outcome.poster.failed, 0);
    const metrics = await Promise.all(nodes.map(metricsOf));
    const errors = metrics.reduce((sum, m) => sum + sample(m, 'roomcast_engine_errors_total'), 0);
    assert.ok(errors > 0, 'engine errors counted');
    const logged = () => nodes.some((node) => /append failed/.test(node.output()));
    for (let i = 0; i < 50 && !logged(); i++) await sleep(100); // stdout lags a little
    assert.ok(logged(), 'the failed appends were logged');
  }

  /** Meetings in `prefix-*` rooms with churning subscribers; `fault` runs meanwhile. */
  async function underTraffic(prefix: string, fault: () => Promise<void>): Promise<Outcome> {
    const checker = createInvariantChecker();
    const token = await testToken();
    const urls = nodes.map((node) => node.url);
    const rooms = Array.from({ length: 6 }, (_, i) => `${prefix}-${i + 1}`);
    const driver = createLoadDriver({ checker, urls, token, rooms, ws: 40, sse: 12 });
    const poster = createWebhookPoster({ checker, urls, hangAfterMs: 20_000 });
    try {
      await driver.open();
      const stopChurn = driver.churn(4);
      const script = meetingScript({
        rooms: 6,
        peers: 8,
        durationMs: 8000,
        startAt: Date.now(),
        prefix,
      });
      const played = playScript(poster, script, 8);
      await fault();
      await played;
      stopChurn();
      const summary = await settleAndVerify({ url: nodes[1].url, token, rooms, driver, checker });
      return { summary, poster: poster.stats, driver: driver.stats };
    } finally {
      await driver.close();
    }
  }

  test('kill -9 a node mid-stream and restart it: its subscribers resume elsewhere, nothing lost', async (t) => {
    const [victim, survivor] = nodes;
    const resumedBefore = sample(await metricsOf(survivor), 'roomcast_resumes_total', {
      outcome: 'recovered',
    });
    const outcome = await underTraffic('kill', async () => {
      await sleep(2000);
      await victim.kill('SIGKILL');
      await sleep(1500);
      // Back on the same port, as a supervisor would restart it.
      nodes[0] = await startNode(env(), { argv: [BIN, 'serve', '--port', String(victim.port)] });
    });
    t.diagnostic(figures(outcome));
    assert.deepEqual(outcome.summary.violations, []);
    assert.equal(outcome.summary.resyncs, 0, 'every resume was inside the history');
    const cut =
      (outcome.driver.serverCloses['1006'] ?? 0) + (outcome.driver.serverCloses['sse-end'] ?? 0);
    assert.ok(
      cut > 0,
      `the victim's subscribers were cut: ${JSON.stringify(outcome.driver.serverCloses)}`,
    );
    assert.ok(
      (outcome.poster.answers[0] ?? 0) > 0,
      'webhooks to the dead node failed and were retried',
    );
    const resumedAfter = sample(await metricsOf(survivor), 'roomcast_resumes_total', {
      outcome: 'recovered',
    });
    assert.ok(resumedAfter > resumedBefore, 'the survivor counted the resumes');
    assert.match(nodes[0].output(), /listening on/);
  });

  test('redis-server restarts: 503 while it is away, then everything retried lands; nothing lost', async (t) => {
    let readyDuring = 0;
    const outcome = await underTraffic('restart', async () => {
      await sleep(2000);
      await server.stop();
      await sleep(500);
      readyDuring = (await fetch(`${nodes[0].url}/readyz`)).status;
      await sleep(1000);
      await server.start();
    });
    t.diagnostic(figures(outcome));
    assert.deepEqual(outcome.summary.violations, []);
    assert.equal(readyDuring, 503, 'not ready while Redis is away');
    await assertOutageShown(outcome);
  });

  test('redis-server frozen (SIGSTOP) past the command timeout: answers stay bounded, nothing lost', async (t) => {
    const outcome = await underTraffic('frozen', async () => {
      await sleep(2000);
      server.pause();
      await sleep(7000);
      server.resume();
    });
    t.diagnostic(figures(outcome));
    assert.deepEqual(outcome.summary.violations, []);
    assert.equal(outcome.poster.answers[-1] ?? 0, 0, 'no webhook went unanswered for 20 s');
    await assertOutageShown(outcome);
  });
});
