/**
 * Load, reduced for `npm test`: 2,000 WebSocket and 200 SSE subscribers over 200 rooms of one
 * server, meetings played by `roomcast simulate`, subscribers dropping and resuming all along.
 * Every acknowledged webhook reaches every subscriber of its room once, in order; every room's
 * state is the reducer over its log. `npm run load` runs the full size (10,000 + 1,000).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLoad } from './load-scenario.ts';
import { requireOpenFiles } from './open-files.ts';

test(
  '2,000 WS + 200 SSE over 200 rooms, churning: nothing lost',
  { timeout: 170_000 },
  async (t) => {
    requireOpenFiles(2500);
    const report = await runLoad({
      ws: 2000,
      sse: 200,
      rooms: 200,
      peers: 8,
      duration: '15s',
      dropsPerSecond: 40,
    });
    const { check, driver } = report;
    t.diagnostic(
      `held ${report.peakConnections} connections; ${report.accepted}/${report.webhooks} webhooks accepted; ` +
        `${check.eventsDelivered} events checked; ${driver.drops} drops, ${check.resumes} resumes ` +
        `(${check.recovered} recovered, ${check.resyncs} resyncs); server RSS ${(report.serverRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    assert.deepEqual(check.violations, []);
    assert.equal(report.peakConnections, 2200);
    assert.equal(report.accepted, report.webhooks);
    assert.equal(check.acknowledged > 0 && check.acknowledged <= report.webhooks, true);
    assert.ok(driver.drops > 100, 'subscribers dropped and resumed throughout');
    assert.equal(check.resyncs, 0, 'every resume was inside the history');
  },
);
