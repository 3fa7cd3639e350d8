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
  'jitter',
  'avalanche',
  'idle',
] as const;
/** A scenario name. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** Scenario "jitter" (links cut at random while events flow). */
export interface JitterOptions {
  /** Default 10,000 (quick: 300). */
  subscribers: number;
  /** Default 100 (quick: 10). */
  rooms: number;
  /** Each link is cut about this often, ms. Default 15,000 (quick: 3,000). */
  everyMs: number;
  /** …for this long, ms. Default 2,000 (quick: 500). */
  outageMs: number;
  /** Events flow and links are cut for this long, ms. Default 60,000 (quick: 6,000). */
  flowMs: number;
  /** Events per second over all rooms. Default 50 (quick: 20). */
  rate: number;
  /** Subscribers per client process (three open files each, with the proxy). Default 2,500. */
  perProcess: number;
}

/** Scenario "avalanche" (a node restarted under its subscribers). */
export interface AvalancheOptions {
  /** Over both nodes. Default 20,000 (quick: 400). */
  subscribers: number;
  /** Default 100 (quick: 10). */
  rooms: number;
  /** Events per second. Default 50 (quick: 20). */
  rate: number;
  /** Events flow this long before the restart, and after it, ms. Default 5,000 / 15,000 (quick: 1,500 / 3,000). */
  beforeMs: number;
  afterMs: number;
  /** Subscribers per client process (three open files each). Default 5,000. */
  perProcess: number;
}

/** Scenario "idle" (many idle subscribed connections on one process, one busy room). */
export interface IdleOptions {
  /** Default 100,000, capped to the open files limit (quick: 1,000). */
  connections: number;
  /** Subscribers of the one room that gets events. Default 1,000 (quick: 100). */
  hotRoom: number;
  /** Events sent to it, one at a time. Default 20 (quick: 5). */
  events: number;
  /** Subscribers per client process. Default 10,000. */
  perProcess: number;
  /**
   * Client processes the hot room's subscribers are spread over. Default 4 (quick: 1): one
   * browser holds one subscriber; one process reading all 1,000 deliveries in turn measures
   * that process, not the server.
   */
  hotProcesses: number;
}

/** Everything a run is parameterized by. */
export interface BenchOptions {
  /** Runs of jitter, avalanche and idle (each is long). Default 1. */
  scaleRuns: number;
  /** jitter, avalanche, idle: measure only the contenders with these ids. Default: all. */
  only?: string[];
  jitter: JitterOptions;
  avalanche: AvalancheOptions;
  idle: IdleOptions;
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
  --jitter-subscribers N
                       subscribers of the jitter scenario (default 10000)
  --flow MS            jitter: how long events flow and links are cut (default 60000)
  --avalanche-subscribers N
                       subscribers of the avalanche scenario, over two nodes (default 20000)
  --idle-connections N idle subscribed connections of the idle scenario (default 100000,
                       capped to the open files limit)
  --only ID,ID         jitter, avalanche, idle: only these contenders (e.g. roomcast)
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

/** The contenders `--only` keeps (all without it). */
export function selected<T extends { id: string }>(
  options: Pick<BenchOptions, 'only'>,
  list: T[],
): T[] {
  return options.only ? list.filter((item) => options.only!.includes(item.id)) : list;
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
      'jitter-subscribers': { type: 'string' },
      flow: { type: 'string' },
      'avalanche-subscribers': { type: 'string' },
      'idle-connections': { type: 'string' },
      only: { type: 'string' },
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
    scaleRuns: positive('runs', values.runs, 1),
    ...(values.only ? { only: values.only.split(',') } : {}),
    jitter: {
      subscribers: positive(
        'jitter-subscribers',
        values['jitter-subscribers'],
        quick ? 300 : 10_000,
      ),
      rooms: quick ? 10 : 100,
      everyMs: quick ? 3000 : 15_000,
      outageMs: quick ? 500 : 2000,
      flowMs: positive('flow', values.flow, quick ? 6000 : 60_000),
      rate: quick ? 20 : 50,
      perProcess: 2500,
    },
    avalanche: {
      subscribers: positive(
        'avalanche-subscribers',
        values['avalanche-subscribers'],
        quick ? 400 : 20_000,
      ),
      rooms: quick ? 10 : 100,
      rate: quick ? 20 : 50,
      beforeMs: quick ? 1500 : 5000,
      afterMs: quick ? 3000 : 15_000,
      perProcess: 5000,
    },
    idle: {
      connections: positive('idle-connections', values['idle-connections'], quick ? 1000 : 100_000),
      hotRoom: quick ? 100 : 1000,
      events: quick ? 5 : 20,
      perProcess: 10_000,
      hotProcesses: quick ? 1 : 4,
    },
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
