/**
 * Scenario "verify": the signature check alone, roomcast's verifier (node:crypto, made once by
 * `createSignatureVerifier`)
 * against the SDK's `WebhookReceiver.receive()` (WebCrypto), sequential calls in one process.
 */
import type { BenchOptions } from '../lib/bench-options.ts';
import { startClient } from '../lib/processes.ts';
import { addValue, newResult } from '../lib/results.ts';
import type { ScenarioResult } from '../lib/results.ts';

/** Runs the verification micro-benchmark (a fresh process per run). */
export async function runVerify(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const result = newResult({
    id: 'verify',
    title: 'Signature verification alone',
    method:
      `One realistic signed peer:joined verified ${options.verifyOurs} times by roomcast's ` +
      `verifier and ${options.verifySdk} times by the SDK's receive() (awaited one by ` +
      `one), after a warm-up of a tenth of that, in a fresh process per run; the calls run in ` +
      `10 alternating slices, so that load from other processes lands on both alike.`,
    params: {
      'calls (roomcast)': options.verifyOurs,
      'calls (SDK)': options.verifySdk,
      runs: options.ingestRuns,
    },
    metrics: [
      { key: 'us', label: 'time per verification', unit: 'µs', better: 'lower', digits: 1 },
    ],
    contenders: [
      { id: 'ours', label: 'roomcast signature verifier', short: 'roomcast', role: 'subject' },
      { id: 'sdk', label: 'SDK WebhookReceiver.receive()', short: 'SDK receive()', role: 'peer' },
    ],
    targets: [
      {
        label: 'verification ≥ 20× cheaper than the SDK',
        metric: 'us',
        against: 'peer',
        comparison: '>=',
        limit: 20,
        inverse: true,
      },
    ],
  });
  for (let run = 0; run < options.ingestRuns; run++) {
    const micro = await startClient('verify-micro');
    try {
      const round = await micro.request<{ oursUs: number; sdkUs: number }>('round', {
        ours: options.verifyOurs,
        sdk: options.verifySdk,
      });
      addValue(result, 'ours', 'us', round.oursUs);
      addValue(result, 'sdk', 'us', round.sdkUs);
      log(
        `  run ${run + 1} roomcast verifier ${round.oursUs.toFixed(1)} µs  SDK receive() ` +
          `${round.sdkUs.toFixed(1)} µs  (${(round.sdkUs / round.oursUs).toFixed(1)}×)`,
      );
    } finally {
      await micro.stop();
    }
  }
  return result;
}
