/**
 * roomcast as a fastify plugin: options validated once, routes under the register prefix,
 * the engine passed in as a value. The standalone server (`buildApp`, `roomcast serve`) only
 * wraps it.
 */
import type { FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import { createAccess } from './auth/access.ts';
import { createCorsOriginCheck } from './auth/origins.ts';
import { parseOptions } from './config.ts';
import type { RoomcastConfig, RoomcastOptions } from './config.ts';
import type { Engine } from './engine/engine.ts';
import { createMemoryEngine } from './engine/memory-engine.ts';
import { installErrorHandlers } from './http-errors.ts';
import { webhookRoutes } from './webhooks/webhook-route.ts';
import { roomRoutes } from './rooms/room-routes.ts';
import { createHub } from './hub/hub.ts';
import { websocketRoutes } from './transports/websocket-route.ts';
import { sseRoutes } from './transports/sse-routes.ts';

/** Options of the roomcast plugin: the config options plus the engine. */
export interface RoomcastPluginOptions extends RoomcastOptions {
  /** The engine to use. Default: an in-memory engine built from the options (closed with the app). */
  engine?: Engine;
}

/** Builds the memory engine from parsed config. */
export function memoryEngineFromConfig(config: RoomcastConfig): Engine {
  return createMemoryEngine({
    historySize: config.historySize,
    historyTtl: config.historyTtl,
    roomIdleTtl: config.roomIdleTtl,
    dedupWindow: config.dedupWindow,
    dedupMaxIds: config.dedupMaxIds,
    trackHold: config.trackHold,
    deadLetterLimit: config.deadLetterLimit,
  });
}

/** The roomcast fastify plugin. */
export async function roomcastPlugin(app: FastifyInstance, options: RoomcastPluginOptions) {
  const { engine: givenEngine, ...rest } = options;
  const config = parseOptions(rest);
  if (config.huddle01ApiKeys.length === 0) {
    throw new Error('roomcast: huddle01ApiKeys is required (HUDDLE01_API_KEY)');
  }
  if (config.tokenSecrets.length === 0) {
    throw new Error('roomcast: tokenSecrets is required (ROOMCAST_TOKEN_SECRET)');
  }
  const engine = givenEngine ?? memoryEngineFromConfig(config);
  const hub = createHub({ engine, log: app.log, maxBufferedBytes: config.maxBufferedBytes });
  const access = createAccess(config);
  const corsAllows = createCorsOriginCheck(config.allowedOrigins, config.production);

  installErrorHandlers(app);
  await app.register(helmet, { global: true });
  await app.register(cors, {
    origin: (origin, callback) => callback(null, corsAllows(origin)),
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ['authorization', 'last-event-id', 'content-type'],
  });
  await app.register(webhookRoutes, {
    engine,
    apiKeys: config.huddle01ApiKeys,
    tolerance: config.webhookTolerance,
    maxBytes: config.webhookMaxBytes,
    rateLimitPerMinute: config.webhookRateLimit,
  });
  await app.register(roomRoutes, { engine, access });
  await app.register(websocketRoutes, { hub, config, access });
  await app.register(sseRoutes, { hub, config, access });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await engine.ping();
      return { ok: true };
    } catch {
      return reply.code(503).send({ ok: false });
    }
  });

  app.addHook('onClose', async () => {
    await hub.close();
    // Close only what the plugin opened; a handed-in engine belongs to the caller.
    if (!givenEngine) await engine.close();
  });
}
