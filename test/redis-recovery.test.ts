/**
 * Paced recovery: after its connections to Redis are cut, a node that listens to many rooms
 * catches every room up (each delivers the entry it missed) with a bounded number of catch-up
 * reads in flight. How fast 5,000 rooms recover is measured by bench/tools/redis-recovery.ts,
 * not here.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { runRecovery } from './helpers/recovery-run.ts';
import { startRedisServer } from './helpers/redis-server.ts';

const server = await startRedisServer();

if (!server) {
  test(
    'redis recovery (skipped: no redis-server, see the warning above)',
    { skip: true },
    () => {},
  );
} else {
  const redis = server;
  after(() => redis.close());

  test('300 listened rooms come back after a cut, at most 8 catch-up reads at once', async () => {
    const run = await runRecovery(redis.url, {
      rooms: 300,
      concurrency: 8,
      keyPrefix: `rc-recovery-${process.pid}:`,
    });
    assert.equal(run.rooms, 300);
    assert.ok(run.maxInFlight <= 8, `at most 8 in flight (saw ${run.maxInFlight})`);
    assert.ok(run.maxInFlight >= 2, `the catch-ups did run side by side (saw ${run.maxInFlight})`);
  });
}
