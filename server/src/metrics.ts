/**
 * Prometheus metrics (prom-client), names prefixed `roomcast_`, in a registry of this plugin
 * instance. Hot-path figures (deliveries, connections) are plain counters in the hub and the
 * transports, read at scrape time, so delivering costs no metrics call.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DURABILITY_METRIC_SETTINGS } from './engine/durability.ts';
import type { DurabilityReport } from './engine/durability.ts';
import type { HubStats } from './hub/hub.ts';

/** Connection counts the transports keep. */
export interface TransportStats {
  ws: number;
  sse: number;
  /** WebSockets terminated because no pong came back in time (a dead network path). */
  heartbeatTimeouts: number;
}

/** What the reconciler counts (docs/reconcile.md). */
export interface ReconcileMetrics {
  /** Huddle01 API calls by call (live_sessions, live_session, participants, sessions) and result. */
  readonly calls: Counter<'call' | 'result'>;
  /** Synthetic events appended, by kind (peer_joined, peer_left, meeting_started, meeting_ended, media). */
  readonly corrections: Counter<'kind'>;
  /** Reconcile failures by stage (api, engine). */
  readonly errors: Counter<'stage'>;
  /** Room passes by trigger (bootstrap, interval) and outcome. */
  readonly passes: Counter<'trigger' | 'outcome'>;
}

/** The metrics of one roomcast instance. */
export interface Metrics {
  readonly registry: Registry;
  /** Webhooks by event and outcome (appended, duplicate, held, dead-letter, refused, engine-error). */
  readonly webhooks: Counter<'event' | 'outcome'>;
  /** App events published, by outcome (appended, duplicate, refused, engine-error). */
  readonly published: Counter<'outcome'>;
  /** Dead letters kept, by reason (UNKNOWN_EVENT, INVALID_PAYLOAD, UNROUTABLE). */
  readonly deadLetters: Counter<'reason'>;
  /** Webhooks refused by verification, by reason (the error code). */
  readonly verificationFailures: Counter<'reason'>;
  /** Subscribers dropped or refused, by reason (slow_consumer, heartbeat_timeout, limit_ip, limit_process, limit_rate). */
  readonly drops: Counter<'reason'>;
  /** Engine operations that failed (append, snapshot, read). */
  readonly engineErrors: Counter;
  /** Time from a webhook's acceptance to the end of its fan-out on this node. */
  readonly fanoutLatency: Histogram;
  /** The reconciler's counters (stay at zero while reconcile is off). */
  readonly reconcile: ReconcileMetrics;
  /** Prometheus text. */
  render(): Promise<string>;
}

/** Options: where the hub's and transports' counters live. */
export interface MetricsSources {
  hub: () => HubStats;
  transports: TransportStats;
  /** Rooms with local subscribers. */
  activeRooms: () => number;
  /** This node's most-watched rooms with their local subscriber counts (occupancy). */
  topRooms?: (n: number) => [string, number][];
  /** Rooms whose state this process holds (undefined: the engine keeps them elsewhere). */
  roomsHeld?: () => number | undefined;
  /** The storage's last durability report (undefined: none, or not read yet). */
  durability?: () => DurabilityReport | undefined;
}

/** Rooms the per-room occupancy gauge reports (bounded: a room id is a label value). */
export const OCCUPANCY_METRIC_ROOMS = 20;

/** Creates the registry and every metric. */
export function createMetrics({
  hub: hubStats,
  transports,
  activeRooms,
  topRooms,
  roomsHeld,
  durability,
}: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Gauge({
    name: 'roomcast_connections',
    help: 'Open subscriber connections by transport.',
    labelNames: ['transport'],
    registers,
    collect() {
      this.set({ transport: 'ws' }, transports.ws);
      this.set({ transport: 'sse' }, transports.sse);
    },
  });
  new Gauge({
    name: 'roomcast_subscriptions',
    help: 'Open room subscriptions on this node.',
    registers,
    collect() {
      this.set(hubStats().subscriptions);
    },
  });
  new Gauge({
    name: 'roomcast_active_rooms',
    help: 'Rooms with at least one subscriber on this node.',
    registers,
    collect() {
      this.set(activeRooms());
    },
  });
  new Gauge({
    name: 'roomcast_room_subscribers',
    help: `Subscribers of this node's ${OCCUPANCY_METRIC_ROOMS} most-watched rooms (sum by room across nodes for the totals).`,
    labelNames: ['room'],
    registers,
    collect() {
      this.reset();
      for (const [room, count] of topRooms?.(OCCUPANCY_METRIC_ROOMS) ?? [])
        this.set({ room }, count);
    },
  });
  new Gauge({
    name: 'roomcast_rooms_held',
    help: 'Rooms whose state this process holds in memory, subscribed or not (in-memory engine; 0 with Redis, which holds them).',
    registers,
    collect() {
      const held = roomsHeld?.();
      if (held !== undefined) this.set(held);
    },
  });
  new Gauge({
    name: 'roomcast_durability_risk',
    help: 'Redis settings that can lose acknowledged webhooks or evict room keys: 1 per risky setting (see /readyz and docs/deployment.md), 0 when safe.',
    labelNames: ['setting'],
    registers,
    collect() {
      this.reset();
      const report = durability?.();
      if (report === undefined) return;
      const risky = new Set(report.warnings.map((warning) => warning.setting));
      for (const setting of DURABILITY_METRIC_SETTINGS) {
        this.set({ setting }, risky.has(setting) ? 1 : 0);
      }
    },
  });
  new Counter({
    name: 'roomcast_deliveries_total',
    help: 'Event frames handed to subscriber connections.',
    registers,
    collect() {
      this.reset();
      this.inc(hubStats().deliveries);
    },
  });
  new Counter({
    name: 'roomcast_resumes_total',
    help: 'Subscriptions that asked to resume, by outcome (recovered from history, or a snapshot).',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset();
      this.inc({ outcome: 'recovered' }, hubStats().resumesRecovered);
      this.inc({ outcome: 'snapshot' }, hubStats().resumesSnapshot);
    },
  });
  new Counter({
    name: 'roomcast_snapshots_serialized_total',
    help: 'Snapshot frames serialized: once per room position, however many subscribers got it.',
    registers,
    collect() {
      this.reset();
      this.inc(hubStats().snapshotsSerialized);
    },
  });
  // Slow-consumer drops and heartbeat timeouts are counted by the hub and the WS route and
  // folded in at scrape time; limit refusals are counted where they happen.
  let slowSeen = 0;
  let heartbeatSeen = 0;
  const drops = new Counter({
    name: 'roomcast_drops_total',
    help: 'Subscribers dropped or refused, by reason.',
    labelNames: ['reason'],
    registers,
    collect() {
      this.inc({ reason: 'slow_consumer' }, hubStats().slowConsumerDrops - slowSeen);
      slowSeen = hubStats().slowConsumerDrops;
      this.inc({ reason: 'heartbeat_timeout' }, transports.heartbeatTimeouts - heartbeatSeen);
      heartbeatSeen = transports.heartbeatTimeouts;
    },
  });

  return {
    registry,
    webhooks: new Counter({
      name: 'roomcast_webhooks_total',
      help: 'Webhooks received, by event and outcome.',
      labelNames: ['event', 'outcome'],
      registers,
    }),
    published: new Counter({
      name: 'roomcast_published_total',
      help: 'App events published (POST /rooms/:roomId/publish, app.roomcast.publish), by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'roomcast_dead_letters_total',
      help: 'Dead letters kept, by reason (UNKNOWN_EVENT, INVALID_PAYLOAD, UNROUTABLE: a held track event whose peer never joined).',
      labelNames: ['reason'],
      registers,
    }),
    verificationFailures: new Counter({
      name: 'roomcast_verification_failures_total',
      help: 'Webhooks refused by signature or freshness checks, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    drops,
    engineErrors: new Counter({
      name: 'roomcast_engine_errors_total',
      help: 'Engine operations that failed.',
      registers,
    }),
    fanoutLatency: new Histogram({
      name: 'roomcast_fanout_latency_seconds',
      help: 'From webhook acceptance to the end of its fan-out on this node.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    reconcile: {
      calls: new Counter({
        name: 'roomcast_reconcile_api_calls_total',
        help: "Calls to Huddle01's live API by call and result (ok, not_found, rate_limited, timeout, error).",
        labelNames: ['call', 'result'],
        registers,
      }),
      corrections: new Counter({
        name: 'roomcast_reconcile_corrections_total',
        help: 'Synthetic events appended by reconcile, by kind.',
        labelNames: ['kind'],
        registers,
      }),
      errors: new Counter({
        name: 'roomcast_reconcile_errors_total',
        help: 'Reconcile failures by stage (api, engine).',
        labelNames: ['stage'],
        registers,
      }),
      passes: new Counter({
        name: 'roomcast_reconcile_passes_total',
        help: 'Rooms compared with the live API, by trigger (bootstrap, interval) and outcome.',
        labelNames: ['trigger', 'outcome'],
        registers,
      }),
    },
    render: () => registry.metrics(),
  };
}
