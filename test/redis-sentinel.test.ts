/**
 * The Redis engine through real sentinels (redis+sentinel://host:port,host:port/<master>): a
 * master, its replica and two sentinels; a SENTINEL FAILOVER in the middle of the traffic is
 * survived: every acknowledged webhook is in the room's log after it, a webhook refused while
 * the master moves is accepted on retry (as Huddle01 retries), and a subscriber on another node
 * sees every entry once, in order.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { redisTestsCanRun } from './helpers/redis-server.ts';
import { startFailoverRun } from './helpers/failover-run.ts';
import { startRedisSentinels } from './helpers/redis-topologies.ts';
import type { RedisSentinels } from './helpers/redis-topologies.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
      const room = 'sentinel-room';
      // One replica confirms each append: what the old master takes after the promotion is
      // never acknowledged (503, retried onto the new master).
      const run = await startFailoverRun(t, {
        url: setup.url,
        keyPrefix,
        room,
        writer: { replicaAcks: 1 },
        attempts: 200,
      });
      const { deliver } = run;
      await run.writer.ping();

      await deliver('meeting:started', meetingStarted(room));
      for (let i = 0; i < 20; i++) await deliver('peer:joined', peerJoined(room, `before-${i}`));
      const before = await setup.masterPort();
      const moving = setup.failover();
      // Traffic goes on while the master moves.
      for (let i = 0; i < 40; i++) {
        await deliver('peer:joined', peerJoined(room, `during-${i}`));
        await sleep(20);
      }
      await moving;
      for (let i = 0; i < 10; i++) await deliver('peer:joined', peerJoined(room, `after-${i}`));
      assert.notEqual(await setup.masterPort(), before, 'the master moved');

      // Every acknowledged webhook is in the log (read from the new master).
      const snapshot = await run.everyAcknowledgedLogged();
      assert.equal(Object.keys(snapshot.state.peers).length, 70);

      // The subscriber saw every entry once, in order (it may have resynced to a new epoch).
      await run.readerReached(snapshot.seq, 10_000);
      const inEpoch = run.seen.filter((entry) => entry.epoch === snapshot.epoch).map((e) => e.seq);
      assert.equal(inEpoch.at(-1), snapshot.seq);
      for (let i = 1; i < inEpoch.length; i++) assert.equal(inEpoch[i], inEpoch[i - 1]! + 1);
    },
  );
}
