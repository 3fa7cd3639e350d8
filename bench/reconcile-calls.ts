/**
 * Huddle01 API calls per reconcile pass, measured: the real reconciler (and the SDK's `API`
 * class) against the local fake of Huddle01's live API (test/helpers/fake-huddle01.ts) on
 * loopback, with 500 active rooms in the in-memory engine. Prints a Markdown table.
 *
 *   node --import tsx bench/reconcile-calls.ts [--rooms 500]
 *
 * It only uses what every version of reconcile has (createReconciler, createHuddle01Api, the
 * fake), so the same file measures an older checkout too (docs/reconcile.md shows how).
 */
import { parseArgs } from 'node:util';
import type { FastifyBaseLogger } from 'fastify';
import { createMemoryEngine } from '../server/src/engine/memory-engine.ts';
import type { Engine } from '../server/src/engine/engine.ts';
import type { ReconcileMetrics } from '../server/src/metrics.ts';
import { createHuddle01Api } from '../server/src/reconcile/huddle01-api.ts';
import { createReconciler } from '../server/src/reconcile/reconciler.ts';
import { startFakeHuddle01 } from '../test/helpers/fake-huddle01.ts';
import type { FakeHuddle01 } from '../test/helpers/fake-huddle01.ts';
import { meetingStarted, peerJoined } from '../test/helpers/payloads.ts';

const { values } = parseArgs({ options: { rooms: { type: 'string', default: '500' } } });
const ROOMS = Number(values.rooms);
const KEY = 'bench-reconcile-key-0123456789';
/** Long enough for one pass to finish before a second could start. */
const INTERVAL_MS = 15_000;
const PEERS = 3;

/** One situation: what Huddle01 says and what roomcast holds. */
interface Scenario {
  name: string;
  /** Active rooms roomcast holds in sync with Huddle01. */
  inSync: number;
  /** Active rooms whose meeting ended on Huddle01 (its webhooks lost). */
  ended: number;
  /** Active rooms where one peer left on Huddle01 (its peer:left lost). */
  ghost: number;
  /** Live rooms roomcast never heard of. */
  unknown: number;
  /** The project-wide list carries peer counts (not in the SDK's type; what-if). */
  listPeerCounts?: boolean;
}

const tenth = Math.round(ROOMS / 10);
const scenarios: Scenario[] = [
  { name: 'all in sync', inSync: ROOMS, ended: 0, ghost: 0, unknown: 0 },
  {
    name: 'churn: 10 % ended, 10 % with a ghost, 5 % unknown live rooms',
    inSync: ROOMS - 2 * tenth,
    ended: tenth,
    ghost: tenth,
    unknown: Math.round(ROOMS / 20),
  },
  {
    name: 'all in sync, if the list carried peer counts',
    inSync: ROOMS,
    ended: 0,
    ghost: 0,
    unknown: 0,
    listPeerCounts: true,
  },
];

const silent = {
  level: 'silent',
  info() {},
  warn() {},
  error() {},
  debug() {},
  trace() {},
  fatal() {},
  silent() {},
  child() {
    return silent;
  },
} as unknown as FastifyBaseLogger;

/** Counters enough for the reconciler, read back by the bench. */
function counters() {
  const totals = new Map<string, number>();
  const counter = (name: string) => ({
    inc(labels: Record<string, string>) {
      const key = `${name}:${Object.values(labels).join(':')}`;
      totals.set(key, (totals.get(key) ?? 0) + 1);
    },
  });
  const metrics = {
    calls: counter('calls'),
    corrections: counter('corrections'),
    errors: counter('errors'),
    passes: counter('passes'),
  } as unknown as ReconcileMetrics;
  const sum = (prefix: string) =>
    [...totals].reduce((all, [key, n]) => (key.startsWith(prefix) ? all + n : all), 0);
  return { metrics, sum };
}

async function seed(engine: Engine, fake: FakeHuddle01, scenario: Scenario): Promise<number> {
  const startTime = Date.now() - 600_000;
  let webhooks = 0;
  const append = (event: 'meeting:started' | 'peer:joined', payload: unknown) =>
    engine.append({
      webhookId: `bench-${++webhooks}`,
      event,
      payload: payload as never,
      receivedAt: Date.now(),
    });
  const kinds = [
    ...Array<string>(scenario.inSync).fill('sync'),
    ...Array<string>(scenario.ended).fill('ended'),
    ...Array<string>(scenario.ghost).fill('ghost'),
    ...Array<string>(scenario.unknown).fill('unknown'),
  ];
  let i = 0;
  for (const kind of kinds) {
    const roomId = `bench-${++i}-room`;
    const sessionId = `s-${roomId}`;
    const peers = Array.from({ length: PEERS }, (_, p) => ({
      peerId: `peer-${p}`,
      joinTime: startTime + 1000 + p,
    }));
    if (kind !== 'ended') {
      fake.rooms.set(roomId, {
        live: { sessionId, startTime },
        participants: kind === 'ghost' ? peers.slice(1) : peers,
      });
    }
    if (kind === 'unknown') continue;
    await append('meeting:started', meetingStarted(roomId, sessionId, startTime));
    for (const peer of peers) {
      await append('peer:joined', peerJoined(roomId, peer.peerId, peer.joinTime, sessionId));
    }
  }
  return scenario.inSync + scenario.ended + scenario.ghost;
}

async function measure(scenario: Scenario) {
  const fake = await startFakeHuddle01([KEY]);
  fake.listPeerCounts = scenario.listPeerCounts ?? false;
  const engine = createMemoryEngine();
  const active = await seed(engine, fake, scenario);
  const api = createHuddle01Api({ apiKey: KEY, baseUrl: fake.url, timeoutMs: 5000 });
  // A version that lists live sessions also visits (discovers) the rooms roomcast lacks.
  const discovers = 'liveSessions' in api;
  const expected = active + (discovers ? scenario.unknown : 0);
  const { metrics, sum } = counters();
  const reconciler = createReconciler({
    engine,
    api,
    log: silent,
    intervalMs: INTERVAL_MS,
    budget: 1_000_000, // never the limit here: the count of calls is what is measured
    concurrency: 4,
    metrics,
  });
  // The first pass starts after one interval; it is over once every room had its pass.
  await fake.until(() => fake.calls.length > 0, INTERVAL_MS * 3);
  const started = Date.now();
  while (sum('passes:interval') < expected) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const took = Date.now() - started;
  const calls = fake.calls.length;
  const byRoute = new Map<string, number>();
  for (const call of fake.calls) byRoute.set(call.route, (byRoute.get(call.route) ?? 0) + 1);
  const corrections = sum('corrections:');
  await reconciler.close();
  await engine.close();
  await fake.close();
  if (took >= INTERVAL_MS) console.error(`warning: ${scenario.name}: the pass took ${took} ms`);
  return { calls, byRoute, corrections, took, active };
}

console.log(`| scenario (${ROOMS} active rooms) | calls per pass | by call | corrections |`);
console.log('| --- | ---: | --- | ---: |');
for (const scenario of scenarios) {
  const result = await measure(scenario);
  const routes = [...result.byRoute]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, n]) => `${route} ${n}`)
    .join(', ');
  console.log(`| ${scenario.name} | ${result.calls} | ${routes} | ${result.corrections} |`);
}
