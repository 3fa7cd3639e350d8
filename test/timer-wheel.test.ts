/**
 * The timer wheel behind WebSocket pings and SSE heartbeats: every item visited once per turn,
 * the visits spread over the turn, a deleted item never visited again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTimerWheel, tickOf } from '../server/src/transports/timer-wheel.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('each item is visited once per turn, the visits spread over the turn', async () => {
  const turnMs = 300;
  const visits = new Map<number, number[]>();
  let previous: ReadonlySet<number> | undefined;
  let slotsMatched = true;
  const wheel = createTimerWheel<number>(turnMs, (slots, now) => {
    // `slot(1)` is the slot the previous tick visited.
    if (previous && slots.slot(1) !== previous) slotsMatched = false;
    previous = slots.slot(0);
    for (const item of slots.slot(0)) visits.get(item)!.push(now);
  });
  try {
    for (let item = 0; item < 30; item++) {
      visits.set(item, []);
      wheel.add(item);
    }
    wheel.delete(29);
    await sleep(3 * turnMs + 2 * tickOf(turnMs));
    assert.deepEqual(visits.get(29), []);
    const firsts = [...visits.values()].filter((times) => times.length > 0).map((t) => t[0]!);
    assert.equal(firsts.length, 29);
    assert.ok(Math.max(...firsts) - Math.min(...firsts) >= turnMs / 4, 'visits not spread');
    for (const [item, times] of visits) {
      if (item === 29) continue;
      // Three turns: three visits, give or take one for timers that run late on a busy machine.
      assert.ok(times.length >= 2 && times.length <= 4, `item ${item}: ${times.length} visits`);
    }
    assert.ok(slotsMatched, 'slot(1) is not the previous tick’s slot');
  } finally {
    wheel.stop();
  }
});

test('ticks are at least 10 ms apart; a turn has at most 100 of them', () => {
  assert.equal(tickOf(25_000), 250);
  assert.equal(tickOf(100), 10);
  assert.equal(tickOf(5), 10);
});
