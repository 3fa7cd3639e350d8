/**
 * buildApp: the standalone roomcast server as a fastify instance, not listening (tests call it
 * and listen on port 0; main.ts listens).
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { RoomcastConfig } from './config.ts';
import type { Engine } from './engine/engine.ts';
import { roomcastPlugin } from './plugin.ts';

/** Options of buildApp. */
export interface BuildAppOptions {
  /** Parsed config (see `configFromEnv` / `parseOptions`). */
  config: RoomcastConfig;
  /** Engine to use; default the in-memory engine. */
  engine?: Engine;
  /** pino logger options, or false for none. Default: JSON at config.logLevel. */
  logger?: boolean | Record<string, unknown>;
}

/** Pino paths that may hold secrets; they never reach a log line. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers["huddle01-signature"]',
  'req.headers.cookie',
];

/** Builds the standalone server (routes at `/`). */
export async function buildApp({
  config,
  engine,
  logger,
}: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      logger === false
        ? false
        : {
            level: config.logLevel,
            redact: REDACTED_LOG_PATHS,
            ...(logger === true ? {} : logger),
          },
    routerOptions: { maxParamLength: 300 },
    forceCloseConnections: true,
  });
  await app.register(websocket, { options: { maxPayload: config.maxFrameBytes } });
  await app.register(roomcastPlugin, { ...config, engine } as never);
  return app;
}
