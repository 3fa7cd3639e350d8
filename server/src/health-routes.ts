/**
 * The operator routes: `/healthz` (the process answers), `/readyz` (the engine can append, with
 * the storage's durability report in the body) and `/metrics` (Prometheus text, optionally
 * behind a bearer token).
 */
import type { FastifyInstance } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '@roomcast/shared';
import type { DurabilityReport } from './engine/durability.ts';
import type { Engine } from './engine/engine.ts';
import { httpError } from './http-errors.ts';
import type { Metrics } from './metrics.ts';

/** Longest /readyz waits for the engine, ms. */
const READY_TIMEOUT_MS = 900;

/** What the operator routes need. */
export interface HealthRouteOptions {
  engine: Engine;
  metrics: Metrics;
  /** Whether `/metrics` is served. */
  serveMetrics: boolean;
  /** Bearer token `/metrics` asks for (none: open). */
  metricsToken: string | undefined;
  draining: () => boolean;
}

/** Whether an Authorization header carries `key` as a bearer token (always, without a key). */
function bearerCheck(key: string | undefined): (header: string | undefined) => boolean {
  if (key === undefined) return () => true;
  const expected = createHash('sha256').update(key).digest();
  return (header) => {
    const given = /^bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
    // Digests, so the comparison takes the same time whatever the length of the guess.
    return timingSafeEqual(createHash('sha256').update(given).digest(), expected);
  };
}

/** The engine's answer to "can you append?", with its durability report when it has one. */
async function engineReadiness(engine: Engine): Promise<DurabilityReport | undefined> {
  await engine.ping();
  return engine.durability?.();
}

/** Registers /healthz, /readyz and /metrics. */
export async function healthRoutes(app: FastifyInstance, options: HealthRouteOptions) {
  const { engine, metrics, draining } = options;
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    if (draining()) return reply.code(503).send({ ok: false, reason: 'draining' });
    // Within a second, whatever the engine does: a frozen Redis (or one never reached) would
    // hold the probe for its whole command timeout.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error('engine did not answer within 1 s')),
        READY_TIMEOUT_MS,
      );
    });
    try {
      const durability = await Promise.race([engineReadiness(engine), late]);
      // Ready either way: a risky setting is the operator's choice, shown here and in the log.
      return durability === undefined ? { ok: true } : { ok: true, durability };
    } catch {
      return reply.code(503).send({ ok: false, reason: 'engine unreachable' });
    } finally {
      clearTimeout(timer);
    }
  });
  if (options.serveMetrics) {
    const allowed = bearerCheck(options.metricsToken);
    app.get('/metrics', async (request, reply) => {
      if (!allowed(request.headers.authorization)) {
        reply.header('www-authenticate', 'Bearer realm="roomcast metrics"');
        return httpError(
          reply,
          ErrorCode.UNAUTHORIZED,
          'metrics need Authorization: Bearer <ROOMCAST_METRICS_TOKEN>',
        );
      }
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.render());
    });
  }
}
