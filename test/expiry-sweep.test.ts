/**
 * The one token-expiry sweep of both transports: every connection visited once per period, the
 * visits spread over it (ten ticks a period), a deleted connection never visited again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createExpirySweep } from '../server/src/transports/expiry-sweep.ts';
import type { Expiring } from '../server/src/transports/expiry-sweep.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('each connection checks its deadlines once per period, the checks spread over it', async () => {
  const periodMs = 200;
  const sweep = createExpirySweep(periodMs);
  const visits = new Map<Expiring, number[]>();
  const items = Array.from({ length: 20 }, () => {
    const item: Expiring = { checkExpiry: (now) => visits.get(item)!.push(now) };
    visits.set(item, []);
    sweep.add(item);
    return item;
  });
  sweep.delete(items[19]!);
  try {
    await sleep(3 * periodMs + periodMs / 5);
    assert.deepEqual(visits.get(items[19]!), []);
    const firsts = items.slice(0, 19).map((item) => visits.get(item)![0]!);
    assert.ok(Math.max(...firsts) - Math.min(...firsts) >= periodMs / 4, 'checks not spread');
    for (const item of items.slice(0, 19)) {
      const count = visits.get(item)!.length;
      // Three periods: three visits, give or take one for timers late on a busy machine.
      assert.ok(count >= 2 && count <= 4, `${count} visits`);
    }
  } finally {
    sweep.stop();
  }
});
