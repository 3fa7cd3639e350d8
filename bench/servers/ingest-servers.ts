/**
 * The comparison servers of the ingest scenario, all fastify 5 like roomcast, all on
 * POST /webhooks/huddle01 so the load generator sends them byte-identical requests:
 * - `sdk-ingest`: what the Huddle01 docs suggest, `new WebhookReceiver({apiKey}).receive(text,
 *   header)` on the raw text body, then an answer;
 * - `bare-ingest`: a route that only answers `{ok:true}` (the floor: fastify's own cost);
 * - `verify-ingest`: the floor plus roomcast's verifier (a reference: verification alone).
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { WebhookReceiver } from '@huddle01/server-sdk/webhooks';
import {
  checkFreshness,
  createSignatureVerifier,
} from '../../server/src/webhooks/verify-signature.ts';
import { BENCH_API_KEY } from '../lib/bench-secrets.ts';
import type { RunningServer } from './running-server.ts';

const ROUTE = '/webhooks/huddle01';

async function listen(app: FastifyInstance): Promise<RunningServer> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { port: address.port, close: () => app.close() };
}

/** Raw text for any content type: the signature covers the exact text. */
function rawTextParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );
}

/** Starts the SDK-verifying route. */
export async function startSdkIngest(): Promise<RunningServer> {
  const app = Fastify({ logger: false });
  rawTextParser(app);
  const receiver = new WebhookReceiver({ apiKey: BENCH_API_KEY });
  app.post(ROUTE, async (request, reply) => {
    const header = request.headers['huddle01-signature'];
    try {
      const data = await receiver.receive(
        request.body as string,
        typeof header === 'string' ? header : undefined,
      );
      return { ok: true, id: data.id };
    } catch {
      return reply.code(401).send({ ok: false });
    }
  });
  return listen(app);
}

/**
 * Starts the verify-only route: the floor plus roomcast's own signature and freshness checks,
 * answering as roomcast does. The least any route meeting the webhook contract can cost; the
 * rest of roomcast's CPU per webhook is validation, dedup, the room fold and the history.
 */
export async function startVerifyIngest(): Promise<RunningServer> {
  const app = Fastify({ logger: false });
  rawTextParser(app);
  const verify = createSignatureVerifier([BENCH_API_KEY]);
  app.post(ROUTE, async (request, reply) => {
    const header = request.headers['huddle01-signature'];
    const verified = verify(
      request.body as string,
      typeof header === 'string' ? header : undefined,
    );
    if (!verified.ok) return reply.code(verified.status).send({ error: { code: verified.code } });
    const stale = checkFreshness(verified.timestamp, Date.now(), 300_000);
    if (stale) return reply.code(stale.status).send({ error: { code: stale.code } });
    return { ok: true, roomId: (verified.body.payload as { roomId?: string })?.roomId, seq: 1 };
  });
  return listen(app);
}

/** Starts the floor route. */
export async function startBareIngest(): Promise<RunningServer> {
  const app = Fastify({ logger: false });
  rawTextParser(app);
  app.post(ROUTE, async () => ({ ok: true }));
  return listen(app);
}
