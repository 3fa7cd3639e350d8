/**
 * The quick versions of the benchmark's resilience scenarios (`npm run bench -- jitter avalanche
 * idle --quick`, smaller still, roomcast only), through their real parts: servers and subscriber processes,
 * the fault proxy, roomcast's real client, a real redis-server. Asserts what must hold on any
 * machine (exactly once, in order, resumed, honest snapshots, nothing lost), never a speed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchOptions } from '../bench/lib/bench-options.ts';
import { redisServerProblem } from '../bench/lib/redis-server.ts';
import { medianOf } from '../bench/lib/results.ts';
import type { ScenarioResult } from '../bench/lib/results.ts';
import { runAvalanche } from '../bench/scenarios/avalanche.ts';
import { runIdle } from '../bench/scenarios/idle.ts';
import { newLog } from '../bench/clients/realtime-clients.ts';
import type { SubscriberLog } from '../bench/clients/realtime-clients.ts';
import { checkSequences } from '../bench/lib/sequence-check.ts';
import { runJitter } from '../bench/scenarios/jitter.ts';

const options = parseBenchOptions([
  '--quick',
  '--quiet-wait',
  '1',
  '--jitter-subscribers',
  '100',
  '--flow',
  '4000',
  '--avalanche-subscribers',
  '100',
  '--idle-connections',
  '300',
  '--only',
  'roomcast',
]);
const lines: string[] = [];
const log = (line: string) => lines.push(line);
const roomcast = (result: ScenarioResult, metric: string) => medianOf(result, 'roomcast', metric);

test(
  'bench quick: jitter, avalanche and idle keep their guarantees',
  { timeout: 170_000 },
  async (t) => {
    t.after(() => t.diagnostic(lines.join('\n')));

    const jitter = await runJitter(options, log);
    assert.equal(roomcast(jitter, 'exactlyOnce'), 100, 'every event exactly once, in order');
    assert.equal(roomcast(jitter, 'duplicates'), 0);
    assert.equal(roomcast(jitter, 'outOfOrder'), 0);
    assert.ok(roomcast(jitter, 'reconnects') > 0, 'links were cut and came back');
    assert.equal(roomcast(jitter, 'recovered'), 100, 'every reconnect resumed');

    const idle = await runIdle(options, log, 20_000);
    assert.equal(roomcast(idle, 'lost'), 0, 'the hot room got every event');
    assert.ok(Number.isFinite(roomcast(idle, 'rssKiB')));

    const problem = redisServerProblem();
    if (problem && process.env.CI !== 'true')
      return t.skip(`avalanche needs redis-server: ${problem}`);
    assert.equal(problem, undefined, 'redis-server is required on CI');
    const [cluster, memory] = await runAvalanche(options, log, 20_000);
    assert.ok(roomcast(cluster!, 'dropped') > 0, 'the restart dropped subscribers');
    assert.equal(roomcast(cluster!, 'neverBack'), 0, 'all back on the other node');
    assert.equal(roomcast(cluster!, 'recovered'), 100, 'all resumed with recovered: true');
    assert.equal(roomcast(cluster!, 'exactlyOnce'), 100, 'no event lost or repeated');
    assert.equal(roomcast(memory!, 'neverBack'), 0);
    assert.equal(roomcast(memory!, 'snapshots'), 100, 'every one an honest not-recovered snapshot');
    assert.equal(roomcast(memory!, 'duplicates'), 0);
  },
);

/** A subscriber log of `room` that received `indexes` in that order. */
function logOf(room: string, indexes: number[], down = false): SubscriberLog {
  const log = newLog(room, '127.0.0.2');
  log.indexes = indexes;
  log.receivedAt = indexes.map(() => 0);
  log.drops = down ? 1 : 0;
  log.down = down;
  return log;
}

test('the sequence check tells events lost in a hole from a tail not read yet', () => {
  const published = { rooms: { a: [1, 2, 3, 4, 5], b: [6, 7] }, sentAt: {} };
  const report = checkSequences(
    [logOf('a', [1, 2, 4]), logOf('a', [1, 2, 3, 4, 5]), logOf('b', [6], true)],
    published,
  );
  assert.equal(report.expected, 12);
  assert.equal(report.delivered, 9);
  assert.equal(report.subscribersWithLoss, 2);
  assert.equal(report.missingInHoles, 1, 'event 3 came before 4, which arrived: lost');
  assert.equal(
    report.missingAtTail,
    2,
    'event 5 of room a and 7 of room b came after the last one',
  );
  assert.equal(report.lossWhileDown, 1, 'the subscriber of b was still down');
});
