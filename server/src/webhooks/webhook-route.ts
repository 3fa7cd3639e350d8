/**
 * POST /webhooks/huddle01: verify (signature, freshness) → parse (zod) → dedup + route +
 * append (engine) → answer. Answers and codes are the public contract in DESIGN.md.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import {
  ERRORS,
  ErrorCode,
  isEventName,
  isWebhookEventName,
  payloadSchemas,
} from '@roomcast/shared';
import type { DeadLetter, Engine } from '../engine/engine.ts';
import { compactDeadLetter } from '../engine/entry-delivery.ts';
import type { Metrics } from '../metrics.ts';
import { httpError } from '../http-errors.ts';
import {
  SIGNATURE_HEADER,
  checkFreshness,
  createSignatureVerifier,
  precheckSignatureHeader,
} from './verify-signature.ts';
import { createRefusalLimiter } from './refusal-limit.ts';
import { rawNumericId } from './raw-id.ts';
import type { RefusedWebhook } from './verify-signature.ts';

/** Longest webhook id accepted (Huddle01's are a few dozen characters; each is kept for dedup). */
const MAX_ID_LENGTH = 256;

/** What the webhook route needs. */
export interface WebhookRouteOptions {
  engine: Engine;
  apiKeys: readonly string[];
  /** Accepted signature age either way, ms. */
  tolerance: number;
  /** Largest body, bytes. */
  maxBytes: number;
  /** Webhooks per minute per client IP; 0 = no limit. */
  rateLimitPerMinute: number;
  /** Refused webhooks per minute per client IP before its next ones get 429 unread; 0 = no limit. */
  refusalLimitPerMinute: number;
  metrics: Metrics;
}

/** Registers the webhook route in its own encapsulated context (its own body parser). */
export async function webhookRoutes(app: FastifyInstance, options: WebhookRouteOptions) {
  const { engine, apiKeys, tolerance, maxBytes, rateLimitPerMinute, metrics } = options;
  const verifySignature = createSignatureVerifier(apiKeys);
  const refusals = createRefusalLimiter(options.refusalLimitPerMinute);
  const count = (event: unknown, outcome: string) =>
    metrics.webhooks.inc({ event: isEventName(event) ? event : 'unknown', outcome });
  if (rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: rateLimitPerMinute,
      timeWindow: 60_000,
      errorResponseBuilder: (_request, context) => ({
        statusCode: ERRORS.RATE_LIMITED.status,
        code: ErrorCode.RATE_LIMITED,
        message: `more than ${context.max} webhooks a minute (ROOMCAST_WEBHOOK_RATE_LIMIT)`,
      }),
    });
  }

  // Defined once per registration, not per request: the handler is the hot path.
  function refuse(
    request: FastifyRequest,
    reply: FastifyReply,
    refusal: RefusedWebhook,
    id?: string,
  ) {
    metrics.verificationFailures.inc({ reason: refusal.code });
    count(undefined, 'refused');
    request.log.warn({ webhook: { id, outcome: 'refused', code: refusal.code } }, refusal.message);
    return httpError(reply, refusal.code, refusal.message);
  }

  async function deadLetter(request: FastifyRequest, reply: FastifyReply, letter: DeadLetter) {
    const { webhookId: id, event, reason, detail } = letter;
    const kept = await engine.deadLetter(compactDeadLetter(letter));
    count(event, kept === 'duplicate' ? 'duplicate' : 'dead-letter');
    if (kept === 'duplicate') return reply.send({ ok: true, duplicate: true });
    metrics.deadLetters.inc({ reason });
    request.log.warn({ webhook: { id, event, outcome: 'dead-letter', reason } }, detail);
    return reply.code(202).send({ ok: true, deadLetter: true, reason, message: detail });
  }

  // Huddle01 sends text/plain; the signature covers the exact text, so every content type is
  // taken raw. fastify refuses a body over the limit from Content-Length before reading it.
  // The Content-Type header plays no part (the signature covers the body alone), but fastify
  // refuses a malformed one (`;;;`) with 415 before the route runs: it is set to one it knows.
  //
  // Before the body is read: an IP over its refusal limit gets 429, and a signature header that
  // is missing, malformed or stale gets 401. Neither reads, parses nor hashes a byte of it.
  app.addHook('onRequest', async (request, reply) => {
    request.headers['content-type'] = 'application/octet-stream';
    const now = Date.now();
    const wait = refusals.blockedFor(request.ip, now);
    if (wait > 0) {
      count(undefined, 'rate-limited');
      const message = `more than ${options.refusalLimitPerMinute} refused webhooks a minute from this address (ROOMCAST_WEBHOOK_REFUSAL_LIMIT)`;
      return httpError(reply.header('retry-after', String(wait)), ErrorCode.RATE_LIMITED, message);
    }
    const header = request.headers[SIGNATURE_HEADER];
    const early = precheckSignatureHeader(
      typeof header === 'string' ? header : undefined,
      now,
      tolerance,
    );
    if (early) return refuse(request, reply, early);
  });
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    if (status === 400 || status === 401 || status === 413) refusals.refused(request.ip);
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: maxBytes },
    (_request, body, done) => done(null, body),
  );

  app.post('/webhooks/huddle01', async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
    const header = request.headers[SIGNATURE_HEADER];
    const verified = verifySignature(raw, typeof header === 'string' ? header : undefined);
    if (!verified.ok) return refuse(request, reply, verified);
    const stale = checkFreshness(verified.timestamp, Date.now(), tolerance);
    if (stale) return refuse(request, reply, stale, verified.id);
    const { body } = verified;
    if (typeof body.id !== 'string' && typeof body.id !== 'number') {
      return httpError(reply, ErrorCode.INVALID_BODY, 'id must be a string');
    }
    // Dedup on the id's exact text: parsed, numeric ids past 2^53 would share a key.
    const id = typeof body.id === 'number' ? (rawNumericId(raw) ?? verified.id) : verified.id;
    if (id.length > MAX_ID_LENGTH) {
      const message = `id longer than ${MAX_ID_LENGTH} characters`;
      return httpError(reply, ErrorCode.INVALID_BODY, message);
    }
    const receivedAt = Date.now();
    const event = body.event;

    // roomcast's own synthetic events (reconcile:media) are not Huddle01's to send.
    if (!isWebhookEventName(event)) {
      const detail = `unknown event ${JSON.stringify(event)}`;
      return deadLetter(request, reply, {
        webhookId: id,
        event: String(event),
        reason: 'UNKNOWN_EVENT',
        detail,
        receivedAt,
        body,
      });
    }
    const parsed = payloadSchemas[event].safeParse(body.payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'payload';
      const detail = `${event} ${where}: ${issue?.message ?? 'invalid'}`;
      return deadLetter(request, reply, {
        webhookId: id,
        event,
        reason: 'INVALID_PAYLOAD',
        detail,
        receivedAt,
        body,
      });
    }

    let result;
    try {
      result = await engine.append({
        webhookId: id,
        event,
        payload: parsed.data as never,
        receivedAt,
      });
    } catch (error) {
      metrics.engineErrors.inc();
      count(event, 'engine-error');
      request.log.error(
        { err: error, webhook: { id, event, outcome: 'engine-error' } },
        'append failed',
      );
      return httpError(reply, ErrorCode.ENGINE_UNAVAILABLE, 'engine unavailable, retry later');
    }
    count(event, result.status);
    // One line per webhook: event, room, seq and outcome.
    const line =
      result.status === 'appended'
        ? { id, event, outcome: result.status, roomId: result.roomId, seq: result.seq }
        : result.status === 'redundant'
          ? { id, event, outcome: result.status, roomId: result.roomId }
          : { id, event, outcome: result.status };
    request.log.info({ webhook: line }, `webhook ${result.status}`);
    if (result.status === 'appended')
      return reply.send({ ok: true, roomId: result.roomId, seq: result.seq });
    if (result.status === 'duplicate') return reply.send({ ok: true, duplicate: true });
    // Reconcile already made this change: to Huddle01 (and any retry) it is a handled duplicate.
    if (result.status === 'redundant') {
      return reply.send({ ok: true, duplicate: true, reconciled: true, roomId: result.roomId });
    }
    return reply.code(202).send({ ok: true, held: true });
  });
}
