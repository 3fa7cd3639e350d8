/**
 * roomcast configuration: one zod schema with defaults, fed either by plugin options
 * (camelCase) or by environment variables (the public names in DESIGN.md). Parsed once,
 * frozen; an invalid value fails fast with a message naming the variable.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration, parseSize } from './units.ts';
import { OPTION_DOCS } from './config-docs.ts';
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
const list = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) =>
    (typeof value === 'string' ? value.split(',') : (value ?? []))
      .map((item) => item.trim())
      .filter(Boolean),
  );

/** The options schema: every option, its default, and its validation. */
export const optionsSchema = z.object({
  /** Listen port. Env `PORT`. Default 3000. */
  port: z.coerce
    .number({ error: 'expected a port number, 0–65535' })
    .int({ error: 'expected a port number, 0–65535' })
    .min(0, { error: 'expected a port number, 0–65535' })
    .max(65535, { error: 'expected a port number, 0–65535' })
    .default(3000),
  /** Listen address. Env `HOST`. Default 127.0.0.1. */
  host: z.string().min(1).default('127.0.0.1'),
  /** True in strict production mode (`NODE_ENV=production`): missing secrets fail startup. */
  production: z.boolean().default(false),
  /**
   * Huddle01 API key(s) that sign webhooks; several (comma-separated) are all accepted, so keys
   * can rotate. Env `HUDDLE01_API_KEY`. Dev default: generated at startup.
   */
  huddle01ApiKeys: list,
  /** HS256 secret(s) for subscriber tokens. Env `ROOMCAST_TOKEN_SECRET`. Dev default: generated. */
  tokenSecrets: list,
  /**
   * Key(s) that authorise `POST /rooms/:roomId/publish` (app events), as `Authorization: Bearer`;
   * several (comma-separated) are all accepted, for rotation. Env `ROOMCAST_PUBLISH_KEY`.
   * Default unset: publishing is off (the route answers 404 PUBLISH_DISABLED).
   */
  publishKeys: list,
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
    .default('roomcast'),
  /**
   * Replicas that must confirm an append (Redis WAIT) before a webhook is acknowledged; 1 keeps
   * acknowledged webhooks through a failover (one server or Sentinel; a Cluster ignores it).
   * Env `ROOMCAST_REDIS_REPLICA_ACKS`. Default 0.
   */
  redisReplicaAcks: whole(0).default(0),
  /** Origins allowed for WS / CORS. Env `ROOMCAST_ALLOWED_ORIGINS`. Dev default: any localhost. */
  allowedOrigins: list,
  /** Accepted age (either way) of a webhook's signature timestamp. Env `ROOMCAST_WEBHOOK_TOLERANCE`. Default 5m. */
  webhookTolerance: duration('5m'),
  /**
   * Largest webhook body accepted (413 above, from Content-Length before reading). Huddle01's
   * largest realistic payload, a recording:ended of an 8-hour meeting in 10-minute files with
   * 1 KB presigned URLs, is about 106 KB (docs/reliability.md). Env
   * `ROOMCAST_WEBHOOK_MAX_BYTES`. Default 256KiB.
   */
  webhookMaxBytes: size('256KiB'),
  /** How long a webhook id is remembered for dedup. Env `ROOMCAST_DEDUP_WINDOW`. Default 24h. */
  dedupWindow: duration('24h'),
  /** At most this many webhook ids remembered (oldest forgotten first). Env `ROOMCAST_DEDUP_MAX_IDS`. Default 500000. */
  dedupMaxIds: count(500_000),
  /** Events kept per room for resume. Env `ROOMCAST_HISTORY_SIZE`. Default 1000. */
  historySize: count(1000),
  /** Oldest event kept for resume. Env `ROOMCAST_HISTORY_TTL`. Default 24h. */
  historyTtl: duration('24h'),
  /** A room with no subscriber and no event for this long is forgotten. Env `ROOMCAST_ROOM_IDLE_TTL`. Default 24h. */
  roomIdleTtl: duration('24h'),
  /** How long a track event waits for its peer's peer:joined. Env `ROOMCAST_TRACK_HOLD`. Default 30s. */
  trackHold: duration('30s'),
  /**
   * How long a peer that left shows as `reconnecting` in the room state: its peer:joined within
   * this is a network blip, not a new arrival (clients read it from the state). `0`: off. Env
   * `ROOMCAST_PRESENCE_GRACE`. Default 10s.
   */
  presenceGrace: duration('10s'),
  /** Dead letters kept (authentic but unknown / unroutable webhooks). Env `ROOMCAST_DEAD_LETTERS`. Default 1000. */
  deadLetterLimit: count(1000),
  /** Subscriptions per connection. Env `ROOMCAST_MAX_SUBSCRIPTIONS`. Default 100. */
  maxSubscriptions: count(100),
  /**
   * Unsent bytes after which a subscriber is dropped as slow; snapshots and replays count too
   * (they wait for room under it). Env `ROOMCAST_MAX_BUFFERED`. Default 1MiB.
   */
  maxBufferedBytes: size('1MiB'),
  /**
   * Subscribe frames a WebSocket may send per second, with a burst of
   * `max(maxSubscriptions, this)` (a reconnect resubscribes every room at once). Env
   * `ROOMCAST_SUBSCRIBE_RATE`. Default 20.
   */
  subscribeRate: count(20),
  /** WebSocket ping and app-level heartbeat frame interval. Env `ROOMCAST_PING_INTERVAL`. Default 25s. */
  pingInterval: duration('25s'),
  /** Time allowed for a pong. Env `ROOMCAST_PONG_TIMEOUT`. Default 10s. */
  pongTimeout: duration('10s'),
  /** SSE heartbeat message interval. Env `ROOMCAST_SSE_HEARTBEAT`. Default 15s. */
  sseHeartbeat: duration('15s'),
  /** Reconnect delay hinted to SSE clients (`retry:`). Env `ROOMCAST_SSE_RETRY`. Default 2s. */
  sseRetry: duration('2s'),
  /** Largest client WS frame. Env `ROOMCAST_MAX_FRAME_BYTES`. Default 4KiB. */
  maxFrameBytes: size('4KiB'),
  /** Open subscriber connections (WS + SSE) per process. Env `ROOMCAST_MAX_CONNECTIONS`. Default 50000. */
  maxConnections: count(50_000),
  /** Open subscriber connections per client IP. Env `ROOMCAST_MAX_CONNECTIONS_PER_IP`. Default 2000. */
  maxConnectionsPerIp: count(2000),
  /** Connection attempts per client IP per second. Env `ROOMCAST_CONNECT_RATE`. Default 100. */
  connectRatePerIp: count(100),
  /**
   * Client IPs from X-Forwarded-For, through the proxies in front: their number (`1`) or their
   * addresses (`10.0.0.1,10.0.0.0/8`, `loopback`). Env `ROOMCAST_TRUST_PROXY`. Default false.
   */
  trustProxy,
  /** Time a WS connection without a token has to send `{type:"auth"}`. Env `ROOMCAST_AUTH_TIMEOUT`. Default 10s. */
  authTimeout: duration('10s'),
  /** Time after a WS token expires for a refresh before close 4001. Env `ROOMCAST_TOKEN_GRACE`. Default 30s. */
  tokenGrace: duration('30s'),
  /** Longest subscriber token lifetime accepted (longer ones are refused). Env `ROOMCAST_MAX_TOKEN_TTL`. Default 24h. */
  maxTokenTtl: duration('24h'),
  /** Webhooks per minute per client IP; 0 = no limit. Env `ROOMCAST_WEBHOOK_RATE_LIMIT`. Default 0. */
  webhookRateLimit: whole(0).default(0),
  /**
   * Refused webhooks (401, 400, 413) per minute per client IP; past it that IP's webhooks are
   * answered 429 unread until the minute ends. 0 = no limit. Env
   * `ROOMCAST_WEBHOOK_REFUSAL_LIMIT`. Default 60.
   */
  webhookRefusalLimit: whole(0).default(60),
  /** Longest graceful shutdown before the process exits anyway. Env `ROOMCAST_SHUTDOWN_TIMEOUT`. Default 10s. */
  shutdownTimeout: duration('10s'),
  /** Serve the moderator console at `/` (under the prefix). Env `ROOMCAST_CONSOLE`. Default true. */
  console: flag(true),
  /** Serve Prometheus metrics at `/metrics`. Env `ROOMCAST_METRICS`. Default true. */
  metrics: flag(true),
  /**
   * Bearer key `/metrics` requires (`Authorization: Bearer <key>`, as Prometheus scrapers send
   * with `authorization.credentials`). Env `ROOMCAST_METRICS_TOKEN`. Default unset: open.
   */
  metricsToken: z.string().min(1).optional(),
  /** Serve the AsyncAPI document at `/asyncapi.json`. Env `ROOMCAST_ASYNCAPI`. Default true. */
  asyncApi: flag(true),
  /**
   * Time between reconcile passes over active rooms (docs/reconcile.md); `0` or `off` turns
   * reconcile (and bootstrap) off. Env `ROOMCAST_RECONCILE_INTERVAL`. Default unset: 60s in
   * production, off otherwise.
   */
  reconcileInterval: optionalDuration,
  /** Huddle01 API calls per minute reconcile may make (per node). Env `ROOMCAST_RECONCILE_BUDGET`. Default 600. */
  reconcileBudget: count(600),
  /** Huddle01 API calls in flight at once. Env `ROOMCAST_RECONCILE_CONCURRENCY`. Default 4. */
  reconcileConcurrency: count(4),
  /** Timeout of one Huddle01 API call. Env `ROOMCAST_RECONCILE_TIMEOUT`. Default 5s. */
  reconcileTimeout: duration('5s'),
  /** Base URL of Huddle01's API (an egress proxy). Env `HUDDLE01_API_URL`. Default: the SDK's own. */
  huddle01ApiUrl: z.string().url({ error: 'expected a URL like https://api.example' }).optional(),
  /** pino log level. Env `LOG_LEVEL`. Default info. */
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected fatal, error, warn, info, debug, trace or silent',
    })
    .default('info'),
  /**
   * How the standalone server writes logs: `json` (JSON lines), `pretty` (readable lines), or
   * `auto` (readable on a terminal, JSON otherwise). Env `LOG_FORMAT`. Default auto.
   */
  logFormat: z
    .enum(['auto', 'json', 'pretty'], { error: 'expected json, pretty or auto' })
    .default('auto'),
});

/** Options as a user writes them (every field optional). */
export type RoomcastOptions = z.input<typeof optionsSchema>;
/** Options after parsing: defaults applied, units converted to ms and bytes. */
export type RoomcastConfig = Readonly<z.output<typeof optionsSchema>>;

/** Environment variable of each option (the public names). */
export const ENV_NAMES = Object.fromEntries(
  Object.entries(OPTION_DOCS).map(([key, doc]) => [key, doc.env]),
) as Record<keyof z.output<typeof optionsSchema>, string>;

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

/** Parses plugin options; throws ConfigError naming the option. */
export function parseOptions(options: RoomcastOptions): RoomcastConfig {
  const result = optionsSchema.safeParse(options);
  if (!result.success) {
    throw new ConfigError(`invalid roomcast option ${formatIssues(result.error, (key) => key)}`);
  }
  return Object.freeze(result.data);
}

/** Reads the options from environment variables; throws ConfigError naming the variable. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): RoomcastOptions {
  const options: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '' && key !== 'production') options[key] = value;
  }
  options.production = env.NODE_ENV === 'production';
  return options as RoomcastOptions;
}

/** Parses config from the environment; throws ConfigError naming the variable. */
export function configFromEnv(env: NodeJS.ProcessEnv): RoomcastConfig {
  const result = optionsSchema.safeParse(optionsFromEnv(env));
  if (!result.success) {
    const nameOf = (key: string) => ENV_NAMES[key as keyof typeof ENV_NAMES] ?? key;
    throw new ConfigError(`invalid environment: ${formatIssues(result.error, nameOf)}`);
  }
  return Object.freeze(result.data);
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
    config: Object.freeze({ ...config, huddle01ApiKeys, tokenSecrets, reconcileInterval }),
    generated,
  };
}
