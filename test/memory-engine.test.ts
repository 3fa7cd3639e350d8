/**
 * The memory engine: the shared contract suite, plus what only memory does (eviction, TTLs).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { createMemoryEngine } from '../server/src/engine/memory-engine.ts';
import { createDedupWindow } from '../server/src/engine/dedup-window.ts';
import { engineContract } from './engine-contract.ts';
import { peerJoined } from './helpers/payloads.ts';
import { until } from './helpers/wait.ts';

engineContract('memory', async (options) => createMemoryEngine(options));

describe('memory engine specifics', () => {
  test('history older than its TTL is not replayed: resume falls back to a snapshot', async () => {
    let clock = 1_000_000;
    const engine = createMemoryEngine({ historyTtl: 1000, now: () => clock });
    for (let i = 0; i < 3; i++) {
      await engine.append({
        webhookId: `t${i}`,
        event: 'peer:joined',
        payload: peerJoined('ttl', `p${i}`),
        receivedAt: clock,
      });
    }
    const { epoch } = await engine.snapshot('ttl');
    assert.equal((await engine.read('ttl', { epoch, seq: 1 })).recovered, true);
    clock += 5000;
    assert.equal((await engine.read('ttl', { epoch, seq: 1 })).recovered, false);
    await engine.close();
  });

  test('an idle room without listeners is evicted; it comes back with a new epoch', async () => {
    let clock = 1_000_000;
    const engine = createMemoryEngine({ roomIdleTtl: 1000, now: () => clock });
    await engine.append({
      webhookId: 'e1',
      event: 'peer:joined',
      payload: peerJoined('idle', 'p'),
      receivedAt: clock,
    });
    const before = await engine.snapshot('idle');
    clock += 5000;
    // The sweep runs on a timer; a short idle TTL makes it run every second.
    await until(async () => (await engine.listRooms({ limit: 10 })).rooms.length === 0, {
      timeoutMs: 3000,
      what: 'the sweep to drop the idle room',
      intervalMs: 50,
    });
    const after = await engine.snapshot('idle');
    assert.notEqual(after.epoch, before.epoch);
    assert.equal(after.seq, 0);
    await engine.close();
  });

  test('the dedup window forgets ids after the window, and holds at most maxIds', () => {
    const window = createDedupWindow(1000, 3);
    assert.equal(window.add('a', 0), true);
    assert.equal(window.add('a', 10), false);
    assert.equal(window.add('a', 2000), true);
    for (const id of ['b', 'c', 'd', 'e']) window.add(id, 2000);
    assert.equal(window.size, 3);
    assert.equal(window.has('e', 2000), true);
  });

  test('the dedup window answers like a plain model of it on any sequence of adds', () => {
    // Model: every id with its expiry in insertion order, expired ones dropped before each add,
    // the oldest dropped past the cap. The window only sweeps when its oldest entry is due.
    const step = fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd', 'e'), advance: fc.nat(700) });
    fc.assert(
      fc.property(fc.nat({ max: 4 }), fc.array(step, { maxLength: 60 }), (extra, steps) => {
        const [windowMs, maxIds] = [1000, 1 + extra];
        const window = createDedupWindow(windowMs, maxIds);
        let model: Array<[string, number]> = [];
        let now = 0;
        for (const { id, advance } of steps) {
          now += advance;
          model = model.filter(([, expiresAt]) => expiresAt > now);
          const fresh = !model.some(([known]) => known === id);
          if (fresh) model.push([id, now + windowMs]);
          if (model.length > maxIds) model.shift();
          assert.equal(window.add(id, now), fresh);
          for (const probe of ['a', 'b', 'c', 'd', 'e']) {
            assert.equal(
              window.has(probe, now),
              model.some(([known]) => known === probe),
            );
          }
          assert.equal(window.size, model.length);
        }
      }),
    );
  });
});
