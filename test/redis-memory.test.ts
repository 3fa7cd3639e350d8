/**
 * What keeps the Redis engine's memory bounded, on a real redis-server: history trimmed by age
 * (not only by count) without breaking the state, dedup markers as fingerprints that still
 * hold for the whole window, a room's keys expiring soon after its meeting ends, and a room
 * index that is bounded and expires. Bytes are measured by the bench (redis-memory.ts).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import type { AppendInput } from '../server/src/engine/engine.ts';
import { meetingEnded, meetingStarted, peerJoined } from './helpers/payloads.ts';
import { testRedisEngine } from './helpers/redis-engines.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import { appendInput, webhookId } from './helpers/server.ts';

const server = await startRedisServer();

function input(
  event: AppendInput['event'],
  payload: unknown,
  receivedAt: number,
  id = webhookId(),
) {
  return appendInput(event, payload, { webhookId: id, receivedAt });
}

if (!server) {
  test('redis memory (skipped: no redis-server, see the warning above)', { skip: true }, () => {});
} else {
  const redisServer = server;
  const raw = new Redis(redisServer.url);
  after(async () => {
    raw.disconnect();
    await redisServer.close();
  });
  /** The test's engine on a fresh prefix, closed after it. */
  const memoryEngine = (t: TestContext, options: Parameters<typeof testRedisEngine>[3]) =>
    testRedisEngine(t, redisServer.url, 'memory', options);

  test('history is trimmed by age too; the state stays whole', async (t) => {
    let clock = 1_800_000_000_000;
    const { engine, keys } = memoryEngine(t, {
      historySize: 8,
      historyTtl: 60_000,
      now: () => clock,
    });
    await engine.append(input('meeting:started', meetingStarted('aged'), clock));
    for (let i = 0; i < 4; i++) {
      await engine.append(input('peer:joined', peerJoined('aged', `old-${i}`), clock));
    }
    clock += 120_000; // the first five are past the history TTL now
    for (let i = 0; i < 6; i++) {
      await engine.append(input('peer:joined', peerJoined('aged', `new-${i}`), clock));
      await new Promise((resolve) => setTimeout(resolve, 20)); // let the checkpoint move
    }
    const log = keys.room('aged').log;
    const entries = (await raw.xrange(log, '-', '+')) as [string, string[]][];
    const oldest = JSON.parse(entries[0]![1][1]!) as { receivedAt: number };
    assert.ok(oldest.receivedAt >= clock - 60_000, 'the entries older than the TTL are gone');
    const snapshot = await engine.snapshot('aged');
    assert.equal(snapshot.seq, 11);
    assert.equal(Object.keys(snapshot.state.peers).length, 10, 'every peer is still in the state');
  });

  test('dedup markers are fingerprints, found for the whole window', async (t) => {
    let clock = 1_800_000_000_000;
    const { engine, keyPrefix } = memoryEngine(t, { dedupWindow: 40_000, now: () => clock });
    const id = `wh-fingerprint-${process.pid}`;
    assert.equal(
      (await engine.append(input('meeting:started', meetingStarted('fp'), clock, id))).status,
      'appended',
    );
    // Later slices, still inside the window: a duplicate, in the room and room-independently.
    clock += 39_000;
    const again = await engine.append(input('meeting:started', meetingStarted('fp'), clock, id));
    assert.equal(again.status, 'duplicate');
    assert.equal(await engine.seen(id), true);
    // No key carries the id itself: one compact marker per webhook.
    assert.deepEqual(await raw.keys(`${keyPrefix}*${id}*`), []);
    clock += 60_000; // past the window (and its last slice)
    assert.equal(await engine.seen(id), false);
  });

  test("a room's keys expire soon after its meeting ends", async (t) => {
    const { engine, keys } = memoryEngine(t, { endedRoomTtl: 5000 });
    await engine.append(input('meeting:started', meetingStarted('ends'), Date.now()));
    const meta = keys.room('ends').meta;
    assert.ok((await raw.pttl(meta)) > 60_000, 'a running meeting keeps the idle TTL');
    await engine.append(input('meeting:ended', meetingEnded('ends'), Date.now()));
    const ttl = await raw.pttl(meta);
    assert.ok(ttl > 0 && ttl <= 5000, `ended: ${ttl} ms left`);
  });

  test('the room index is bounded and expires', async (t) => {
    const { engine, keys } = memoryEngine(t, { maxIndexedRooms: 3 });
    for (let i = 0; i < 5; i++) {
      await engine.append(input('meeting:started', meetingStarted(`ix-${i}`), Date.now()));
      await new Promise((resolve) => setTimeout(resolve, 3)); // distinct activity times
    }
    const { rooms: listed } = await engine.listRooms({ limit: 10 });
    const index = keys.rooms;
    assert.equal(await raw.zcard(index), 3);
    assert.deepEqual(
      listed.map((room) => room.roomId).sort(),
      ['ix-2', 'ix-3', 'ix-4'],
      'the most recently active stay',
    );
    assert.ok((await raw.pttl(index)) > 0, 'the index key has a TTL');
  });
}
