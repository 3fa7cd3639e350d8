/**
 * Child process: the verification micro-benchmark. One realistic signed peer:joined, verified
 * sequentially many times by roomcast's verifier (made once, as the webhook route makes it, by
 * `createSignatureVerifier`) and by the SDK's
 * `WebhookReceiver.receive()` (awaited one at a time, as a route would). Reports µs per call.
 */
import { WebhookReceiver } from '@huddle01/server-sdk/webhooks';
import { createSignatureVerifier } from '../../server/src/webhooks/verify-signature.ts';
import { serveRequests } from '../lib/ipc.ts';
import { BENCH_API_KEY } from '../lib/bench-secrets.ts';
import { mixWebhook } from '../lib/webhook-mix.ts';

// Index 64 is the first peer:joined of room 0: the largest common payload.
const { body, signature } = mixWebhook(64, { tag: 'micro' });
const receiver = new WebhookReceiver({ apiKey: BENCH_API_KEY });
const verify = createSignatureVerifier([BENCH_API_KEY]);

function timeOurs(iterations: number): number {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    if (!verify(body, signature).ok) throw new Error('the verifier refused');
  }
  return ((performance.now() - started) * 1000) / iterations;
}

async function timeSdk(iterations: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await receiver.receive(body, signature);
  return ((performance.now() - started) * 1000) / iterations;
}

/**
 * Each verifier's calls are split into this many slices, run alternately: on a shared machine a
 * burst of load then lands on both verifiers alike instead of on whichever ran during it.
 */
const SLICES = 10;

serveRequests({
  /** One round: µs per call for each verifier (after a warm-up of the same size / 10). */
  round: async ({ ours, sdk }: { ours: number; sdk: number }) => {
    timeOurs(Math.ceil(ours / 10));
    await timeSdk(Math.ceil(sdk / 10));
    let oursUs = 0;
    let sdkUs = 0;
    for (let slice = 0; slice < SLICES; slice++) {
      oursUs += timeOurs(Math.ceil(ours / SLICES)) / SLICES;
      sdkUs += (await timeSdk(Math.ceil(sdk / SLICES))) / SLICES;
    }
    return { oursUs, sdkUs, bodyBytes: body.length };
  },
});
