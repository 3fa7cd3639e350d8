/**
 * roomcast configuration: one zod schema with defaults, fed either by plugin options
 * (camelCase) or by environment variables (the public names in DESIGN.md). Each option is one
 * entry: its schema and default, then its env name, unit and help (config-meta.ts), from which
 * `--help`, the README's table, `.env.example` and the engines' defaults are made. Parsed once,
 * deep-frozen; an invalid value fails fast with a message naming the variable.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration, parseSize } from './units.ts';
import { optionDocs } from './config-meta.ts';
import type { OptionDoc } from './config-meta.ts';
import { parseRedisUrl } from './engine/redis/redis-url.ts';

const duration = (fallback: string) =>
  z
    .union([z.number(), z.string()])
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined || ms < 0) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration like 500ms, 30s, 5m, 24h' });
        return z.NEVER;
      }
      return ms;
    });

/** A duration that may be switched off (`0` or `off`); undefined when not given. */
const optionalDuration = z
  .union([z.number(), z.string()])
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && value.trim().toLowerCase() === 'off') return 0;
    const ms = parseDuration(value);
    if (ms === undefined || ms < 0) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration like 30s, 1m, or 0 / off' });
      return z.NEVER;
    }
    return ms;
  });

const size = (fallback: string) =>
  z
    .union([z.number(), z.string()])
    .default(fallback)
    .transform((value, ctx) => {
      const bytes = parseSize(value);
      if (bytes === undefined || bytes <= 0) {
        ctx.addIssue({ code: 'custom', message: 'expected a size like 1MiB, 512KiB or bytes' });
        return z.NEVER;
      }
      return bytes;
    });

/** A whole number ≥ `min`, with a message naming the accepted form. */
const whole = (min: number) => {
  const error = `expected a whole number${min === 0 ? ' (0 or more)' : ` of ${min} or more`}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error });
};

const count = (fallback: number) => whole(1).default(fallback);

/** A boolean, or its env spelling (`true`/`false`/`1`/`0`). */
const flag = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])], {
      error: 'expected true or false (or 1 / 0)',
    })
    .default(fallback)
    .transform((value) => value === true || value === 'true' || value === '1');

/** Named ranges proxy-addr (fastify's trustProxy) knows. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IP address, or one with a CIDR suffix (`10.0.0.0/8`), or a named range. */
function isProxyAddress(text: string): boolean {
  if (PROXY_RANGES.has(text)) return true;
  const [address = '', bits, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * Which proxies in front are trusted for X-Forwarded-For: `false` (none), a hop count, or
 * their addresses. `true` (trust every hop, so the left-most entry, which the client writes
 * itself) is refused.
 */
const trustProxy = z
  .union([z.boolean(), z.number(), z.string(), z.array(z.string())])
  .default(false)
  .transform((value, ctx): false | number | string[] => {
    const message =
      'expected the number of proxies in front (e.g. 1) or their addresses (e.g. 10.0.0.1,10.0.0.0/8 or loopback), or false; true would take any client-written X-Forwarded-For';
    const text = typeof value === 'string' ? value.trim().toLowerCase() : value;
    if (text === false || text === 'false' || text === 0 || text === '0' || text === '')
      return false;
    if (typeof text === 'number' || (typeof text === 'string' && /^[0-9]+$/.test(text))) {
      const hops = Number(text);
      if (Number.isInteger(hops) && hops > 0 && hops <= 100) return hops;
    } else if (text !== true && text !== 'true') {
      const items = (typeof text === 'string' ? text.split(',') : text)
        .map((item) => item.trim())
        .filter(Boolean);
      if (items.length > 0 && items.every(isProxyAddress)) return items;
    }
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  });

/** A comma-separated list, or an array; empty items dropped. */
const list = () =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value) =>
      (typeof value === 'string' ? value.split(',') : (value ?? []))
        .map((item) => item.trim())
        .filter(Boolean),
    );

/** Every option's one entry: its schema (validation and default), then its docs (config-meta.ts). */
export const optionsSchema = z.object({
  /** Listen port. Env `PORT`. Default 3000. */
  port: z.coerce
    .number({ error: 'expected a port number, 0–65535' })
    .int({ error: 'expected a port number, 0–65535' })
    .min(0, { error: 'expected a port number, 0–65535' })
    .max(65535, { error: 'expected a port number, 0–65535' })
    .default(3000)
    .register(optionDocs, { env: 'PORT', unit: 'number', help: 'listen port' }),
  /** Listen address. Env `HOST`. Default 127.0.0.1. */
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .register(optionDocs, { env: 'HOST', unit: 'string', help: 'listen address' }),
  /**
   * True in strict production mode (`NODE_ENV=production`): missing secrets fail startup. Env
   * `NODE_ENV`. Default false.
   */
  production: z.boolean().default(false).register(optionDocs, {
    env: 'NODE_ENV',
    envValue: 'production',
    unit: 'boolean',
    help: 'strict mode: missing secrets are a startup error',
    defaultText: 'unset: development mode',
  }),
  /**
   * Huddle01 API key(s) that sign webhooks; several (comma-separated) are all accepted, so keys
   * can rotate. Env `HUDDLE01_API_KEY`. Dev default: generated at startup.
   */
  huddle01ApiKeys: list().register(optionDocs, {
    env: 'HUDDLE01_API_KEY',
    unit: 'list',
    help: 'key(s) that sign webhooks; comma-separated keys are all accepted (rotation)',
    defaultText: 'dev: generated and printed; production: required',
  }),
  /** HS256 secret(s) for subscriber tokens. Env `ROOMCAST_TOKEN_SECRET`. Dev default: generated. */
  tokenSecrets: list().register(optionDocs, {
    env: 'ROOMCAST_TOKEN_SECRET',
    unit: 'list',
    help: 'HS256 secret(s) for subscriber tokens; sign with the first, accept any (rotation)',
    defaultText: 'dev: generated; production: required',
  }),
  /**
   * Key(s) that authorise `POST /rooms/:roomId/publish` (app events), as `Authorization: Bearer`;
   * several (comma-separated) are all accepted, for rotation. Env `ROOMCAST_PUBLISH_KEY`.
   * Default unset: publishing is off (the route answers 404 PUBLISH_DISABLED).
   */
  publishKeys: list().register(optionDocs, {
    env: 'ROOMCAST_PUBLISH_KEY',
    unit: 'list',
    help: 'key(s) that authorise [app events](#your-apps-own-events) (`POST /rooms/:roomId/publish`)',
    defaultText: 'unset: publishing off',
  }),
  /**
   * Redis URL; when set the Redis engine is used: `redis://`, `rediss://` (TLS),
   * `redis+cluster://h:p,h:p` (Redis Cluster) or `redis+sentinel://h:p,h:p/<master>`. Env
   * `REDIS_URL`. Default unset (in-memory).
   */
  redisUrl: z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      if (value === undefined) return;
      try {
        parseRedisUrl(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .register(optionDocs, {
      env: 'REDIS_URL',
      unit: 'string',
      help: 'Redis engine: several nodes share rooms; `redis://`, `rediss://` (TLS), `redis+cluster://h:p,h:p` (Redis Cluster, sharded pub/sub), `redis+sentinel://h:p,h:p/<master>` ([docs/deployment.md](docs/deployment.md))',
      defaultText: 'unset → in-memory',
    }),
  /**
   * Prefix of every Redis key and channel (`<prefix>:`); the nodes of one deployment share it,
   * and two deployments on one Redis must not. Env `ROOMCAST_REDIS_PREFIX`. Default roomcast.
   */
  redisPrefix: z
    .string()
    .min(1, { error: 'expected a non-empty prefix like roomcast' })
    .regex(/^[^{}\s]+$/, {
      error: 'must not contain { or } (they would break the Redis Cluster hash tags) or spaces',
    })
    .default('roomcast')
    .register(optionDocs, {
      env: 'ROOMCAST_REDIS_PREFIX',
      unit: 'string',
      help: 'prefix of every Redis key; shared by the nodes of one deployment (no `{` `}`)',
    }),
  /**
   * Replicas that must confirm an append (Redis WAIT) before a webhook is acknowledged; 1 keeps
   * acknowledged webhooks through a failover (one server or Sentinel; a Cluster ignores it).
   * Env `ROOMCAST_REDIS_REPLICA_ACKS`. Default 0.
   */
  redisReplicaAcks: whole(0).default(0).register(optionDocs, {
    env: 'ROOMCAST_REDIS_REPLICA_ACKS',
    unit: 'number',
    help: 'replicas that confirm an append (Redis `WAIT`) before a webhook is acknowledged; `1` keeps acknowledged webhooks through a Sentinel failover (ignored on a Cluster)',
  }),
  /**
   * Origins allowed for WS / SSE / CORS. Env `ROOMCAST_ALLOWED_ORIGINS`. Dev default: any
   * localhost; production: the same origin only.
   */
  allowedOrigins: list().register(optionDocs, {
    env: 'ROOMCAST_ALLOWED_ORIGINS',
    unit: 'list',
    help: 'origins allowed for WebSocket, SSE and CORS (comma list)',
    defaultText: 'dev: any localhost; production: same origin',
  }),
  /** Accepted age (either way) of a webhook's signature timestamp. Env `ROOMCAST_WEBHOOK_TOLERANCE`. Default 5m. */
  webhookTolerance: duration('5m').register(optionDocs, {
    env: 'ROOMCAST_WEBHOOK_TOLERANCE',
    unit: 'duration',
    help: 'accepted age of a signature timestamp, either way',
  }),
  /**
   * Largest webhook body accepted (413 above, from Content-Length before reading). Huddle01's
   * largest realistic payload, a recording:ended of an 8-hour meeting in 10-minute files with
   * 1 KB presigned URLs, is about 106 KB (docs/reliability.md). Env
   * `ROOMCAST_WEBHOOK_MAX_BYTES`. Default 256KiB.
   */
  webhookMaxBytes: size('256KiB').register(optionDocs, {
    env: 'ROOMCAST_WEBHOOK_MAX_BYTES',
    unit: 'size',
    help: "largest webhook body (413 above, from Content-Length); Huddle01's largest realistic is ~106 KB",
  }),
  /** How long a webhook id is remembered for dedup. Env `ROOMCAST_DEDUP_WINDOW`. Default 24h. */
  dedupWindow: duration('24h').register(optionDocs, {
    env: 'ROOMCAST_DEDUP_WINDOW',
    unit: 'duration',
    help: 'how long webhook ids are remembered',
  }),
  /** At most this many webhook ids remembered (oldest forgotten first). Env `ROOMCAST_DEDUP_MAX_IDS`. Default 500000. */
  dedupMaxIds: count(500_000).register(optionDocs, {
    env: 'ROOMCAST_DEDUP_MAX_IDS',
    unit: 'number',
    help: 'most webhook ids remembered (oldest forgotten first)',
  }),
  /** Events kept per room for resume. Env `ROOMCAST_HISTORY_SIZE`. Default 1000. */
  historySize: count(1000).register(optionDocs, {
    env: 'ROOMCAST_HISTORY_SIZE',
    unit: 'number',
    help: 'events kept per room for resume',
  }),
  /** Oldest event kept for resume. Env `ROOMCAST_HISTORY_TTL`. Default 24h. */
  historyTtl: duration('24h').register(optionDocs, {
    env: 'ROOMCAST_HISTORY_TTL',
    unit: 'duration',
    help: 'oldest event kept for resume',
  }),
  /** A room with no subscriber and no event for this long is forgotten. Env `ROOMCAST_ROOM_IDLE_TTL`. Default 24h. */
  roomIdleTtl: duration('24h').register(optionDocs, {
    env: 'ROOMCAST_ROOM_IDLE_TTL',
    unit: 'duration',
    help: 'a room with no subscriber and no event for this long is forgotten',
  }),
  /** How long a track event waits for its peer's peer:joined. Env `ROOMCAST_TRACK_HOLD`. Default 30s. */
  trackHold: duration('30s').register(optionDocs, {
    env: 'ROOMCAST_TRACK_HOLD',
    unit: 'duration',
    help: "how long a track event waits for its peer's `peer:joined`",
  }),
  /**
   * How long a peer that left shows as `reconnecting` in the room state: its peer:joined within
   * this is a network blip, not a new arrival (clients read it from the state). `0`: off. Env
   * `ROOMCAST_PRESENCE_GRACE`. Default 10s.
   */
  presenceGrace: duration('10s').register(optionDocs, {
    env: 'ROOMCAST_PRESENCE_GRACE',
    unit: 'duration',
    help: 'a peer that left shows as [reconnecting](#presence-that-does-not-flap) this long; a rejoin within it is a blip (`0`: off)',
  }),
  /** Dead letters kept (authentic but unknown / unroutable webhooks). Env `ROOMCAST_DEAD_LETTERS`. Default 1000. */
  deadLetterLimit: count(1000).register(optionDocs, {
    env: 'ROOMCAST_DEAD_LETTERS',
    unit: 'number',
    help: 'dead letters kept (authentic but unknown or unroutable webhooks)',
  }),
  /** Subscriptions per connection. Env `ROOMCAST_MAX_SUBSCRIPTIONS`. Default 100. */
  maxSubscriptions: count(100).register(optionDocs, {
    env: 'ROOMCAST_MAX_SUBSCRIPTIONS',
    unit: 'number',
    help: 'rooms per connection',
  }),
  /**
   * Unsent bytes after which a subscriber is dropped as slow; snapshots and replays count too
   * (they wait for room under it). Env `ROOMCAST_MAX_BUFFERED`. Default 1MiB.
   */
  maxBufferedBytes: size('1MiB').register(optionDocs, {
    env: 'ROOMCAST_MAX_BUFFERED',
    unit: 'size',
    help: 'unsent bytes before a subscriber is dropped as slow (WS 4008); snapshots and replays count too',
  }),
  /**
   * Subscribe frames a WebSocket may send per second, with a burst of
   * `max(maxSubscriptions, this)` (a reconnect resubscribes every room at once). Env
   * `ROOMCAST_SUBSCRIBE_RATE`. Default 20.
   */
  subscribeRate: count(20).register(optionDocs, {
    env: 'ROOMCAST_SUBSCRIBE_RATE',
    unit: 'number',
    help: 'subscribe frames per WebSocket per second (burst: `ROOMCAST_MAX_SUBSCRIPTIONS`)',
  }),
  /** WebSocket ping and app-level heartbeat frame interval. Env `ROOMCAST_PING_INTERVAL`. Default 25s. */
  pingInterval: duration('25s').register(optionDocs, {
    env: 'ROOMCAST_PING_INTERVAL',
    unit: 'duration',
    help: 'WebSocket ping and heartbeat-frame interval',
  }),
  /** Time allowed for a pong. Env `ROOMCAST_PONG_TIMEOUT`. Default 10s. */
  pongTimeout: duration('10s').register(optionDocs, {
    env: 'ROOMCAST_PONG_TIMEOUT',
    unit: 'duration',
    help: 'time allowed for a pong',
  }),
  /** SSE heartbeat message interval. Env `ROOMCAST_SSE_HEARTBEAT`. Default 15s. */
  sseHeartbeat: duration('15s').register(optionDocs, {
    env: 'ROOMCAST_SSE_HEARTBEAT',
    unit: 'duration',
    help: 'SSE heartbeat message interval',
  }),
  /** Reconnect delay hinted to SSE clients (`retry:`). Env `ROOMCAST_SSE_RETRY`. Default 2s. */
  sseRetry: duration('2s').register(optionDocs, {
    env: 'ROOMCAST_SSE_RETRY',
    unit: 'duration',
    help: 'reconnect delay hinted to SSE clients (`retry:`)',
  }),
  /** Largest client WS frame. Env `ROOMCAST_MAX_FRAME_BYTES`. Default 4KiB. */
  maxFrameBytes: size('4KiB').register(optionDocs, {
    env: 'ROOMCAST_MAX_FRAME_BYTES',
    unit: 'size',
    help: 'largest client WebSocket frame (closed with 1009 above)',
  }),
  /** Open subscriber connections (WS + SSE) per process. Env `ROOMCAST_MAX_CONNECTIONS`. Default 50000. */
  maxConnections: count(50_000).register(optionDocs, {
    env: 'ROOMCAST_MAX_CONNECTIONS',
    unit: 'number',
    help: 'open subscriber connections (WS + SSE) per process (429 above)',
  }),
  /** Open subscriber connections per client IP. Env `ROOMCAST_MAX_CONNECTIONS_PER_IP`. Default 2000. */
  maxConnectionsPerIp: count(2000).register(optionDocs, {
    env: 'ROOMCAST_MAX_CONNECTIONS_PER_IP',
    unit: 'number',
    help: 'open subscriber connections per client IP',
  }),
  /** Connection attempts per client IP per second. Env `ROOMCAST_CONNECT_RATE`. Default 100. */
  connectRatePerIp: count(100).register(optionDocs, {
    env: 'ROOMCAST_CONNECT_RATE',
    unit: 'number',
    help: 'connection attempts per client IP per second',
  }),
  /**
   * Client IPs from X-Forwarded-For, through the proxies in front: their number (`1`) or their
   * addresses (`10.0.0.1,10.0.0.0/8`, `loopback`). Env `ROOMCAST_TRUST_PROXY`. Default false.
   */
  trustProxy: trustProxy.register(optionDocs, {
    env: 'ROOMCAST_TRUST_PROXY',
    unit: 'proxies',
    help: 'client IPs from X-Forwarded-For through the proxies in front: their count (`1`) or addresses (`10.0.0.0/8`, `loopback`)',
  }),
  /** Time a WS connection without a token has to send `{type:"auth"}`. Env `ROOMCAST_AUTH_TIMEOUT`. Default 10s. */
  authTimeout: duration('10s').register(optionDocs, {
    env: 'ROOMCAST_AUTH_TIMEOUT',
    unit: 'duration',
    help: 'time a WebSocket without a token has to send `{type:"auth"}`',
  }),
  /** Time after a WS token expires for a refresh before close 4001. Env `ROOMCAST_TOKEN_GRACE`. Default 30s. */
  tokenGrace: duration('30s').register(optionDocs, {
    env: 'ROOMCAST_TOKEN_GRACE',
    unit: 'duration',
    help: 'after a WS token expires, time for a refresh (nothing else) before close 4001',
  }),
  /** Longest subscriber token lifetime accepted (longer ones are refused). Env `ROOMCAST_MAX_TOKEN_TTL`. Default 24h. */
  maxTokenTtl: duration('24h').register(optionDocs, {
    env: 'ROOMCAST_MAX_TOKEN_TTL',
    unit: 'duration',
    help: 'longest subscriber token lifetime accepted; longer tokens are refused (401)',
  }),
  /** Webhooks per minute per client IP; 0 = no limit. Env `ROOMCAST_WEBHOOK_RATE_LIMIT`. Default 0. */
  webhookRateLimit: whole(0).default(0).register(optionDocs, {
    env: 'ROOMCAST_WEBHOOK_RATE_LIMIT',
    unit: 'number',
    help: 'webhooks per minute per client IP (429 above); `0`: no limit',
  }),
  /**
   * Refused webhooks (401, 400, 413) per minute per client IP; past it that IP's webhooks are
   * answered 429 unread until the minute ends. 0 = no limit. Env
   * `ROOMCAST_WEBHOOK_REFUSAL_LIMIT`. Default 60.
   */
  webhookRefusalLimit: whole(0).default(60).register(optionDocs, {
    env: 'ROOMCAST_WEBHOOK_REFUSAL_LIMIT',
    unit: 'number',
    help: 'refused webhooks (401/400/413) per minute per IP; past it, 429 before the body is read; `0`: off',
  }),
  /** Longest graceful shutdown before the process exits anyway. Env `ROOMCAST_SHUTDOWN_TIMEOUT`. Default 10s. */
  shutdownTimeout: duration('10s').register(optionDocs, {
    env: 'ROOMCAST_SHUTDOWN_TIMEOUT',
    unit: 'duration',
    help: 'longest graceful shutdown before exiting anyway',
  }),
  /** Serve the moderator console at `/` (under the prefix). Env `ROOMCAST_CONSOLE`. Default true. */
  console: flag(true).register(optionDocs, {
    env: 'ROOMCAST_CONSOLE',
    unit: 'boolean',
    help: 'serve the [moderator console](#moderator-console) at `/` (`false`: no page, no assets)',
  }),
  /** Serve Prometheus metrics at `/metrics`. Env `ROOMCAST_METRICS`. Default true. */
  metrics: flag(true).register(optionDocs, {
    env: 'ROOMCAST_METRICS',
    unit: 'boolean',
    help: 'serve Prometheus metrics at `/metrics` (`false`: not routed)',
  }),
  /**
   * Bearer key `/metrics` requires (`Authorization: Bearer <key>`, as Prometheus scrapers send
   * with `authorization.credentials`). Env `ROOMCAST_METRICS_TOKEN`. Default unset: open.
   */
  metricsToken: z.string().min(1).optional().register(optionDocs, {
    env: 'ROOMCAST_METRICS_TOKEN',
    unit: 'string',
    help: '`/metrics` requires `Authorization: Bearer <this>`',
    defaultText: 'unset: open',
  }),
  /** Serve the AsyncAPI document at `/asyncapi.json`. Env `ROOMCAST_ASYNCAPI`. Default true. */
  asyncApi: flag(true).register(optionDocs, {
    env: 'ROOMCAST_ASYNCAPI',
    unit: 'boolean',
    help: 'serve the AsyncAPI document at `/asyncapi.json` (`false`: not routed)',
  }),
  /**
   * Time between reconcile passes over active rooms (docs/reconcile.md); `0` or `off` turns
   * reconcile (and bootstrap) off. Env `ROOMCAST_RECONCILE_INTERVAL`. Default unset: 60s in
   * production, off otherwise.
   */
  reconcileInterval: optionalDuration.register(optionDocs, {
    env: 'ROOMCAST_RECONCILE_INTERVAL',
    unit: 'duration',
    help: "heal presence from Huddle01's live API ([docs/reconcile.md](docs/reconcile.md)) every so often; `0`/`off`: never",
    defaultText: 'unset: `60s` in production, off in dev',
  }),
  /** Huddle01 API calls per minute reconcile may make (per node). Env `ROOMCAST_RECONCILE_BUDGET`. Default 600. */
  reconcileBudget: count(600).register(optionDocs, {
    env: 'ROOMCAST_RECONCILE_BUDGET',
    unit: 'number',
    help: 'Huddle01 API calls per minute reconcile may make (per node)',
  }),
  /** Huddle01 API calls in flight at once. Env `ROOMCAST_RECONCILE_CONCURRENCY`. Default 4. */
  reconcileConcurrency: count(4).register(optionDocs, {
    env: 'ROOMCAST_RECONCILE_CONCURRENCY',
    unit: 'number',
    help: 'Huddle01 API calls in flight at once',
  }),
  /** Timeout of one Huddle01 API call. Env `ROOMCAST_RECONCILE_TIMEOUT`. Default 5s. */
  reconcileTimeout: duration('5s').register(optionDocs, {
    env: 'ROOMCAST_RECONCILE_TIMEOUT',
    unit: 'duration',
    help: 'timeout of one Huddle01 API call',
  }),
  /** Base URL of Huddle01's API (an egress proxy). Env `HUDDLE01_API_URL`. Default: the SDK's own. */
  huddle01ApiUrl: z
    .string()
    .url({ error: 'expected a URL like https://api.example' })
    .optional()
    .register(optionDocs, {
      env: 'HUDDLE01_API_URL',
      unit: 'string',
      help: "base URL of Huddle01's API, e.g. an egress proxy",
      defaultText: "unset: the SDK's own",
    }),
  /** pino log level. Env `LOG_LEVEL`. Default info. */
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected fatal, error, warn, info, debug, trace or silent',
    })
    .default('info')
    .register(optionDocs, {
      env: 'LOG_LEVEL',
      unit: 'level',
      help: 'pino level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`',
    }),
  /**
   * How the standalone server writes logs: `json` (JSON lines), `pretty` (readable lines), or
   * `auto` (readable on a terminal, JSON otherwise). Env `LOG_FORMAT`. Default auto.
   */
  logFormat: z
    .enum(['auto', 'json', 'pretty'], { error: 'expected json, pretty or auto' })
    .default('auto')
    .register(optionDocs, {
      env: 'LOG_FORMAT',
      unit: 'string',
      help: '`json` (JSON lines), `pretty` (readable lines, one per webhook) or `auto` (readable on a terminal, JSON otherwise)',
    }),
});

/** Options as a user writes them (every field optional). */
export type RoomcastOptions = z.input<typeof optionsSchema>;

/** `T`, read-only all the way down (the config's lists too). */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * Options after parsing: defaults applied, units converted to ms and bytes; deep-frozen. Each
 * route and engine is handed only its slice (`pickConfig`).
 */
export type RoomcastConfig = DeepReadonly<z.output<typeof optionsSchema>>;

/** The name of an option (a key of the config). */
export type OptionKey = keyof RoomcastConfig;

/** Every option's docs, in the schema's order (the order `--help` and the README list them). */
export const OPTION_DOCS: Readonly<Record<OptionKey, Readonly<OptionDoc>>> = Object.freeze(
  Object.fromEntries(
    Object.entries(optionsSchema.shape).map(([key, schema]) => {
      const doc = optionDocs.get(schema);
      // Every option is documented where it is declared; one without docs fails at load.
      if (!doc) throw new Error(`config.ts: option ${key} has no docs (register optionDocs)`);
      return [key, Object.freeze(doc)];
    }),
  ) as Record<OptionKey, OptionDoc>,
);

/** Environment variable of each option (the public names). */
export const ENV_NAMES = Object.freeze(
  Object.fromEntries(Object.entries(OPTION_DOCS).map(([key, doc]) => [key, doc.env])),
) as Readonly<Record<OptionKey, string>>;

/** Parsed configs, so the plugin can tell one from options it still has to parse. */
const parsedConfigs = new WeakSet<object>();

/** Freezes `value` and everything in it. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}

/** A parsed config: deep-frozen and known as parsed. */
function sealConfig(data: z.output<typeof optionsSchema>): RoomcastConfig {
  const config = deepFreeze(data);
  parsedConfigs.add(config);
  return config;
}

/** True for a config made by this module's parsers (never a look-alike object). */
export function isParsedConfig(value: unknown): value is RoomcastConfig {
  return typeof value === 'object' && value !== null && parsedConfigs.has(value);
}

/**
 * A copy of a parsed config with values the code worked out (not user input, so not validated
 * again), deep-frozen and known as parsed like the original.
 */
export function reviseConfig(
  config: RoomcastConfig,
  changes: Partial<z.output<typeof optionsSchema>>,
): RoomcastConfig {
  return sealConfig({ ...(config as z.output<typeof optionsSchema>), ...changes });
}

/**
 * The slice `keys` of `config`, frozen: what one route or engine is handed, so each names the
 * options it reads (its type is `Pick<RoomcastConfig, …>`).
 */
export function pickConfig<K extends OptionKey>(
  config: RoomcastConfig,
  keys: readonly K[],
): Pick<RoomcastConfig, K> {
  return Object.freeze(
    Object.fromEntries(keys.map((key) => [key, config[key]])) as Pick<RoomcastConfig, K>,
  );
}

/**
 * Every option's default, parsed (ms, bytes), deep-frozen: what the engines fall back to, so a
 * default is written once, in the schema.
 */
export const DEFAULT_CONFIG: RoomcastConfig = sealConfig(optionsSchema.parse({}));

/** Reconcile interval when `reconcileInterval` is not set and NODE_ENV=production, ms. */
export const PRODUCTION_RECONCILE_INTERVAL = 60_000;

/**
 * The reconcile interval in effect, ms; 0 = off. Unset means on (60 s) in production, where a
 * real HUDDLE01_API_KEY is required, and off in development, where the key may be made up.
 */
export function reconcileIntervalOf(config: RoomcastConfig): number {
  if (config.huddle01ApiKeys.length === 0) return 0;
  return config.reconcileInterval ?? (config.production ? PRODUCTION_RECONCILE_INTERVAL : 0);
}

/** Shortest token secret accepted in production (HS256 wants at least 256 bits). */
export const MIN_SECRET_BYTES = 32;

/** A config problem, with a message naming the variable (env) or option (plugin). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function formatIssues(error: z.ZodError, nameOf: (key: string) => string): string {
  return error.issues
    .map((issue) => `${nameOf(String(issue.path[0] ?? '?'))}: ${issue.message}`)
    .join('; ');
}

/**
 * Parses `input` into a config (deep-frozen); on failure throws ConfigError: `prefix`, then each
 * problem after the name `nameOf` gives its option (its variable, flag or file key).
 */
export function parseConfig(
  input: RoomcastOptions,
  prefix: string,
  nameOf: (key: string) => string,
): RoomcastConfig {
  const result = optionsSchema.safeParse(input);
  if (!result.success) throw new ConfigError(`${prefix}${formatIssues(result.error, nameOf)}`);
  return sealConfig(result.data);
}

/** Parses plugin options; throws ConfigError naming the option. */
export function parseOptions(options: RoomcastOptions): RoomcastConfig {
  return parseConfig(options, 'invalid roomcast option ', (key) => key);
}

/** Reads the options from environment variables; throws ConfigError naming the variable. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): RoomcastOptions {
  const options: Record<string, unknown> = {};
  for (const [key, doc] of Object.entries(OPTION_DOCS)) {
    const value = env[doc.env];
    // An option set by one value of its variable (NODE_ENV=production) is false otherwise.
    if (doc.envValue !== undefined) options[key] = value === doc.envValue;
    else if (value !== undefined && value !== '') options[key] = value;
  }
  return options as RoomcastOptions;
}

/** Parses config from the environment; throws ConfigError naming the variable. */
export function configFromEnv(env: NodeJS.ProcessEnv): RoomcastConfig {
  const nameOf = (key: string) => ENV_NAMES[key as OptionKey] ?? key;
  return parseConfig(optionsFromEnv(env), 'invalid environment: ', nameOf);
}

/** What `withDevSecrets` generated, so the caller can print it once. */
export interface GeneratedSecrets {
  huddle01ApiKey?: string;
  tokenSecret?: string;
  /** Reconcile was asked for but turned off: Huddle01's API would refuse a generated key. */
  reconcileOff?: boolean;
}

/**
 * Production: missing secrets are a startup error naming the variable. Development: a random
 * key / secret is generated for what is missing, and returned so it can be printed.
 */
export function withDevSecrets(config: RoomcastConfig): {
  config: RoomcastConfig;
  generated: GeneratedSecrets;
} {
  const generated: GeneratedSecrets = {};
  if (config.production) {
    // Every problem at once: one restart to fix them all.
    const problems = [];
    if (config.huddle01ApiKeys.length === 0) problems.push('HUDDLE01_API_KEY is required');
    if (config.tokenSecrets.length === 0) problems.push('ROOMCAST_TOKEN_SECRET is required');
    else if (config.tokenSecrets.some((secret) => Buffer.byteLength(secret) < MIN_SECRET_BYTES)) {
      problems.push(
        `ROOMCAST_TOKEN_SECRET must be at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -base64 32)`,
      );
    }
    if (problems.length > 0) {
      throw new ConfigError(`${problems.join('; ')} when NODE_ENV=production`);
    }
    return { config, generated };
  }
  const huddle01ApiKeys = [...config.huddle01ApiKeys];
  const tokenSecrets = [...config.tokenSecrets];
  let { reconcileInterval } = config;
  if (huddle01ApiKeys.length === 0) {
    generated.huddle01ApiKey = `dev_${randomBytes(18).toString('base64url')}`;
    huddle01ApiKeys.push(generated.huddle01ApiKey);
    if (reconcileInterval !== undefined && reconcileInterval > 0) generated.reconcileOff = true;
    reconcileInterval = 0;
  }
  if (tokenSecrets.length === 0) {
    generated.tokenSecret = randomBytes(32).toString('base64url');
    tokenSecrets.push(generated.tokenSecret);
  }
  return {
    config: reviseConfig(config, { huddle01ApiKeys, tokenSecrets, reconcileInterval }),
    generated,
  };
}
