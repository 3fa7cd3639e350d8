/**
 * Every option's public names and one-line help: the env variable, the `roomcast serve` flag
 * (kebab-case of the option) and the unit. `roomcast serve --help` is generated from this, and
 * the Record type makes a new option without docs a compile error.
 */
import type { z } from 'zod';
import type { optionsSchema } from './config.ts';

type OptionKey = keyof z.output<typeof optionsSchema>;

/** How an option's value is written. */
export type OptionUnit =
  'duration' | 'size' | 'list' | 'number' | 'string' | 'boolean' | 'level' | 'proxies';

/** The docs of one option. */
export interface OptionDoc {
  env: string;
  unit: OptionUnit;
  help: string;
}

/** Docs of every option, in the order `--help` lists them. */
export const OPTION_DOCS: Record<OptionKey, OptionDoc> = {
  port: { env: 'PORT', unit: 'number', help: 'listen port' },
  host: { env: 'HOST', unit: 'string', help: 'listen address' },
  production: {
    env: 'NODE_ENV',
    unit: 'boolean',
    help: 'strict mode (NODE_ENV=production): missing secrets fail startup',
  },
  huddle01ApiKeys: {
    env: 'HUDDLE01_API_KEY',
    unit: 'list',
    help: 'key(s) that sign webhooks; all accepted (rotation). Dev: generated',
  },
  tokenSecrets: {
    env: 'ROOMCAST_TOKEN_SECRET',
    unit: 'list',
    help: 'HS256 secret(s) for subscriber tokens; sign with the first. Dev: generated',
  },
  publishKeys: {
    env: 'ROOMCAST_PUBLISH_KEY',
    unit: 'list',
    help: 'key(s) that authorise POST /rooms/:id/publish (app events); unset: publishing off',
  },
  redisUrl: {
    env: 'REDIS_URL',
    unit: 'string',
    help: 'Redis engine for several nodes: redis://, rediss://, redis+cluster://h:p,h:p, redis+sentinel://h:p,h:p/<master> (unset: in-memory)',
  },
  redisPrefix: {
    env: 'ROOMCAST_REDIS_PREFIX',
    unit: 'string',
    help: 'prefix of every Redis key; shared by the nodes of one deployment',
  },
  redisReplicaAcks: {
    env: 'ROOMCAST_REDIS_REPLICA_ACKS',
    unit: 'number',
    help: 'replicas that confirm an append (WAIT) before a webhook is acknowledged; 1 survives a failover',
  },
  allowedOrigins: {
    env: 'ROOMCAST_ALLOWED_ORIGINS',
    unit: 'list',
    help: 'origins for WS/SSE and CORS (dev: localhost; production: same origin)',
  },
  webhookTolerance: {
    env: 'ROOMCAST_WEBHOOK_TOLERANCE',
    unit: 'duration',
    help: 'accepted age of a signature timestamp, either way',
  },
  webhookMaxBytes: {
    env: 'ROOMCAST_WEBHOOK_MAX_BYTES',
    unit: 'size',
    help: 'largest webhook body (413 above)',
  },
  dedupWindow: {
    env: 'ROOMCAST_DEDUP_WINDOW',
    unit: 'duration',
    help: 'how long webhook ids are remembered',
  },
  dedupMaxIds: {
    env: 'ROOMCAST_DEDUP_MAX_IDS',
    unit: 'number',
    help: 'most webhook ids remembered (oldest forgotten first)',
  },
  historySize: {
    env: 'ROOMCAST_HISTORY_SIZE',
    unit: 'number',
    help: 'events kept per room for resume',
  },
  historyTtl: {
    env: 'ROOMCAST_HISTORY_TTL',
    unit: 'duration',
    help: 'oldest event kept for resume',
  },
  roomIdleTtl: {
    env: 'ROOMCAST_ROOM_IDLE_TTL',
    unit: 'duration',
    help: 'a room without subscribers or events this long is forgotten',
  },
  trackHold: {
    env: 'ROOMCAST_TRACK_HOLD',
    unit: 'duration',
    help: "how long a track event waits for its peer's peer:joined",
  },
  presenceGrace: {
    env: 'ROOMCAST_PRESENCE_GRACE',
    unit: 'duration',
    help: 'a peer that left shows as reconnecting this long; a rejoin within it is a blip (`0`: off)',
  },
  deadLetterLimit: { env: 'ROOMCAST_DEAD_LETTERS', unit: 'number', help: 'dead letters kept' },
  maxSubscriptions: {
    env: 'ROOMCAST_MAX_SUBSCRIPTIONS',
    unit: 'number',
    help: 'rooms per connection',
  },
  maxBufferedBytes: {
    env: 'ROOMCAST_MAX_BUFFERED',
    unit: 'size',
    help: 'unsent bytes before a subscriber is dropped as slow (snapshots and replays count)',
  },
  subscribeRate: {
    env: 'ROOMCAST_SUBSCRIBE_RATE',
    unit: 'number',
    help: 'subscribe frames per WebSocket per second (burst: the max subscriptions)',
  },
  pingInterval: {
    env: 'ROOMCAST_PING_INTERVAL',
    unit: 'duration',
    help: 'WebSocket ping and heartbeat-frame interval',
  },
  pongTimeout: { env: 'ROOMCAST_PONG_TIMEOUT', unit: 'duration', help: 'time allowed for a pong' },
  sseHeartbeat: {
    env: 'ROOMCAST_SSE_HEARTBEAT',
    unit: 'duration',
    help: 'SSE heartbeat message interval',
  },
  sseRetry: {
    env: 'ROOMCAST_SSE_RETRY',
    unit: 'duration',
    help: 'reconnect delay hinted to SSE clients',
  },
  maxFrameBytes: {
    env: 'ROOMCAST_MAX_FRAME_BYTES',
    unit: 'size',
    help: 'largest client WebSocket frame',
  },
  maxConnections: {
    env: 'ROOMCAST_MAX_CONNECTIONS',
    unit: 'number',
    help: 'open subscriber connections per process',
  },
  maxConnectionsPerIp: {
    env: 'ROOMCAST_MAX_CONNECTIONS_PER_IP',
    unit: 'number',
    help: 'open subscriber connections per client IP',
  },
  connectRatePerIp: {
    env: 'ROOMCAST_CONNECT_RATE',
    unit: 'number',
    help: 'connection attempts per client IP per second',
  },
  trustProxy: {
    env: 'ROOMCAST_TRUST_PROXY',
    unit: 'proxies',
    help: 'client IP from X-Forwarded-For through the proxies in front: their number (1) or addresses (10.0.0.0/8, loopback)',
  },
  authTimeout: {
    env: 'ROOMCAST_AUTH_TIMEOUT',
    unit: 'duration',
    help: 'time a tokenless WebSocket has to send {type:"auth"}',
  },
  tokenGrace: {
    env: 'ROOMCAST_TOKEN_GRACE',
    unit: 'duration',
    help: 'time after a WS token expires for a refresh before close 4001',
  },
  maxTokenTtl: {
    env: 'ROOMCAST_MAX_TOKEN_TTL',
    unit: 'duration',
    help: 'longest subscriber token lifetime accepted (longer ones refused)',
  },
  webhookRateLimit: {
    env: 'ROOMCAST_WEBHOOK_RATE_LIMIT',
    unit: 'number',
    help: 'webhooks per minute per client IP (0: no limit)',
  },
  webhookRefusalLimit: {
    env: 'ROOMCAST_WEBHOOK_REFUSAL_LIMIT',
    unit: 'number',
    help: 'refused webhooks per minute per client IP before its next get 429 unread (0: no limit)',
  },
  shutdownTimeout: {
    env: 'ROOMCAST_SHUTDOWN_TIMEOUT',
    unit: 'duration',
    help: 'longest graceful shutdown before exiting anyway',
  },
  console: {
    env: 'ROOMCAST_CONSOLE',
    unit: 'boolean',
    help: 'serve the moderator console at / (false: no page, no assets)',
  },
  metrics: {
    env: 'ROOMCAST_METRICS',
    unit: 'boolean',
    help: 'serve Prometheus metrics at /metrics (false: not routed)',
  },
  metricsToken: {
    env: 'ROOMCAST_METRICS_TOKEN',
    unit: 'string',
    help: '/metrics requires Authorization: Bearer <this> (unset: open)',
  },
  asyncApi: {
    env: 'ROOMCAST_ASYNCAPI',
    unit: 'boolean',
    help: 'serve the AsyncAPI document at /asyncapi.json (false: not routed)',
  },
  reconcileInterval: {
    env: 'ROOMCAST_RECONCILE_INTERVAL',
    unit: 'duration',
    help: "heal presence from Huddle01's live API every so often; 0/off: never (unset: 60s in production, off in dev)",
  },
  reconcileBudget: {
    env: 'ROOMCAST_RECONCILE_BUDGET',
    unit: 'number',
    help: 'Huddle01 API calls per minute reconcile may make, per node',
  },
  reconcileConcurrency: {
    env: 'ROOMCAST_RECONCILE_CONCURRENCY',
    unit: 'number',
    help: 'Huddle01 API calls in flight at once',
  },
  reconcileTimeout: {
    env: 'ROOMCAST_RECONCILE_TIMEOUT',
    unit: 'duration',
    help: 'timeout of one Huddle01 API call',
  },
  huddle01ApiUrl: {
    env: 'HUDDLE01_API_URL',
    unit: 'string',
    help: "base URL of Huddle01's API, e.g. an egress proxy (unset: the SDK's own)",
  },
  logLevel: {
    env: 'LOG_LEVEL',
    unit: 'level',
    help: 'fatal, error, warn, info, debug, trace or silent',
  },
  logFormat: {
    env: 'LOG_FORMAT',
    unit: 'string',
    help: 'json (JSON lines), pretty (readable lines) or auto (readable on a terminal)',
  },
};

/** The option's flag, mirroring its env name: `ROOMCAST_MAX_BUFFERED` → `max-buffered`, `PORT` → `port`. */
export function flagOf(key: string): string {
  const env = OPTION_DOCS[key as OptionKey]?.env ?? key;
  return env
    .replace(/^ROOMCAST_/, '')
    .toLowerCase()
    .replace(/_/g, '-');
}

/** The flag spelled after the option's camelCase key (`historySize` → `history-size`), still accepted. */
export function legacyFlagOf(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** ms → "500ms" / "30s" / "5m" / "24h" (the largest exact unit). */
export function formatDuration(ms: number): string {
  // No days: the docs and the README write a day as 24h.
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** bytes → "1MiB" / "4KiB" / "100" (the largest exact unit). */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** A parsed default as a user would write it. */
export function formatDefault(unit: OptionUnit, value: unknown): string {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return '(unset)';
  if (unit === 'duration') return formatDuration(value as number);
  if (unit === 'size') return formatSize(value as number);
  return Array.isArray(value) ? value.join(',') : String(value);
}
