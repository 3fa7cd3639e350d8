/**
 * Child process: the verification micro-benchmark. One realistic signed peer:joined, verified
 * sequentially many times by roomcast's `verifySignature` and by the SDK's
 * `WebhookReceiver.receive()` (awaited one at a time, as a route would). Reports µs per call.
 */
import { WebhookReceiver } from '@huddle01/server-sdk/webhooks';
import { verifySignature } from '../../server/src/webhooks/verify-signature.ts';
import { serveRequests } from '../lib/ipc.ts';
import { BENCH_API_KEY } from '../lib/bench-secrets.ts';
import { mixWebhook } from '../lib/webhook-mix.ts';

// Index 64 is the first peer:joined of room 0: the largest common payload.
const { body, signature } = mixWebhook(64, { tag: 'micro' });
const receiver = new WebhookReceiver({ apiKey: BENCH_API_KEY });
const keys = [BENCH_API_KEY];

function timeOurs(iterations: number): number {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    if (!verifySignature(body, signature, keys).ok) throw new Error('verifySignature refused');
  }
  return ((performance.now() - started) * 1000) / iterations;
}

async function timeSdk(iterations: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await receiver.receive(body, signature);
  return ((performance.now() - started) * 1000) / iterations;
}

serveRequests({
  /** One round: µs per call for each verifier (after a warm-up of the same size / 10). */
  round: async ({ ours, sdk }: { ours: number; sdk: number }) => {
    timeOurs(Math.ceil(ours / 10));
    await timeSdk(Math.ceil(sdk / 10));
    return { oursUs: timeOurs(ours), sdkUs: await timeSdk(sdk), bodyBytes: body.length };
  },
});
