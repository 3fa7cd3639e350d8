/**
 * roomcast as a fastify plugin: `app.register(roomcast, { huddle01ApiKey, tokenSecret, prefix })`.
 * Options are validated once by the same schema as the env config; every route lands under
 * `prefix`; the engine is a value (default: in-memory). The host app gets `app.roomcast`
 * (snapshots, rooms, tokens, an event hook). The standalone server only wraps this plugin.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import websocket from '@fastify/websocket';
import { CloseCode } from '@roomcast/shared';
import { ACCESS_CONFIG_KEYS, createAccess } from './auth/access.ts';
import type { Access, Authorize } from './auth/access.ts';
import { createCorsOriginCheck } from './auth/origins.ts';
import { createSubscriberToken } from './auth/tokens.ts';
import type { CreateTokenOptions } from './auth/tokens.ts';
import { isParsedConfig, parseOptions, pickConfig, reconcileIntervalOf } from './config.ts';
import type { RoomcastConfig, RoomcastOptions } from './config.ts';
import type { Engine, RoomSnapshot, RoomSummary } from './engine/engine.ts';
import { allRooms } from './engine/engine.ts';
import { ENGINE_CONFIG_KEYS } from './engine/engine-config.ts';
import { createMemoryEngine } from './engine/memory-engine.ts';
import { createRedisEngine } from './engine/redis-engine.ts';
import { createEventHook } from './event-hook.ts';
import type { RoomcastEventHandler } from './event-hook.ts';
import { installErrorHandlers } from './http-errors.ts';
import { healthRoutes } from './health-routes.ts';
import { watchDurability } from './durability-watch.ts';
import { createHub } from './hub/hub.ts';
import type { Hub } from './hub/hub.ts';
import { roomRoutes } from './rooms/room-routes.ts';
import { createExpirySweep } from './transports/expiry-sweep.ts';
import { SSE_CONFIG_KEYS, sseRoutes } from './transports/sse-route.ts';
import { WEBSOCKET_CONFIG_KEYS, websocketRoutes } from './transports/websocket-route.ts';
import { closeAllWebSockets } from './transports/close-all.ts';
import { trackUnusedSockets } from './transports/unused-sockets.ts';
import { webhookRoutes } from './webhooks/webhook-route.ts';
import { createPublisher } from './publish/app-events.ts';
import type { Publish } from './publish/app-events.ts';
import { publishRoutes } from './publish/publish-route.ts';
import { createMetrics } from './metrics.ts';
import { asyncApiDocument } from './asyncapi.ts';
import { consoleRoutes } from './console/console-routes.ts';
import type { Metrics, TransportStats } from './metrics.ts';
import { createHuddle01Api } from './reconcile/huddle01-api.ts';
import { createReconciler } from './reconcile/reconciler.ts';
import type { Reconciler } from './reconcile/reconciler.ts';

/** Options of the roomcast plugin: every config option (see config.ts) plus these. */
export interface RoomcastPluginOptions extends Omit<RoomcastOptions, 'logLevel'> {
  /**
   * Log level of roomcast's routes; also fastify's own `logLevel` register option, so typed like
   * fastify's (no explicit `undefined`, for apps with `exactOptionalPropertyTypes`). Default `info`.
   */
  logLevel?: NonNullable<RoomcastOptions['logLevel']>;
  /**
   * A config parsed already (`parseOptions`, `configFromEnv`), used as it is: it is not parsed
   * again, and every other config option given beside it is ignored. Default: the config is
   * parsed from these options.
   */
  config?: RoomcastConfig;
  /** Alias of `huddle01ApiKeys`: one key, or a comma-separated list. */
  huddle01ApiKey?: string;
  /** Alias of `tokenSecrets`: one secret, or a comma-separated list. */
  tokenSecret?: string;
  /**
   * The engine. Default: the Redis engine when `redisUrl` is set, else an in-memory engine,
   * either closed with the app. A given engine is never closed by the plugin.
   */
  engine?: Engine;
  /** Where every route lands, e.g. `/realtime`. Default `/` (fastify's own `prefix` register option works too). */
  prefix?: string;
  /** Name of the decoration on the host app; `false` for none (e.g. a second instance). Default `roomcast`. */
  decorator?: string | false;
  /**
   * Your own subscribe check (session cookies instead of roomcast tokens), used when a request
   * carries no token: `(request, roomId) => boolean | Promise<boolean>`; `roomId` is `*` for the
   * room list and admin routes. Default: tokens only.
   */
  authorize?: Authorize;
}

/** What the host app gets as `app.roomcast`. */
export interface RoomcastApi {
  /** The room's snapshot `{roomId, epoch, seq, state}`. */
  room(roomId: string): Promise<RoomSnapshot>;
  /** Every room with state, newest activity first (all pages of `listRooms`). */
  rooms(): Promise<RoomSummary[]>;
  /** A subscriber token signed with this instance's secret. */
  createSubscriberToken(options: Omit<CreateTokenOptions, 'secret'>): Promise<string>;
  /**
   * Publishes an app event (`app:<name>`, JSON payload ≤ 64 KiB) into the room's channel: a seq,
   * history, resume and fan-out like a webhook, never a change of the room state. A repeated
   * `idempotencyKey` (within the dedup window) answers the first result and is not broadcast
   * again. Throws `PublishError` (`code`, `status`) for bad input. Needs no publish key.
   */
  publish: Publish;
  /** Runs `handler` for every accepted event, in order, after the append; returns an unsubscribe. */
  on(name: 'event', handler: RoomcastEventHandler): () => void;
  /**
   * Starts draining for shutdown: /readyz answers 503 at once and new subscribers are refused;
   * open ones stay until `app.close()` (WS 1012, SSE ended with a retry hint).
   */
  drain(): void;
  readonly draining: boolean;
  /** This instance's Prometheus metrics (served at /metrics). */
  readonly metrics: Metrics;
  readonly engine: Engine;
  readonly config: RoomcastConfig;
}

declare module 'fastify' {
  interface FastifyInstance {
    roomcast: RoomcastApi;
  }
}

/** The engine the config asks for: Redis when `redisUrl` is set, else in-memory. */
export function engineFromConfig(config: RoomcastConfig, log?: FastifyBaseLogger): Engine {
  if (!config.redisUrl) return memoryEngineFromConfig(config);
  return createRedisEngine({
    ...pickConfig(config, ENGINE_CONFIG_KEYS),
    url: config.redisUrl,
    keyPrefix: `${config.redisPrefix}:`,
    replicaAcks: config.redisReplicaAcks,
    onError: (error) => log?.warn({ err: error }, 'redis engine'),
  });
}

/** Builds the memory engine from parsed config. */
export function memoryEngineFromConfig(config: RoomcastConfig): Engine {
  return createMemoryEngine({
    ...pickConfig(config, ENGINE_CONFIG_KEYS),
    dedupMaxIds: config.dedupMaxIds,
  });
}

/** The reconciler the config asks for (docs/reconcile.md), or undefined when it is off. */
function reconcilerFromConfig(
  config: RoomcastConfig,
  engine: Engine,
  metrics: Metrics,
  log: FastifyBaseLogger,
): Reconciler | undefined {
  const intervalMs = reconcileIntervalOf(config);
  if (intervalMs === 0) return undefined;
  const api = createHuddle01Api({
    // The key that signs webhooks is the project's API key, which the live API takes too.
    apiKey: config.huddle01ApiKeys[0]!,
    baseUrl: config.huddle01ApiUrl,
    timeoutMs: config.reconcileTimeout,
    onCall: (call, result) => metrics.reconcile.calls.inc({ call, result }),
  });
  log.info(
    { reconcile: { intervalMs, budgetPerMinute: config.reconcileBudget } },
    "reconcile with Huddle01's live API is on",
  );
  return createReconciler({
    engine,
    api,
    log,
    intervalMs,
    budget: config.reconcileBudget,
    concurrency: config.reconcileConcurrency,
    metrics: metrics.reconcile,
  });
}

/**
 * The plugin's config: the parsed one it was given (not parsed again), or its options (aliases
 * folded in) parsed with the one config schema.
 */
export function configFromPluginOptions(
  options: RoomcastOptions & {
    huddle01ApiKey?: string;
    tokenSecret?: string;
    config?: RoomcastConfig;
  },
): RoomcastConfig {
  const { huddle01ApiKey, tokenSecret, config, ...rest } = options;
  if (config !== undefined) {
    if (!isParsedConfig(config)) {
      throw new TypeError(
        'roomcast: `config` must come from parseOptions() or configFromEnv(); pass plain options otherwise',
      );
    }
    return config;
  }
  return parseOptions({
    ...rest,
    huddle01ApiKeys: rest.huddle01ApiKeys ?? huddle01ApiKey,
    tokenSecrets: rest.tokenSecrets ?? tokenSecret,
  });
}

interface RouteContext {
  publish: Publish;
  config: RoomcastConfig;
  engine: Engine;
  hub: Hub;
  access: Access;
  metrics: Metrics;
  transports: TransportStats;
  draining: () => boolean;
}

/** The routes, in their own encapsulated context (own error handler, CORS, headers). */
async function roomcastRoutes(app: FastifyInstance, context: RouteContext) {
  const { config, engine, hub, access, metrics, transports, draining, publish } = context;
  const corsAllows = createCorsOriginCheck(config.allowedOrigins, config.production);
  // One sweep for the subscribers of both transports (auth deadline, token expiry, grace),
  // visiting each connection only when its next deadline comes.
  const expiry = createExpirySweep();
  app.addHook('onClose', async () => expiry.stop());
  installErrorHandlers(app);
  // Machine-facing routes (webhook, WebSocket, health, metrics) carry no CORS or security
  // headers: they cost CPU per webhook and memory per socket, and protect nothing there.
  await app.register(webhookRoutes, {
    engine,
    apiKeys: config.huddle01ApiKeys,
    tolerance: config.webhookTolerance,
    maxBytes: config.webhookMaxBytes,
    rateLimitPerMinute: config.webhookRateLimit,
    refusalLimitPerMinute: config.webhookRefusalLimit,
    metrics,
  });
  await app.register(publishRoutes, { publish, keys: config.publishKeys, metrics });
  await app.register(websocketRoutes, {
    hub,
    config: pickConfig(config, WEBSOCKET_CONFIG_KEYS),
    access,
    stats: transports,
    engine,
    expiry,
  });
  // Browser-facing reads: CORS for SSE and REST; security headers on the REST answers.
  await app.register(async (browser) => {
    const corsOptions = {
      methods: ['GET', 'HEAD', 'POST'],
      allowedHeaders: ['authorization', 'last-event-id', 'content-type'],
    };
    await browser.register(cors, {
      // The SSE routes check the origin themselves (403 ORIGIN_NOT_ALLOWED), so CORS there lets
      // every origin through: a refused page can then read why, and its client stops instead of
      // retrying a request the browser hides from it. The REST routes keep the strict answer.
      delegator: (request, callback) => {
        const sse = /\/events$/.test(request.url.split('?')[0]!);
        callback(null, { ...corsOptions, origin: sse || corsAllows(request.headers.origin) });
      },
    });
    await browser.register(sseRoutes, {
      hub,
      config: pickConfig(config, SSE_CONFIG_KEYS),
      access,
      stats: transports,
      expiry,
    });
    await browser.register(async (rest) => {
      await rest.register(helmet, { global: true });
      await rest.register(roomRoutes, {
        engine,
        access,
        historySize: config.historySize,
        occupancy: hub.occupancy,
      });
      if (config.asyncApi) {
        const asyncApi = JSON.stringify(asyncApiDocument());
        rest.get('/asyncapi.json', async (_request, reply) =>
          reply.type('application/json').send(asyncApi),
        );
      }
    });
  });

  // The moderator console: a same-origin page, so no CORS; its own strict CSP.
  if (config.console) await app.register(consoleRoutes);

  await app.register(healthRoutes, {
    engine,
    metrics,
    serveMetrics: config.metrics,
    metricsToken: config.metricsToken,
    draining,
  });
}

async function roomcastPlugin(app: FastifyInstance, options: RoomcastPluginOptions) {
  const { engine: givenEngine, prefix, decorator = 'roomcast', authorize, ...rest } = options;
  const config = configFromPluginOptions(rest);
  if (config.huddle01ApiKeys.length === 0) {
    throw new Error('roomcast: huddle01ApiKey is required (HUDDLE01_API_KEY)');
  }
  if (config.tokenSecrets.length === 0) {
    throw new Error('roomcast: tokenSecret is required (ROOMCAST_TOKEN_SECRET)');
  }
  let draining = false;
  // Closing drains first, before the transports' own preClose hooks run (those registered
  // below): a client told 1012 or whose stream ends reconnects at once, and a subscriber
  // accepted meanwhile would hold app.close() until its socket died.
  const unusedSockets = trackUnusedSockets(app.server);
  app.addHook('preClose', async () => {
    draining = true;
    // Until the server has closed, connections that sent nothing are ended (see unused-sockets.ts).
    unusedSockets.endUnused();
    const sweep = setInterval(unusedSockets.endUnused, 250).unref();
    app.server.once('close', () => clearInterval(sweep));
  });
  if (!app.hasDecorator('websocketServer')) {
    await app.register(websocket, {
      options: { maxPayload: config.maxFrameBytes },
      // Subscribers are told to reconnect (elsewhere) and resume, not just dropped.
      preClose(done) {
        closeAllWebSockets(
          this.websocketServer,
          CloseCode.SERVICE_RESTART,
          'server shutting down',
          done,
        );
      },
    });
  }
  const engine = givenEngine ?? engineFromConfig(config, app.log);
  const transports: TransportStats = { ws: 0, sse: 0, heartbeatTimeouts: 0 };
  // The metrics read the hub's counters only at scrape time, after the hub exists.
  const metrics = createMetrics({
    hub: () => hub.stats,
    transports,
    activeRooms: () => hub.roomCount,
    topRooms: (n) => hub.occupancy.topLocal(n),
    roomsHeld: () => engine.roomCount?.(),
    durability: () => durabilityWatch?.latest(),
  });
  const reconciler = reconcilerFromConfig(config, engine, metrics, app.log);
  const hub = createHub({
    engine,
    log: app.log,
    maxBufferedBytes: config.maxBufferedBytes,
    onFanout: (ms) => metrics.fanoutLatency.observe(ms / 1000),
    onEngineError: () => metrics.engineErrors.inc(),
    beforeSnapshot: reconciler?.bootstrap,
  });
  const access = createAccess(pickConfig(config, ACCESS_CONFIG_KEYS), authorize, {
    onRefused: (reason) => metrics.drops.inc({ reason }),
    draining: () => draining,
  });
  const eventHook = createEventHook(engine, app.log);
  const durabilityWatch = watchDurability({ engine, log: app.log });
  const publish = createPublisher({ engine, dedupWindow: config.dedupWindow });
  // A held track event whose peer never joined: it was answered 202 long ago, so this line and
  // this count are the only trace of it becoming a dead letter.
  const stopDeadLetters = engine.watchDeadLetters?.((letter) => {
    metrics.deadLetters.inc({ reason: letter.reason });
    app.log.warn(
      {
        webhook: {
          id: letter.webhookId,
          event: letter.event,
          outcome: 'dead-letter',
          reason: letter.reason,
        },
      },
      `held track event expired: ${letter.detail}`,
    );
  });

  await app.register(roomcastRoutes, {
    prefix: prefix ?? '',
    publish,
    config,
    engine,
    hub,
    access,
    metrics,
    transports,
    draining: () => draining,
  });

  if (decorator !== false) {
    const api: RoomcastApi = {
      room: (roomId) => engine.snapshot(roomId),
      rooms: () => allRooms(engine),
      createSubscriberToken: (tokenOptions) =>
        createSubscriberToken({ ...tokenOptions, secret: config.tokenSecrets[0] }),
      publish,
      on: (_name, handler) => eventHook.on(handler),
      drain() {
        draining = true;
      },
      get draining() {
        return draining;
      },
      metrics,
      engine,
      config,
    };
    app.decorate(decorator, api);
  }

  app.addHook('onClose', async () => {
    stopDeadLetters?.();
    durabilityWatch?.close();
    await reconciler?.close();
    eventHook.close();
    await hub.close();
    // Close only what the plugin opened; a handed-in engine belongs to the caller.
    if (!givenEngine) await engine.close();
  });
}

/** The roomcast fastify plugin (fastify 5). */
export const roomcast = fp(roomcastPlugin, { name: '@roomcast/server', fastify: '5.x' });

export type { Authorize };
