/**
 * Command-line options of `npm run bench`, with the defaults of the full run and of `--quick`.
 */
import { parseArgs } from 'node:util';

/** Scenario names accepted on the command line. */
export const SCENARIOS = [
  'ingest',
  'verify',
  'ws',
  'sse',
  'rooms',
  'burst',
  'bundle',
  'redis',
  'room-size',
  'rooms-list',
] as const;
/** A scenario name. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** Everything a run is parameterized by. */
export interface BenchOptions {
  scenarios: ScenarioName[];
  quick: boolean;
  /** Fan-out and Redis runs (each run measures every contender once). Default 3 (quick: 1). */
  runs: number;
  /** Ingest and verify runs: they are short, so more of them. Default 5 (quick: 1). */
  ingestRuns: number;
  /** Ingest: timed phase per server, ms. Default 5000 (quick: 1500). */
  ingestMs: number;
  /** Ingest: warm-up before the timed phase, ms. Default 1500 (quick: 500). */
  ingestWarmupMs: number;
  /** Ingest: requests in flight. Default 32. */
  concurrency: number;
  /**
   * Fan-out: subscriber counts of one room, one measurement each. Default 1000, 5000 and 20000
   * (quick: 500); capped to what the open files limit allows.
   */
  subscribers: number[];
  /** Scenario "rooms": rooms, each with `roomSubscribers`. Default 1000 (quick: 50). */
  rooms: number;
  /** Scenario "rooms": subscribers per room. Default 20. */
  roomSubscribers: number;
  /** Scenario "burst": subscribers of the room. Default 5000 (quick: 500). */
  burstSubscribers: number;
  /** Scenario "burst": events emitted at once per burst. Default 10. */
  burstSize: number;
  /** Scenario "burst": measured bursts. Default 20 (quick: 5). */
  bursts: number;
  /** Redis scenario: WebSocket subscribers of the latency comparison. Default 1000 (quick: 200). */
  redisSubscribers: number;
  /** Fan-out: measured events. Default 80 (quick: 20). */
  events: number;
  /** Fan-out: warm-up events, not measured. Default 5. */
  warmupEvents: number;
  /** Fan-out: pause after an event reached everyone, ms. Default 25. */
  gapMs: number;
  /** Verify micro-benchmark: calls per round of our verifier / of the SDK. */
  verifyOurs: number;
  verifySdk: number;
  /** Before a measured phase, wait while other processes use more than this (% of a core). */
  quietPercent: number;
  /** …but at most this long, ms. Default 10000 (quick: 3000). */
  quietWaitMs: number;
  /** …and at most this long in all, so a busy machine does not double the run. Default 90 s. */
  quietBudgetMs: number;
  /** Write docs/benchmarks.md and .svg: default only for a full, non-quick run. */
  write: boolean;
  /** Merge this run's results into bench/results/latest.json and render the docs from it. */
  merge: boolean;
  /** Only rewrite the docs from bench/results/latest.json (no measuring). */
  renderOnly: boolean;
  /** Run the server processes under --cpu-prof (figures are then distorted). */
  cpuProf: boolean;
  /** Write heap snapshots of fan-out servers before/after subscribing (first run). */
  heapSnapshots: boolean;
  /** Where profiles and heap snapshots go. */
  profileDir: string;
}

const USAGE = `usage: npm run bench -- [scenario ...] [options]

scenarios: ${SCENARIOS.join(', ')}
  (ingest includes verify; fanout = ws + sse; default: all)
  redis starts its own redis-server (on the PATH, or REDIS_SERVER_BIN)

options:
  --quick              short smoke run (1 run, 500 subscribers, short phases)
  --runs N             runs per scenario (default: 5 for ingest/verify, 3 for ws/sse/redis)
  --subscribers N,M    fan-out subscriber counts, one room (default 1000,5000,20000,
                       capped to the open files limit)
  --rooms N            rooms of the rooms scenario (default 1000)
  --room-subscribers N subscribers per room there (default 20)
  --burst-subscribers N
                       subscribers of the burst scenario's room (default 5000)
  --burst-size B       events emitted at once per burst (default 10)
  --bursts K           measured bursts (default 20)
  --redis-subscribers N
                       WS subscribers of the redis scenario's latency part (default 1000)
  --events K           measured fan-out (and redis latency) events (default 80)
  --gap MS             pause between those events (default 25)
  --duration MS        ingest (and redis throughput) timed phase per server (default 5000)
  --concurrency C      ingest (and redis throughput) requests in flight (default 32)
  --quiet-percent P    wait before a measurement while other processes use > P% of a
                       core (default 25)
  --quiet-wait MS      longest such wait (default 10000; quick: 3000), 90 s in all
  --write / --no-write write docs/benchmarks.md (default: only for a full run)
  --render-only        rewrite docs/benchmarks.md and .svg from bench/results/latest.json
  --merge              measure the scenarios given, merge them into bench/results/latest.json
                       (same scenarios replaced) and rewrite docs/benchmarks.md and .svg
  --cpu-prof           profile each server over its measured window into --profile-dir
  --heap-snapshots     heap snapshots of fan-out servers before/after subscribing
  --profile-dir DIR    default /tmp/roomcast-bench-profiles
`;

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name} must be a positive integer`);
  return value;
}

/** Parses argv; prints usage and exits on --help. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      subscribers: { type: 'string' },
      rooms: { type: 'string' },
      'room-subscribers': { type: 'string' },
      'burst-subscribers': { type: 'string' },
      'burst-size': { type: 'string' },
      bursts: { type: 'string' },
      'redis-subscribers': { type: 'string' },
      events: { type: 'string' },
      gap: { type: 'string' },
      duration: { type: 'string' },
      concurrency: { type: 'string' },
      'quiet-percent': { type: 'string' },
      'quiet-wait': { type: 'string' },
      write: { type: 'boolean' },
      merge: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      'render-only': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'heap-snapshots': { type: 'boolean', default: false },
      'profile-dir': { type: 'string', default: '/tmp/roomcast-bench-profiles' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const scenarios = new Set<ScenarioName>();
  for (const name of positionals) {
    if (name === 'fanout') {
      scenarios.add('ws');
      scenarios.add('sse');
    } else if (name === 'ingest') {
      // The verification micro-benchmark belongs to ingest; `verify` alone runs only it.
      scenarios.add('ingest');
      scenarios.add('verify');
    } else if ((SCENARIOS as readonly string[]).includes(name)) scenarios.add(name as ScenarioName);
    else throw new Error(`unknown scenario ${JSON.stringify(name)}\n\n${USAGE}`);
  }
  const all = scenarios.size === 0;
  const quick = values.quick;
  const selected = all ? [...SCENARIOS] : SCENARIOS.filter((name) => scenarios.has(name));
  return {
    scenarios: selected,
    quick,
    runs: positive('runs', values.runs, quick ? 1 : 3),
    ingestRuns: positive('runs', values.runs, quick ? 1 : 5),
    ingestMs: positive('duration', values.duration, quick ? 1500 : 5000),
    ingestWarmupMs: quick ? 500 : 1500,
    concurrency: positive('concurrency', values.concurrency, 32),
    subscribers:
      values.subscribers === undefined
        ? quick
          ? [500]
          : [1000, 5000, 20_000]
        : values.subscribers.split(',').map((size) => positive('subscribers', size, 0)),
    rooms: positive('rooms', values.rooms, quick ? 50 : 1000),
    roomSubscribers: positive('room-subscribers', values['room-subscribers'], 20),
    burstSubscribers: positive(
      'burst-subscribers',
      values['burst-subscribers'],
      quick ? 500 : 5000,
    ),
    burstSize: positive('burst-size', values['burst-size'], 10),
    bursts: positive('bursts', values.bursts, quick ? 5 : 20),
    redisSubscribers: positive(
      'redis-subscribers',
      values['redis-subscribers'],
      quick ? 200 : 1000,
    ),
    events: positive('events', values.events, quick ? 20 : 80),
    warmupEvents: 5,
    gapMs: positive('gap', values.gap, 25),
    verifyOurs: quick ? 5000 : 20000,
    verifySdk: quick ? 500 : 2000,
    quietPercent: positive('quiet-percent', values['quiet-percent'], 25),
    quietWaitMs: positive('quiet-wait', values['quiet-wait'], quick ? 3000 : 10_000),
    quietBudgetMs: 90_000,
    write: values['no-write'] ? false : (values.write ?? (all && !quick)),
    merge: values.merge ?? false,
    renderOnly: values['render-only'],
    cpuProf: values['cpu-prof'],
    heapSnapshots: values['heap-snapshots'],
    profileDir: values['profile-dir'],
  };
}
