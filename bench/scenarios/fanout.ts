/**
 * Fan-out scenarios: "ws" and "sse" (one room, N subscribers, for each N of --subscribers),
 * "rooms" (many rooms of a few subscribers each) and "burst" (one room, events emitted several
 * at once). Per setup, contender and run, in this order:
 * 1. server process started; the subscriber process opens N/2 connections and waits for every
 *    `subscribed`; memory after forced GC (baseline);
 * 2. it opens the other N/2;
 * 3. memory again: (after − before) ÷ (N − N/2) is the cost of an idle subscribed connection;
 * 4. warm-up events (not measured), then the server's CPU window around K measured events;
 *    CPU ÷ deliveries is the cost of one delivery; receive − send gives latency; every
 *    subscriber must get every event (losses reported).
 */
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchOptions } from '../lib/bench-options.ts';
import { BENCH_ROOM, benchToken } from '../lib/bench-secrets.ts';
import type { DeliveryReport } from '../lib/delivery-tracker.ts';
import { rotate, startClient, startServer } from '../lib/processes.ts';
import { OTHER_LOAD_METRIC, addValue, newResult, noteOtherLoad } from '../lib/results.ts';
import { otherLoadPercent, readBusy } from '../lib/machine-load.ts';
import { median } from '../lib/stats.ts';
import { quietMachine } from './quiet-machine.ts';
import type { Contender, ScenarioResult, TargetSpec } from '../lib/results.ts';
import type { BenchChild } from '../lib/ipc.ts';
import type { CpuWindow, MemorySample, ServerInfo } from '../servers/server-process.ts';
import type { ServerKind } from '../servers/server-kinds.ts';
import type { ConnectArgs, EventsArgs, TriggersArgs } from '../clients/fanout-subscribers.ts';
import type { SubscriberTransport } from '../clients/subscriber-transports.ts';

interface FanoutContender extends Contender {
  server: ServerKind;
  transport: SubscriberTransport;
  trigger: 'webhook' | 'publish';
  /** roomcast: subscribers ask for batches (`?batch=1`). */
  batch?: boolean;
}

interface FanoutVariant {
  id: string;
  title: string;
  contenders: FanoutContender[];
  targets: TargetSpec[];
}

const CPU_TARGETS: TargetSpec[] = [
  {
    label: 'CPU per delivery ≤ 1.0× floor',
    metric: 'cpuUs',
    against: 'floor',
    comparison: '<=',
    limit: 1.0,
  },
];
const P99_TARGET: TargetSpec = {
  label: 'p99 latency within 1.2× floor',
  metric: 'p99',
  against: 'floor',
  comparison: '<=',
  limit: 1.2,
};

/** WebSocket: roomcast GET /ws, the bare `ws` loop, Socket.IO rooms. */
export const WS_VARIANT: FanoutVariant = {
  id: 'ws',
  title: 'Fan-out over WebSocket',
  contenders: [
    {
      id: 'roomcast',
      label: 'roomcast GET /ws',
      short: 'roomcast',
      role: 'subject',
      server: 'roomcast',
      transport: 'ws',
      trigger: 'webhook',
    },
    {
      id: 'bare-ws',
      label: 'bare ws send loop (floor)',
      short: 'bare ws',
      role: 'floor',
      server: 'bare-ws',
      transport: 'ws',
      trigger: 'publish',
    },
    {
      id: 'socketio',
      label: 'Socket.IO 4 rooms',
      short: 'Socket.IO',
      role: 'peer',
      server: 'socketio',
      transport: 'socketio',
      trigger: 'publish',
    },
  ],
  targets: [
    ...CPU_TARGETS,
    {
      label: 'CPU per delivery ≤ 0.7× Socket.IO',
      metric: 'cpuUs',
      against: 'peer',
      comparison: '<=',
      limit: 0.7,
    },
    {
      label: 'memory ≤ 12 KiB per connection (RSS)',
      metric: 'rssKiB',
      against: 'absolute',
      comparison: '<=',
      limit: 12,
      unit: 'KiB',
    },
    P99_TARGET,
  ],
};

/** SSE: roomcast GET /rooms/:roomId/events against a bare node:http SSE loop. */
export const SSE_VARIANT: FanoutVariant = {
  id: 'sse',
  title: 'Fan-out over Server-Sent Events',
  contenders: [
    {
      id: 'roomcast',
      label: 'roomcast GET /rooms/:roomId/events',
      short: 'roomcast',
      role: 'subject',
      server: 'roomcast',
      transport: 'sse',
      trigger: 'webhook',
    },
    {
      id: 'bare-sse',
      label: 'bare node:http SSE loop (floor)',
      short: 'bare SSE',
      role: 'floor',
      server: 'bare-sse',
      transport: 'sse',
      trigger: 'publish',
    },
  ],
  targets: [...CPU_TARGETS, P99_TARGET],
};

/** One measured shape of load: who subscribes to what, and how events are emitted. */
export interface FanoutSetup {
  id: string;
  title: string;
  subscribers: number;
  /** Spread the subscribers over this many rooms (default: one room). */
  rooms?: number;
  /** Events emitted at once (default 1). */
  burst?: number;
  events: number;
  warmupEvents: number;
  gapMs: number;
  /** The chart panel group this setup feeds (svg-chart.ts), if any. */
  chartKey?: string;
  /** Targets on top of the variant's. */
  targets?: TargetSpec[];
  /**
   * Also measure the trigger alone (the same posts to rooms nobody subscribes to) and report CPU
   * per delivery net of it: every server then pays the same for its trigger.
   */
  netOfTrigger?: boolean;
  /**
   * With `netOfTrigger`: the measured events go in this many windows, each followed by its
   * trigger-only window (default 1).
   */
  windows?: number;
}

/** Index of the first trigger-only event (far from the measured ones: webhook ids differ). */
const TRIGGER_ONLY_FROM = 1_000_000_000;

/**
 * Passes over every room before the "rooms" windows open, for the events and for the
 * trigger-only posts alike. With 50 warm-up events the first windows measured warm-up: both
 * the bare floor and roomcast still cost 3–5× their steady CPU per post for the first ~3,000
 * posts (JIT tiers, rooms created inside the window), and the net of two such windows swung
 * from run to run (0.79× to 1.72×).
 */
export const ROOMS_WARMUP_PASSES = 3;

/** Measured windows of the "rooms" scenario, each one event to every room. */
const ROOMS_WINDOWS = 5;

/** Bursts over WebSocket: roomcast with batches, the bare `ws` loop, Socket.IO rooms. */
export const BURST_VARIANT: FanoutVariant = {
  id: 'burst',
  title: 'Fan-out of bursts over WebSocket',
  contenders: [
    ...WS_VARIANT.contenders.map((contender) =>
      contender.id === 'roomcast'
        ? { ...contender, label: 'roomcast GET /ws?batch=1', batch: true }
        : contender,
    ),
    // The same server, subscribers without ?batch=1: what the batches themselves buy.
    {
      ...WS_VARIANT.contenders[0]!,
      id: 'roomcast-unbatched',
      label: 'roomcast GET /ws (no batches)',
      short: 'no batches',
      role: 'peer',
    },
  ],
  targets: [
    {
      label: 'deliveries per CPU-second ≥ 1.5× floor',
      metric: 'perCpuS',
      against: 'floor',
      comparison: '>=',
      limit: 1.5,
    },
    { ...P99_TARGET, label: 'p99 latency no worse than the floor', limit: 1.0 },
  ],
};

const KiB = 1024;

/** The most subscribers one process can hold here: each is a file descriptor on both sides. */
export function maxSubscribers(openFilesLimit: number): number {
  return Number.isFinite(openFilesLimit) ? Math.max(1, openFilesLimit - 128) : 1_000_000;
}

const BIG_ROOM_P99: TargetSpec = {
  label: '20,000 subscribers: p99 ≤ 250 ms',
  metric: 'p99',
  against: 'absolute',
  comparison: '<=',
  limit: 250,
  unit: 'ms',
};

/** Scenarios "ws" / "sse": one result per subscriber count of `--subscribers`. */
export async function runFanout(
  variant: FanoutVariant,
  options: BenchOptions,
  log: (line: string) => void,
  openFilesLimit: number,
): Promise<ScenarioResult[]> {
  const cap = maxSubscribers(openFilesLimit);
  const sizes = [...new Set(options.subscribers.map((n) => Math.min(n, cap)))];
  const results: ScenarioResult[] = [];
  for (const [i, n] of sizes.entries()) {
    const capped = options.subscribers.some((asked) => asked > cap && n === cap);
    if (capped) log(`  ${n} subscribers: the open files limit (${openFilesLimit}) caps the run`);
    const largest = i === sizes.length - 1;
    results.push(
      await runSetup(
        variant,
        {
          id: `${variant.id}-${n}`,
          title: `${variant.title}, ${n.toLocaleString('en-US')} subscribers`,
          subscribers: n,
          events: options.events,
          warmupEvents: options.warmupEvents,
          gapMs: options.gapMs,
          chartKey: largest ? variant.id : undefined,
          // "20,000" on a machine whose file limit allows a few less.
          targets: n >= 19_000 ? [BIG_ROOM_P99] : [],
        },
        options,
        log,
      ),
    );
  }
  return results;
}

/** Scenario "rooms": many rooms, a few WebSocket subscribers each, events round-robin. */
export function runRooms(
  options: BenchOptions,
  log: (line: string) => void,
  openFilesLimit: number,
) {
  const perRoom = options.roomSubscribers;
  const rooms = Math.min(options.rooms, Math.floor(maxSubscribers(openFilesLimit) / perRoom));
  if (rooms < options.rooms)
    log(`  ${rooms} rooms: the open files limit (${openFilesLimit}) caps the run`);
  return runSetup(
    // Retired: "CPU per delivery ≤ 1.0× the floor" with the trigger included (the floors get
    // unverified raw posts, roomcast a verified webhook spread over 20 deliveries); the target
    // is now the same ratio net of each server's own trigger (docs/benchmarks.md).
    {
      ...WS_VARIANT,
      id: 'rooms',
      targets: [
        {
          label: 'CPU per delivery net of the trigger ≤ 1.0× floor',
          metric: 'netCpuUs',
          against: 'floor',
          comparison: '<=',
          limit: 1.0,
        },
        ...WS_VARIANT.targets.filter((t) => t.metric === 'cpuUs' && t.against === 'peer'),
      ],
    },
    {
      netOfTrigger: true,
      id: 'rooms',
      title: `Fan-out over WebSocket, ${rooms.toLocaleString('en-US')} rooms × ${perRoom} subscribers`,
      subscribers: rooms * perRoom,
      rooms,
      events: rooms * ROOMS_WINDOWS,
      windows: ROOMS_WINDOWS,
      // Every room gets its events a few times first: each server's code is then at its
      // steady tier (a few thousand calls) and every room exists before the window opens.
      warmupEvents: rooms * ROOMS_WARMUP_PASSES,
      gapMs: 1,
    },
    options,
    log,
  );
}

/** Scenario "burst": one room; events emitted `burstSize` at once. */
export function runBurst(options: BenchOptions, log: (line: string) => void) {
  const { burstSize, bursts, burstSubscribers } = options;
  return runSetup(
    BURST_VARIANT,
    {
      id: 'burst',
      title: `Fan-out of bursts over WebSocket, ${burstSubscribers.toLocaleString('en-US')} subscribers`,
      subscribers: burstSubscribers,
      burst: burstSize,
      events: bursts * burstSize,
      warmupEvents: 2 * burstSize,
      gapMs: options.gapMs,
      chartKey: 'burst',
    },
    options,
    log,
  );
}

function describeNetOfTrigger(setup: FanoutSetup): string {
  const windows = setup.windows ?? 1;
  const perWindow = Math.ceil(setup.events / windows);
  return (
    `; net of the trigger: the measured events go in ${windows} windows of ${perWindow}, ` +
    `each followed by a window of the same ${perWindow} posts made the same way to ` +
    `${setup.rooms ?? 1} rooms nobody subscribes to (after ${setup.warmupEvents} such ` +
    `posts not measured), paced like the events (post i starts when event i did, counted ` +
    `from the window's start), so the two windows last as long and hold as much of the ` +
    `server's idle upkeep (pings, timers); a pair's net = (CPU of its events window − CPU ` +
    `of its trigger window) ÷ its deliveries, and a run's figure is the median pair, so ` +
    `every server pays the same for its trigger and its upkeep, and one major garbage ` +
    `collection landing in one window does not decide the run. The upkeep itself is ` +
    `reported on its own: CPU at rest = the server's CPU over ${REST_WINDOW_MS / 1000} s ` +
    `with everyone subscribed and no events, after the windows`
  );
}

function describe(setup: FanoutSetup): string {
  const { subscribers: n, rooms, burst = 1 } = setup;
  const who = rooms
    ? `${n} subscribers spread evenly over ${rooms} rooms (${n / rooms} each), event i to room i mod ${rooms},`
    : `${n} subscribers of one room`;
  const emitted =
    burst > 1
      ? `in bursts of ${burst} posted at once (one kept-alive connection each); each burst waits ` +
        `until every subscriber has all of the previous one, then ${setup.gapMs} ms`
      : `one at a time: each waits until every subscriber due has the previous one, then ` +
        `${setup.gapMs} ms`;
  return (
    `${who} in one client process (a separate process from the server). ` +
    `WebSocket and SSE subscribers, for every contender and at every size, are the bench's light ` +
    `clients (a raw socket doing the WebSocket upgrade and frame parsing, resp. the HTTP GET and ` +
    `chunked decoding, itself) that read each event's index and send time from the message ` +
    `bytes without a JSON.parse, so the latency measures the server rather than the ` +
    `subscribers' own CPU; Socket.IO's ` +
    `subscribers use socket.io-client, the peer's own client library. ` +
    `${setup.warmupEvents} warm-up events, then ${setup.events} measured peer:joined events ` +
    `emitted ${emitted}. roomcast gets them as signed webhooks on its real route` +
    `${burst > 1 ? ' and its subscribers connect with ?batch=1' : ''}, the others as POST ` +
    `/publish with the same frame JSON. CPU per delivery = server process CPU (user + system) ` +
    `over the measured events ÷ deliveries (it includes each server's handling of the trigger ` +
    `request, which weighs more when an event has few subscribers)` +
    (setup.netOfTrigger ? describeNetOfTrigger(setup) : '') +
    `. Latency = receive − send, ` +
    `both taken in the client process (send = just before the POST), over every delivery. ` +
    `Memory per connection = (server RSS or heap after forced GC with all N subscribed − the ` +
    `same with the first N/2 subscribed) ÷ (N − N/2): the slope, so one-time costs of the ` +
    `first connections (code compiled on first use, heap spaces growing) are not counted.`
  );
}

async function runSetup(
  variant: FanoutVariant,
  setup: FanoutSetup,
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const n = setup.subscribers;
  const totalEvents = setup.warmupEvents + setup.events;
  const bursts = (setup.burst ?? 1) > 1;
  const result = newResult({
    id: setup.id,
    title: setup.title,
    method: describe(setup),
    params: {
      subscribers: n,
      ...(setup.rooms ? { rooms: setup.rooms } : {}),
      ...(bursts ? { 'events per burst': setup.burst! } : {}),
      'measured events': setup.events,
      'warm-up events': setup.warmupEvents,
      gap: `${setup.gapMs} ms`,
      runs: options.runs,
    },
    metrics: [
      { key: 'cpuUs', label: 'server CPU per delivery', unit: 'µs', better: 'lower', digits: 2 },
      ...(setup.netOfTrigger
        ? [
            {
              key: 'triggerUs',
              label: 'server CPU per trigger alone (no subscribers)',
              unit: 'µs',
              better: 'lower' as const,
              digits: 1,
            },
            {
              key: 'netCpuUs',
              label: 'server CPU per delivery, net of the trigger',
              unit: 'µs',
              better: 'lower' as const,
              digits: 2,
            },
            {
              key: 'restPct',
              label: 'server CPU at rest (everyone subscribed, no events)',
              unit: '% of a core',
              better: 'lower' as const,
              digits: 2,
            },
          ]
        : []),
      ...(bursts
        ? [
            {
              key: 'perCpuS',
              label: 'deliveries per server CPU-second',
              unit: '',
              better: 'higher' as const,
              digits: 0,
            },
          ]
        : []),
      { key: 'p50', label: 'latency p50', unit: 'ms', better: 'lower', digits: 1 },
      { key: 'p99', label: 'latency p99', unit: 'ms', better: 'lower', digits: 1 },
      { key: 'rssKiB', label: 'RSS per connection', unit: 'KiB', better: 'lower', digits: 1 },
      { key: 'heapKiB', label: 'heap per connection', unit: 'KiB', better: 'lower', digits: 1 },
      {
        key: 'lost',
        label: 'lost deliveries',
        unit: '',
        better: 'lower',
        digits: 0,
        noRatio: true,
      },
      OTHER_LOAD_METRIC,
    ],
    contenders: variant.contenders.map(({ id, label, short, role }) => ({
      id,
      label,
      short,
      role,
    })),
    targets: [...variant.targets, ...(setup.targets ?? [])],
  });
  if (setup.chartKey) result.chartKey = setup.chartKey;
  const token = benchToken();

  for (let run = 0; run < options.runs; run++) {
    for (const contender of rotate(variant.contenders, run)) {
      const tag = `${setup.id}-${contender.id}`;
      const server = await startServer(contender.server, options, tag);
      let subscribers: Awaited<ReturnType<typeof startClient>> | undefined;
      try {
        subscribers = await startClient('fanout-subscribers');
        // Memory is measured as a slope: from half the subscribers to all of them, so what the
        // first connections cost once (code compiled on first use, heap spaces growing) is not
        // counted as memory per connection.
        const half = Math.floor(n / 2);
        const first = await subscribers.request<{ connectMs: number }>('connect', {
          transport: contender.transport,
          port: server.info.port,
          room: BENCH_ROOM,
          token,
          subscribers: n,
          totalEvents,
          trigger: contender.trigger,
          upTo: half,
          ...(setup.rooms ? { rooms: setup.rooms } : {}),
          ...(contender.batch ? { batch: true } : {}),
        } satisfies ConnectArgs);
        await sleep(500); // let the last handshakes' garbage become collectable
        const before = await server.request<MemorySample>('memory');
        if (options.heapSnapshots && run === 0) await snapshot(server, options, `${tag}-before`);
        const rest = await subscribers.request<{ connectMs: number }>('connect-rest');
        const connectMs = first.connectMs + rest.connectMs;
        await sleep(500);
        const after = await server.request<MemorySample>('memory');
        const batch: Omit<EventsArgs, 'from' | 'count'> = {
          gapMs: setup.gapMs,
          timeoutMs: 10_000,
          burst: setup.burst ?? 1,
        };
        const warmupTriggers = await warmUp(setup, subscribers, batch);
        await quietMachine(options, log);
        const busy = readBusy();
        const measured = await measureWindows(setup, server, subscribers, batch, warmupTriggers);
        const { report } = measured;
        const serverCpuUs = measured.eventsCpuUs + measured.triggerCpuUs;
        const otherLoad = otherLoadPercent(busy, serverCpuUs + report.clientCpuUs);
        const cpuUs = measured.eventsCpuUs / Math.max(1, report.delivered);
        if (setup.netOfTrigger) {
          const restPct = await measureRest(server);
          addValue(result, contender.id, 'triggerUs', measured.triggerCpuUs / setup.events);
          addValue(result, contender.id, 'netCpuUs', median(measured.netUs));
          addValue(result, contender.id, 'restPct', restPct);
          const walls = measured.wallMs.map(
            ([a, b]) => `${(a / 1000).toFixed(1)}/${(b / 1000).toFixed(1)}`,
          );
          log(
            `  run ${run + 1} ${contender.id.padEnd(9)} trigger alone ` +
              `${(measured.triggerCpuUs / setup.events).toFixed(0)} µs CPU; net of it per window ` +
              `${measured.netUs.map((us) => us.toFixed(1)).join(', ')} µs per delivery ` +
              `(windows ${walls.join(', ')} s events/trigger); at rest ${restPct.toFixed(2)}% of a core`,
          );
        }
        const rssKiB = (after.rss - before.rss) / (n - half) / KiB;
        const heapKiB = (after.heapUsed - before.heapUsed) / (n - half) / KiB;
        addValue(result, contender.id, 'cpuUs', cpuUs);
        if (bursts) addValue(result, contender.id, 'perCpuS', 1e6 / cpuUs);
        addValue(result, contender.id, 'p50', report.p50Ms);
        addValue(result, contender.id, 'p99', report.p99Ms);
        addValue(result, contender.id, 'rssKiB', rssKiB);
        addValue(result, contender.id, 'heapKiB', heapKiB);
        addValue(result, contender.id, 'lost', report.lost);
        addValue(result, contender.id, 'otherLoad', otherLoad);
        log(
          `  run ${run + 1} ${contender.id.padEnd(9)} ${cpuUs.toFixed(2).padStart(6)} µs CPU/delivery  ` +
            `p50 ${report.p50Ms.toFixed(1)} ms  p99 ${report.p99Ms.toFixed(1)} ms  ` +
            `${rssKiB.toFixed(1)} KiB RSS / ${heapKiB.toFixed(1)} KiB heap per connection  ` +
            `${report.delivered}/${report.expected} delivered  (connect ${(connectMs / 1000).toFixed(1)} s, ` +
            `subscribers' CPU ${(report.clientCpuUs / Math.max(1, report.delivered)).toFixed(2)} µs/delivery, ` +
            `other processes ${otherLoad.toFixed(0)}% of a core)`,
        );
        if (report.lost > 0 || report.outOfOrder > 0 || report.disconnects > 0) {
          result.notes.push(
            `run ${run + 1} ${contender.id}: ${report.lost} deliveries lost, ${report.outOfOrder} ` +
              `duplicated or out of order, ${report.disconnects} subscribers disconnected, ` +
              `${report.timeouts} events timed out`,
          );
        }
      } finally {
        await subscribers?.stop();
        await server.stop();
      }
    }
  }
  noteOtherLoad(result);
  return result;
}

/**
 * The warm-up events; with `netOfTrigger`, as many trigger-only posts to the same empty rooms
 * after them, warmed up the same way. Returns how many such posts were made.
 */
export async function warmUp(
  setup: FanoutSetup,
  subscribers: BenchChild<unknown>,
  batch: Omit<EventsArgs, 'from' | 'count'>,
): Promise<number> {
  await subscribers.request('events', { ...batch, from: 0, count: setup.warmupEvents });
  if (!setup.netOfTrigger) return 0;
  await subscribers.request('triggers', {
    from: TRIGGER_ONLY_FROM,
    count: setup.warmupEvents,
    rooms: setup.rooms ?? 1,
  });
  return setup.warmupEvents;
}

/** What the measured windows of one contender and run came to. */
interface MeasuredWindows {
  /** Deliveries of every measured event (one report over all the windows). */
  report: DeliveryReport;
  /** Server CPU over the event windows, µs. */
  eventsCpuUs: number;
  /** Server CPU over the trigger-only windows (netOfTrigger), µs. */
  triggerCpuUs: number;
  /** Per window pair (netOfTrigger): CPU per delivery net of the trigger, µs. */
  netUs: number[];
  /** Per window pair (netOfTrigger): how long the events and the trigger windows lasted, ms. */
  wallMs: Array<[number, number]>;
}

/**
 * The server's CPU around the measured events, in `setup.windows` windows; with
 * `netOfTrigger`, each followed by a window of as many posts to rooms nobody subscribes to
 * (the same posts, made the same way: the trigger alone), paced like the events, so that it
 * lasts as long and holds as much of the server's idle upkeep (pings, timers). Unpaced, it was
 * a fifth as long, and the upkeep of the difference counted as delivery: ~2.5 µs per delivery
 * for a server that pings 20,000 sockets, nothing for one that pings none. The net of one pair
 * is (events window − trigger window) ÷ its deliveries, and the run's figure is the median
 * pair: one major garbage collection (0.3–0.6 s of CPU on this 200 MB heap) landing in one
 * window by chance would otherwise decide the run.
 */
export async function measureWindows(
  setup: FanoutSetup,
  server: BenchChild<ServerInfo>,
  subscribers: BenchChild<unknown>,
  batch: Omit<EventsArgs, 'from' | 'count'>,
  triggersBefore: number,
): Promise<MeasuredWindows> {
  const windows = setup.netOfTrigger ? (setup.windows ?? 1) : 1;
  const perWindow = Math.ceil(setup.events / windows);
  const measured = { from: setup.warmupEvents, count: setup.events };
  let report: DeliveryReport | undefined;
  let eventsCpuUs = 0;
  let triggerCpuUs = 0;
  const netUs: number[] = [];
  const wallMs: Array<[number, number]> = [];
  for (let offset = 0; offset < setup.events; offset += perWindow) {
    const count = Math.min(perWindow, setup.events - offset);
    const deliveredBefore = report?.delivered ?? 0;
    await server.request('cpu-start');
    report = await subscribers.request<DeliveryReport>('events', {
      ...batch,
      from: measured.from + offset,
      count,
      batch: measured,
    });
    const events = await server.request<CpuWindow>('cpu-stop');
    eventsCpuUs += events.cpuUs;
    if (!setup.netOfTrigger) continue;
    await server.request('cpu-start');
    await subscribers.request('triggers', {
      from: TRIGGER_ONLY_FROM + triggersBefore + offset,
      count,
      rooms: setup.rooms ?? 1,
      paced: true,
    } satisfies TriggersArgs);
    const alone = await server.request<CpuWindow>('cpu-stop');
    triggerCpuUs += alone.cpuUs;
    wallMs.push([events.wallMs, alone.wallMs]);
    const delivered = report.delivered - deliveredBefore;
    netUs.push(Math.max(0, events.cpuUs - alone.cpuUs) / Math.max(1, delivered));
  }
  return {
    report: report!,
    eventsCpuUs,
    triggerCpuUs,
    netUs,
    wallMs,
  };
}

/** How long the server is watched at rest, after the measured windows. */
const REST_WINDOW_MS = 5_000;

/**
 * The server's CPU with every subscriber connected and no events, % of a core: its idle
 * upkeep (liveness pings and pongs, timers, token-expiry sweeps), which the paced trigger
 * windows take out of the net and this reports on its own.
 */
export async function measureRest(server: BenchChild<ServerInfo>): Promise<number> {
  await server.request('cpu-start');
  await sleep(REST_WINDOW_MS);
  const rest = await server.request<CpuWindow>('cpu-stop');
  return rest.cpuUs / (rest.wallMs * 10);
}

async function snapshot(
  server: Awaited<ReturnType<typeof startServer>>,
  options: BenchOptions,
  name: string,
): Promise<void> {
  mkdirSync(options.profileDir, { recursive: true });
  const file = await server.request<string>('heap-snapshot', { dir: options.profileDir, name });
  process.stdout.write(`  heap snapshot ${file}\n`);
}
