/**
 * The one token-expiry sweep of both transports: a connection is visited when its next deadline
 * has passed, and not before; filed again after the visit by its new deadline; moved when
 * rescheduled; never visited once deleted; a crowd due in the same tick is visited over several.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createExpirySweep } from '../server/src/transports/expiry-sweep.ts';
import type { Expiring } from '../server/src/transports/expiry-sweep.ts';
import { until } from './helpers/wait.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TICK_MS = 20;

/** An item due at `deadline` that records its visits; `then` gives its deadline after a visit. */
function item(deadline: number, then: (visits: number) => number = () => Infinity) {
  const visits: number[] = [];
  let next = deadline;
  const expiring: Expiring & { visits: number[]; setDeadline(at: number): void } = {
    visits,
    checkExpiry(now) {
      visits.push(now);
      next = then(visits.length);
    },
    nextExpiryCheck: () => next,
    setDeadline(at) {
      next = at;
    },
  };
  return expiring;
}

test('a connection is visited once its deadline has passed, and not before', async (t) => {
  const sweep = createExpirySweep(TICK_MS);
  t.after(() => sweep.stop());
  const start = Date.now();
  const soon = item(start + 100);
  const never = item(Infinity);
  const deleted = item(start + 50);
  for (const each of [soon, never, deleted]) sweep.add(each);
  sweep.delete(deleted);
  await until(() => soon.visits.length > 0, { what: 'a visit of the due connection' });
  assert.ok(
    soon.visits[0]! >= start + 100,
    `visited ${soon.visits[0]! - start} ms in, before its deadline`,
  );
  await sleep(5 * TICK_MS);
  assert.equal(soon.visits.length, 1, 'visited again with no deadline left');
  assert.deepEqual(never.visits, []);
  assert.deepEqual(deleted.visits, []);
});

test('after a visit it is filed by its next deadline; a check that cannot act yet comes back next tick', async (t) => {
  const sweep = createExpirySweep(TICK_MS);
  t.after(() => sweep.stop());
  const start = Date.now();
  // First visit: the notice (a grace of 80 ms starts); second: the close.
  const graced = item(start + 20, (visits) => (visits === 1 ? Date.now() + 80 : Infinity));
  // A deadline that stays in the past (a token being verified at its auth deadline).
  const waiting = item(start + 20, () => start + 20);
  sweep.add(graced);
  sweep.add(waiting);
  await until(() => graced.visits.length === 2, { what: 'the visit at the grace deadline' });
  assert.ok(graced.visits[1]! - graced.visits[0]! >= 80, 'the grace was cut short');
  const elapsed = Date.now() - start;
  // Once per tick, not a tight loop: at most one visit per tick elapsed (and one for rounding).
  assert.ok(waiting.visits.length >= 2, 'a check that could not act was not visited again');
  assert.ok(
    waiting.visits.length <= elapsed / TICK_MS + 1,
    `${waiting.visits.length} visits in ${elapsed} ms`,
  );
  sweep.delete(waiting);
});

test('reschedule moves a connection to its new deadline, earlier or later', async (t) => {
  const sweep = createExpirySweep(TICK_MS);
  t.after(() => sweep.stop());
  const start = Date.now();
  const earlier = item(start + 60_000);
  const later = item(start + 40);
  sweep.add(earlier);
  sweep.add(later);
  earlier.setDeadline(start + 40);
  sweep.reschedule(earlier);
  later.setDeadline(start + 60_000);
  sweep.reschedule(later);
  await until(() => earlier.visits.length > 0, { what: 'a visit at the earlier deadline' });
  await sleep(3 * TICK_MS);
  assert.deepEqual(later.visits, [], 'visited at the deadline it no longer has');
  // A deleted connection is not brought back by a reschedule.
  sweep.delete(later);
  later.setDeadline(Date.now());
  sweep.reschedule(later);
  await sleep(3 * TICK_MS);
  assert.deepEqual(later.visits, []);
});

test('a crowd due in the same tick is visited over several ticks, every one of it', async (t) => {
  const sweep = createExpirySweep(TICK_MS, 10);
  t.after(() => sweep.stop());
  const deadline = Date.now() + 30;
  const crowd = Array.from({ length: 50 }, () => item(deadline));
  for (const each of crowd) sweep.add(each);
  await until(() => crowd.every((each) => each.visits.length === 1), {
    what: 'a visit of every one of the crowd',
  });
  const times = crowd.map((each) => each.visits[0]!);
  const ticks = new Set(times).size;
  assert.ok(ticks >= 5, `50 visits at 10 a tick took ${ticks} ticks`);
});
