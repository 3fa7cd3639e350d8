/**
 * Soak, 90 s for `npm test`: waves of meetings, subscribers and resumes against one server
 * child process. After the warm-up its heap, RSS, timers, sockets and listeners stay flat;
 * every idle room is evicted; every wave keeps the invariant. `npm run soak` runs 10 minutes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from './soak-scenario.ts';

test(
  '90 s of meetings, churn and resumes: flat memory, no leaked timers, rooms evicted',
  { timeout: 170_000 },
  async (t) => {
    const report = await runSoak({ durationMs: 90_000 });
    t.diagnostic(
      `${report.waves} waves, ${report.webhooks} webhooks, ${report.eventsDelivered} events, ` +
        `${report.connectionsOpened} connections, ${report.drops} drops, ${report.resyncs} resyncs; ` +
        `drifts ${JSON.stringify(report.flat.drifts)}`,
    );
    assert.deepEqual(report.violations, []);
    assert.ok(report.waves >= 5, `only ${report.waves} waves`);
    for (const drift of report.flat.drifts) {
      assert.ok(
        drift.ok,
        `${drift.figure} grew from ${drift.first} to ${drift.last} (allowed ${drift.allowed})`,
      );
    }
    assert.equal(report.roomsLeft, 0, 'every idle room evicted');
    for (const sample of report.samples) {
      assert.ok(
        sample.roomsHeld <= 20,
        `wave ${sample.wave}: ${sample.roomsHeld} rooms held (old waves not evicted)`,
      );
    }
    assert.deepEqual(report.endGauges, { connections: 0, subscriptions: 0, activeRooms: 0 });
  },
);
