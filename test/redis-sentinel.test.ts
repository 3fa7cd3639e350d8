/**
 * The Redis engine through real sentinels (redis+sentinel://host:port,host:port/<master>): a
 * master, its replica and two sentinels; a SENTINEL FAILOVER in the middle of the traffic is
 * survived: every acknowledged webhook is in the room's log after it, a webhook refused while
 * the master moves is accepted on retry (as Huddle01 retries), and a subscriber on another node
 * sees every entry once, in order.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AppendInput, LogEntry } from '../server/src/engine/engine.ts';
import { createRedisEngine } from '../server/src/engine/redis-engine.ts';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { redisTestsCanRun } from './helpers/redis-server.ts';
import { startRedisSentinels } from './helpers/redis-topologies.ts';
import type { RedisSentinels } from './helpers/redis-topologies.ts';
import { webhookId } from './helpers/server.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function input(event: AppendInput['event'], payload: unknown): AppendInput {
  return { webhookId: webhookId(), event, payload: payload as never, receivedAt: Date.now() };
}

if (!redisTestsCanRun()) {
  test(
    'redis sentinel (skipped: no redis-server, see the warning above)',
    { skip: true },
    () => {},
  );
} else {
  let setup: RedisSentinels;
  before(async () => {
    setup = await startRedisSentinels({ sentinels: 2 });
  });
  after(() => setup.close());

  test(
    'a failover is survived: no acknowledged webhook lost, one order for subscribers',
    { timeout: 60_000 },
    async (t) => {
      const keyPrefix = `rc-sentinel-${process.pid}:`;
      // One replica confirms each append: what the old master takes after the promotion is
      // never acknowledged (503, retried onto the new master).
      const writer = createRedisEngine({ url: setup.url, keyPrefix, replicaAcks: 1 });
      const reader = createRedisEngine({ url: setup.url, keyPrefix });
      t.after(() => Promise.all([writer.close(), reader.close()]));
      await writer.ping();
      const room = 'sentinel-room';
      const seen: LogEntry[] = [];
      await reader.subscribe(room, (entry) => seen.push(entry));

      const acknowledged: string[] = [];
      /** Appends like Huddle01 delivers: a refused (5xx) webhook is sent again until it lands. */
      async function deliver(payload: AppendInput): Promise<void> {
        for (let attempt = 0; attempt < 200; attempt++) {
          try {
            const result = await writer.append(payload);
            assert.ok(result.status === 'appended' || result.status === 'duplicate');
            acknowledged.push(payload.webhookId);
            return;
          } catch {
            await sleep(50);
          }
        }
        throw new Error('never accepted');
      }

      await deliver(input('meeting:started', meetingStarted(room)));
      for (let i = 0; i < 20; i++)
        await deliver(input('peer:joined', peerJoined(room, `before-${i}`)));
      const before = await setup.masterPort();
      const moving = setup.failover();
      // Traffic goes on while the master moves.
      for (let i = 0; i < 40; i++) {
        await deliver(input('peer:joined', peerJoined(room, `during-${i}`)));
        await sleep(20);
      }
      await moving;
      for (let i = 0; i < 10; i++)
        await deliver(input('peer:joined', peerJoined(room, `after-${i}`)));
      assert.notEqual(await setup.masterPort(), before, 'the master moved');

      // Every acknowledged webhook is in the log (read from the new master).
      const snapshot = await writer.snapshot(room);
      const history = await writer.read(room, { epoch: snapshot.epoch, seq: 0 });
      assert.ok(history.recovered, 'the whole log is in history');
      if (!history.recovered) return;
      const logged = new Set(history.entries.map((entry) => entry.id));
      for (const id of acknowledged) assert.ok(logged.has(id), `acknowledged ${id} is in the log`);
      assert.equal(Object.keys(snapshot.state.peers).length, 70);

      // The subscriber saw every entry once, in order (it may have resynced to a new epoch).
      const deadline = Date.now() + 10_000;
      while (seen.at(-1)?.seq !== snapshot.seq && Date.now() < deadline) await sleep(20);
      const inEpoch = seen.filter((entry) => entry.epoch === snapshot.epoch).map((e) => e.seq);
      assert.equal(inEpoch.at(-1), snapshot.seq);
      for (let i = 1; i < inEpoch.length; i++) assert.equal(inEpoch[i], inEpoch[i - 1]! + 1);
    },
  );
}
