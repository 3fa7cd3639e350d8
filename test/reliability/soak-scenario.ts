/**
 * Soak: wave after wave of meetings for a bounded time against one server (a child process run
 * with --expose-gc, so its memory is measured alone and after full collections). Each wave
 * opens WS and SSE subscribers on fresh rooms, plays realistic meetings (the script of
 * `roomcast simulate`) with random drops and resumes, checks the invariant, and closes
 * everything; the rooms then go idle and must be evicted. After each wave, once the server is
 * quiet, it is probed: RSS, heap, active timers and sockets, listeners on long-lived emitters,
 * and its own gauges. After the warm-up, the medians of the first and last windows must match
 * within a tolerance. Used by soak.test.ts (90 s) and `npm run soak` (10 min).
 */
import { meetingScript } from '../../server/src/cli/meeting-script.ts';
import { sample } from '../helpers/metrics.ts';
import { testToken } from '../helpers/server.ts';
import { createInvariantChecker } from './invariant-checker.ts';
import type { Violation } from './invariant-checker.ts';
import { createLoadDriver } from './load-driver.ts';
import { startProbeServer } from './probe-client.ts';
import type { ProbeReport, ProbeServer } from './probe-client.ts';
import { settleAndVerify } from './room-heads.ts';
import { createWebhookPoster, playScript } from './webhook-poster.ts';

/** Size and length of a soak. */
export interface SoakOptions {
  durationMs: number;
  /** Subscribers per wave. Default 300 WS + 60 SSE. */
  ws?: number;
  sse?: number;
  /** Rooms per wave and peers per meeting. Default 20 and 8. */
  rooms?: number;
  peers?: number;
  /** How long each wave's meetings last, ms. Default 8 s. */
  meetingMs?: number;
  progress?: (line: string) => void;
}

/** One quiet-time probe, after a wave. */
export interface SoakSample {
  wave: number;
  atMs: number;
  rss: number;
  heapUsed: number;
  external: number;
  timers: number;
  sockets: number;
  listeners: number;
  /** Rooms the engine still holds (GET /rooms). */
  roomsHeld: number;
}

/** How one figure moved between the first and the last window after the warm-up. */
export interface Drift {
  figure: string;
  first: number;
  last: number;
  allowed: number;
  ok: boolean;
}

/** The soak's figures. */
export interface SoakReport {
  durationMs: number;
  waves: number;
  webhooks: number;
  acknowledged: number;
  eventsDelivered: number;
  connectionsOpened: number;
  drops: number;
  resumes: number;
  resyncs: number;
  /** Rooms with state at the very end, after the idle TTL (must be 0: all evicted). */
  roomsLeft: number;
  /** The server's gauges at the end (must be 0). */
  endGauges: { connections: number; subscriptions: number; activeRooms: number };
  baseline: SoakSample;
  samples: SoakSample[];
  flat: { ok: boolean; drifts: Drift[] };
  violations: Violation[];
}

const MiB = 2 ** 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Compares the medians of the first and last thirds of the samples after the warm-up. */
export function drifts(samples: SoakSample[]): Drift[] {
  const third = Math.max(1, Math.floor(samples.length / 3));
  const first = samples.slice(0, third);
  const last = samples.slice(-third);
  const figure = (name: keyof SoakSample, allowed: (base: number) => number): Drift => {
    const a = median(first.map((s) => s[name]));
    const b = median(last.map((s) => s[name]));
    return { figure: name, first: a, last: b, allowed: allowed(a), ok: b - a <= allowed(a) };
  };
  return [
    // Tolerances: a leak of a few KiB per connection or per room shows far above these over
    // dozens of waves; allocator and JIT noise stays below them.
    figure('heapUsed', (base) => Math.max(base * 0.1, 4 * MiB)),
    figure('rss', (base) => Math.max(base * 0.15, 24 * MiB)),
    figure('timers', () => 2),
    figure('sockets', () => 0),
    figure('listeners', () => 0),
  ];
}

async function quietProbe(server: ProbeServer, wave: number, started: number, token: string) {
  // Quiet: no connection left open on the server side.
  for (let i = 0; i < 100; i++) {
    const metrics = await server.metrics();
    if (
      sample(metrics, 'roomcast_connections', { transport: 'ws' }) === 0 &&
      sample(metrics, 'roomcast_connections', { transport: 'sse' }) === 0
    ) {
      break;
    }
    await sleep(100);
  }
  const report = await server.probe();
  const rooms = (await (
    await fetch(`${server.url}/rooms?limit=500`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as { rooms: unknown[] };
  return toSample(report, wave, Date.now() - started, rooms.rooms.length);
}

function toSample(report: ProbeReport, wave: number, atMs: number, roomsHeld: number): SoakSample {
  const { Timeout = 0, TCPWRAP = 0 } = report.tracked;
  const { process, server, websocketServer } = report.listeners;
  return {
    wave,
    atMs,
    rss: report.rss,
    heapUsed: report.heapUsed,
    external: report.external,
    timers: Timeout,
    sockets: TCPWRAP,
    listeners: process + server + websocketServer,
    roomsHeld,
  };
}

/** Runs the soak. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { durationMs, ws = 300, sse = 60, rooms = 20, peers = 8, meetingMs = 8000 } = options;
  const progress = options.progress ?? (() => undefined);
  const started = Date.now();
  const server = await startProbeServer({
    ROOMCAST_MAX_CONNECTIONS_PER_IP: '100000',
    // Short lifetimes so that a steady state is reached within the run: rooms forgotten 2 s
    // after their last subscriber and event, webhook ids after 20 s (by default a day's
    // worth, up to 500,000 of them, would be kept: growth by design, not a leak).
    ROOMCAST_ROOM_IDLE_TTL: '2s',
    ROOMCAST_DEDUP_WINDOW: '20s',
    ROOMCAST_TRACK_HOLD: '2s',
    // Liveness timers run often, so that their bookkeeping is soaked too.
    ROOMCAST_PING_INTERVAL: '2s',
    ROOMCAST_PONG_TIMEOUT: '2s',
    ROOMCAST_SSE_HEARTBEAT: '1s',
    PROBE_TRACK_RESOURCES: '1',
  });
  const token = await testToken();
  const violations: Violation[] = [];
  const samples: SoakSample[] = [];
  const totals = {
    webhooks: 0,
    acknowledged: 0,
    events: 0,
    opened: 0,
    drops: 0,
    resumes: 0,
    resyncs: 0,
  };
  try {
    const baseline = await quietProbe(server, 0, started, token);
    let wave = 0;
    while (Date.now() - started < durationMs) {
      wave++;
      const checker = createInvariantChecker();
      const poster = createWebhookPoster({ checker, urls: [server.url] });
      const prefix = `soak-${wave}`;
      const roomIds = Array.from({ length: rooms }, (_, i) => `${prefix}-${i + 1}`);
      const driver = createLoadDriver({
        checker,
        urls: [server.url],
        token,
        rooms: roomIds,
        ws,
        sse,
      });
      await driver.open();
      const stopChurn = driver.churn((ws + sse) / 20);
      const script = meetingScript({
        rooms,
        peers,
        durationMs: meetingMs,
        startAt: Date.now(),
        seed: wave,
        prefix,
      });
      await playScript(poster, script);
      stopChurn();
      const check = await settleAndVerify({
        url: server.url,
        token,
        rooms: roomIds,
        driver,
        checker,
      });
      await driver.close();
      violations.push(
        ...check.violations.map((v) => ({ ...v, detail: `wave ${wave}: ${v.detail}` })),
      );
      totals.webhooks += poster.stats.webhooks;
      totals.acknowledged += check.acknowledged;
      totals.events += check.eventsDelivered;
      totals.opened += ws + sse + driver.stats.reconnects;
      totals.drops += driver.stats.drops;
      totals.resumes += check.resumes;
      totals.resyncs += check.resyncs;
      const probe = await quietProbe(server, wave, started, token);
      samples.push(probe);
      progress(
        `wave ${wave}: ${poster.stats.webhooks} webhooks, ${check.eventsDelivered} events, ${driver.stats.drops} drops, ` +
          `violations ${check.violations.length}; server heap ${(probe.heapUsed / MiB).toFixed(1)} MiB, ` +
          `RSS ${(probe.rss / MiB).toFixed(0)} MiB, timers ${probe.timers}, sockets ${probe.sockets}, ` +
          `listeners ${probe.listeners}, rooms held ${probe.roomsHeld}`,
      );
    }
    // Every room is idle now: after the idle TTL (and one sweep) none may be left.
    let roomsLeft = Infinity;
    for (let i = 0; i < 100 && roomsLeft > 0; i++) {
      const body = (await (
        await fetch(`${server.url}/rooms`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { rooms: unknown[] };
      roomsLeft = body.rooms.length;
      if (roomsLeft > 0) await sleep(200);
    }
    const metrics = await server.metrics();
    // Samples after the warm-up (the first third of the waves, at least one).
    const warm = samples.slice(Math.max(1, Math.floor(samples.length / 3)));
    const measured = drifts(warm);
    return {
      durationMs: Date.now() - started,
      waves: wave,
      webhooks: totals.webhooks,
      acknowledged: totals.acknowledged,
      eventsDelivered: totals.events,
      connectionsOpened: totals.opened,
      drops: totals.drops,
      resumes: totals.resumes,
      resyncs: totals.resyncs,
      roomsLeft,
      endGauges: {
        connections:
          sample(metrics, 'roomcast_connections', { transport: 'ws' }) +
          sample(metrics, 'roomcast_connections', { transport: 'sse' }),
        subscriptions: sample(metrics, 'roomcast_subscriptions'),
        activeRooms: sample(metrics, 'roomcast_active_rooms'),
      },
      baseline,
      samples,
      flat: { ok: measured.every((drift) => drift.ok), drifts: measured },
      violations,
    };
  } finally {
    await server.kill();
  }
}
