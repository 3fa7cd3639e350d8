/**
 * buildApp: the standalone roomcast server as a fastify instance, not listening (tests call it
 * and listen on port 0; main.ts listens).
 */
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { RoomcastConfig } from './config.ts';
import type { Engine } from './engine/engine.ts';
import { roomcast } from './plugin.ts';
import { REDACTED_LOG_PATHS, serializeRequest } from './log-redaction.ts';

/** Options of buildApp. */
export interface BuildAppOptions {
  /** Parsed config (see `configFromEnv` / `parseOptions`). */
  config: RoomcastConfig;
  /** Engine to use; default the in-memory engine. */
  engine?: Engine;
  /** pino logger options, or false for none. Default: JSON at config.logLevel. */
  logger?: boolean | Record<string, unknown>;
  /** fastify's own two lines per request (incoming, completed). Default true. */
  requestLogging?: boolean;
}

/** Trusts the `hops` proxies nearest to the server (the socket's peer is hop 0). */
function trustHops(hops: number) {
  return (_address: string, hop: number) => hop < hops;
}

/** fastify's `trustProxy` from the option's (a copy of the frozen address list). */
function trustProxyOf(trust: RoomcastConfig['trustProxy']) {
  if (typeof trust === 'number') return trustHops(trust);
  return trust === false ? false : [...trust];
}

/** Builds the standalone server (routes at `/`). */
export async function buildApp({
  config,
  engine,
  logger,
  requestLogging = true,
}: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      logger === false
        ? false
        : {
            level: config.logLevel,
            redact: REDACTED_LOG_PATHS,
            serializers: { req: serializeRequest },
            ...(logger === true ? {} : logger),
          },
    routerOptions: { maxParamLength: 300 },
    ...(requestLogging
      ? {}
      : { logController: new LogController({ disableRequestLogging: true }) }),
    // Not forceCloseConnections: on close, requests in flight (a webhook being appended) are
    // answered; idle keep-alive connections are closed, and busy ones after their answer.
    // A hop count as a function: fastify's types take only addresses for the plain value.
    trustProxy: trustProxyOf(config.trustProxy),
    forceCloseConnections: 'idle',
  });
  // The config is parsed already: the plugin takes it as it is.
  await app.register(roomcast, { config, engine });
  // Draining: every answer closes its connection, so a keep-alive client that sent a webhook
  // just before the SIGTERM does not hold the shutdown open.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (app.roomcast.draining) reply.header('connection', 'close');
    done(null, payload);
  });
  return app;
}
