/**
 * `POST /rooms/:roomId/publish`: your backend puts an app event into a room's channel.
 * Body `{event: "app:<name>", payload, idempotencyKey?}` (JSON), `Authorization: Bearer
 * <ROOMCAST_PUBLISH_KEY>`; answers `{ok, roomId, seq}` like a webhook. Machine-facing like the
 * webhook route: no CORS (a browser never holds a publish key).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, MAX_APP_PAYLOAD_BYTES } from '@roomcast/shared';
import { httpError } from '../http-errors.ts';
import type { Metrics } from '../metrics.ts';
import { PublishError } from './app-events.ts';
import type { Publish } from './app-events.ts';

/** Options of the publish route. */
export interface PublishRouteOptions {
  publish: Publish;
  /** Keys that authorise a publish (any of them); empty: publishing is off. */
  keys: readonly string[];
  metrics: Metrics;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** True when `given` equals one of the keys, compared in constant time (over their digests). */
function keyMatches(given: string, keys: readonly Buffer[]): boolean {
  const candidate = digest(given);
  let match = false;
  for (const key of keys) match = timingSafeEqual(candidate, key) || match;
  return match;
}

/** Registers the publish route. */
export async function publishRoutes(app: FastifyInstance, options: PublishRouteOptions) {
  const { publish, metrics } = options;
  const keys = options.keys.map(digest);
  app.post(
    '/rooms/:roomId/publish',
    // The payload's limit is checked exactly below; this only bounds what is read and parsed.
    { bodyLimit: MAX_APP_PAYLOAD_BYTES + 16 * 1024 },
    async (request, reply) => {
      if (keys.length === 0) {
        return httpError(
          reply,
          ErrorCode.PUBLISH_DISABLED,
          'publishing is off: set ROOMCAST_PUBLISH_KEY to turn it on',
        );
      }
      const header = request.headers.authorization;
      const given = typeof header === 'string' ? /^bearer\s+(.+)$/i.exec(header)?.[1]?.trim() : '';
      if (!given || !keyMatches(given, keys)) {
        metrics.published.inc({ outcome: 'refused' });
        return httpError(reply, ErrorCode.UNAUTHORIZED, 'a valid publish key is required');
      }
      const body = request.body as Record<string, unknown> | null | undefined;
      if (!body || typeof body !== 'object' || Array.isArray(body) || !('event' in body)) {
        metrics.published.inc({ outcome: 'refused' });
        return httpError(
          reply,
          ErrorCode.INVALID_BODY,
          'expected JSON {event: "app:<name>", payload, idempotencyKey?}',
        );
      }
      const { roomId } = request.params as { roomId: string };
      const { event, payload, idempotencyKey } = body;
      try {
        const result = await publish(roomId, String(event), payload, {
          idempotencyKey: idempotencyKey as string | undefined,
        });
        metrics.published.inc({ outcome: result.duplicate ? 'duplicate' : 'appended' });
        request.log.info(
          { publish: { roomId, event, seq: result.seq, duplicate: result.duplicate ?? false } },
          result.duplicate ? 'publish duplicate' : 'publish appended',
        );
        return result;
      } catch (error) {
        if (error instanceof PublishError) {
          metrics.published.inc({ outcome: 'refused' });
          return httpError(reply, error.code, error.message);
        }
        metrics.engineErrors.inc();
        metrics.published.inc({ outcome: 'engine-error' });
        request.log.error({ err: error, publish: { roomId, event } }, 'publish failed');
        return httpError(reply, ErrorCode.ENGINE_UNAVAILABLE, 'engine unavailable, retry later');
      }
    },
  );
}
