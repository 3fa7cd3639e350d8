/**
 * The Redis engine against a real redis-server: the shared contract suite, then what only
 * several nodes and a real Redis can show (one order across nodes, dedup across nodes, a Redis
 * restart, a missed pub/sub message).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { AppendInput, LogEntry } from '../server/src/engine/engine.ts';
import { createRedisEngine } from '../server/src/engine/redis-engine.ts';
import type { RedisEngineOptions } from '../server/src/engine/redis-engine.ts';
import { encodeBody } from '../server/src/engine/redis/codec.ts';
import { createKeyLayout } from '../server/src/engine/redis/keys.ts';
import { defineScripts } from '../server/src/engine/redis/scripts.ts';
import { engineContract } from './engine-contract.ts';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import { appendInput, webhookId } from './helpers/server.ts';

const server = await startRedisServer();

let prefixes = 0;
/** A fresh key prefix per engine group, so tests share one Redis without seeing each other. */
const freshPrefix = () => `rc-test-${process.pid}-${++prefixes}:`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

function input(event: AppendInput['event'], payload: unknown, id = webhookId()): AppendInput {
  return appendInput(event, payload, { webhookId: id });
}

if (!server) {
  test('redis engine (skipped: no redis-server, see the warning above)', { skip: true }, () => {});
} else {
  const redisServer = server;
  after(() => redisServer.close());
  const make = (options: RedisEngineOptions = {}) =>
    createRedisEngine({ url: redisServer.url, keyPrefix: freshPrefix(), ...options });

  engineContract('redis', async (options) => make(options));

  describe('redis engine: several nodes', () => {
    test('two nodes appending to one room get one gap-free order, delivered in it on both', async () => {
      const keyPrefix = freshPrefix();
      const a = make({ keyPrefix });
      const b = make({ keyPrefix });
      try {
        const seenA: LogEntry[] = [];
        const seenB: LogEntry[] = [];
        const stopA = await a.subscribe('two', (entry) => seenA.push(entry));
        const stopB = await b.subscribe('two', (entry) => seenB.push(entry));
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            (i % 2 ? a : b).append(input('peer:joined', peerJoined('two', `p${i}`))),
          ),
        );
        const seqs = results.map((r) => (r.status === 'appended' ? r.seq : -1));
        assert.deepEqual(
          [...seqs].sort((x, y) => x - y),
          Array.from({ length: 100 }, (_, i) => i + 1),
        );
        await until(() => seenA.length === 100 && seenB.length === 100);
        assert.deepEqual(
          seenA.map((e) => e.seq),
          Array.from({ length: 100 }, (_, i) => i + 1),
        );
        assert.deepEqual(
          seenB.map((e) => e.id),
          seenA.map((e) => e.id),
        );
        const snapshot = await a.snapshot('two');
        assert.equal(snapshot.seq, 100);
        assert.equal(Object.keys(snapshot.state.peers).length, 100);
        await stopA();
        await stopB();
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test('a webhook appended on both nodes is accepted once', async () => {
      const keyPrefix = freshPrefix();
      const a = make({ keyPrefix });
      const b = make({ keyPrefix });
      try {
        const id = webhookId();
        const results = await Promise.all([
          a.append(input('meeting:started', meetingStarted('dup'), id)),
          b.append(input('meeting:started', meetingStarted('dup'), id)),
        ]);
        assert.deepEqual(results.map((r) => r.status).sort(), ['appended', 'duplicate']);
        assert.equal((await b.snapshot('dup')).seq, 1);
        assert.equal(await a.seen(id), true);
        assert.equal(await b.seen(id), true);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  describe('redis engine: connections', () => {
    test('a handed-in client is used and stays open after close()', async () => {
      const client = new Redis(redisServer.url);
      try {
        const engine = createRedisEngine({ client, keyPrefix: freshPrefix() });
        const result = await engine.append(input('meeting:started', meetingStarted('given')));
        assert.equal(result.status, 'appended');
        await engine.ping();
        await engine.close();
        assert.equal(client.status, 'ready');
        assert.equal(await client.ping(), 'PONG');
      } finally {
        client.disconnect();
      }
    });

    test('a missed pub/sub message is filled from the stream before the next one', async () => {
      const keyPrefix = freshPrefix();
      const engine = make({ keyPrefix });
      const raw = new Redis(redisServer.url);
      try {
        const seen: LogEntry[] = [];
        await engine.subscribe('gap', (entry) => seen.push(entry));
        await engine.append(input('meeting:started', meetingStarted('gap')));
        await until(() => seen.length === 1);
        // Append seq 2 the way the engine does, but publish it where nobody listens.
        const keys = createKeyLayout(keyPrefix);
        const scripts = defineScripts(raw);
        const head = await scripts.read(keys.room('gap'), { roomIdleTtl: 60_000 });
        const missed = input('peer:joined', peerJoined('gap', 'quiet'));
        const reply = await scripts.append(
          { ...keys.room('gap'), channel: `${keyPrefix}nowhere` },
          {
            mode: 'a',
            webhookId: missed.webhookId,
            knownEpoch: head!.epoch,
            knownSeq: head!.seq,
            newEpoch: 'unused',
            body: encodeBody(missed),
            candidate: true,
            synthesised: false,
            at: Date.now(),
            dedupWindow: 60_000,
            historySize: 1000,
            roomIdleTtl: 60_000,
            maxMissed: 16,
            trimBefore: 0,
          },
        );
        assert.equal(reply.kind, 'ok');
        await sleep(50);
        assert.equal(seen.length, 1, 'nothing is delivered out of order meanwhile');
        await engine.append(input('peer:joined', peerJoined('gap', 'loud')));
        await until(() => seen.length === 3);
        assert.deepEqual(
          seen.map((e) => e.seq),
          [1, 2, 3],
        );
        assert.equal(seen[1]?.id, missed.webhookId);
      } finally {
        raw.disconnect();
        await engine.close();
      }
    });

    test('after the pub/sub connection drops, what was published meanwhile is delivered', async () => {
      const engine = make();
      const raw = new Redis(redisServer.url);
      try {
        const seen: LogEntry[] = [];
        await engine.subscribe('drop', (entry) => seen.push(entry));
        await engine.append(input('meeting:started', meetingStarted('drop')));
        await until(() => seen.length === 1);
        await raw.client('KILL', 'TYPE', 'pubsub');
        // Published while the subscriber reconnects: no later message will reveal the gap.
        for (let i = 0; i < 3; i++) {
          await engine.append(input('peer:joined', peerJoined('drop', `p${i}`)));
        }
        await until(() => seen.length === 4);
        assert.deepEqual(
          seen.map((e) => e.seq),
          [1, 2, 3, 4],
        );
        // And it still listens.
        await engine.append(input('peer:joined', peerJoined('drop', 'after')));
        await until(() => seen.length === 5);
      } finally {
        raw.disconnect();
        await engine.close();
      }
    });

    test('Redis back from an older copy (seq behind what was delivered) gives the room a new epoch', async () => {
      const keyPrefix = freshPrefix();
      const engine = make({ keyPrefix });
      const raw = new Redis(redisServer.url);
      try {
        const seen: LogEntry[] = [];
        await engine.subscribe('back', (entry) => seen.push(entry));
        for (let i = 0; i < 5; i++) {
          await engine.append(input('peer:joined', peerJoined('back', `p${i}`)));
        }
        await until(() => seen.length === 5);
        const before = seen[0]!.epoch;
        // What a restore from an older snapshot looks like: the room is back at seq 3.
        const keys = createKeyLayout(keyPrefix).room('back');
        const kept = await raw.xrange(keys.log, '-', '3-0');
        await raw.del(keys.log);
        for (const [id, fields] of kept) await raw.xadd(keys.log, id, ...fields);
        await raw.hset(keys.meta, 'seq', 3);
        await raw.client('KILL', 'TYPE', 'pubsub');
        await until(() => seen.length === 6);
        assert.notEqual(seen[5]!.epoch, before);
        assert.equal(seen[5]!.seq, 3);
        assert.equal((await engine.snapshot('back')).epoch, seen[5]!.epoch);
        const next = await engine.append(input('peer:joined', peerJoined('back', 'late')));
        assert.equal(next.status === 'appended' && next.seq, 4);
        await until(() => seen.length === 7);
        assert.deepEqual([seen[6]!.epoch, seen[6]!.seq], [seen[5]!.epoch, 4]);
      } finally {
        raw.disconnect();
        await engine.close();
      }
    });

    // Last: it restarts the shared redis-server (empty afterwards).
    test('a Redis restart: appends and ping reject while it is down, then everything resumes', async () => {
      const engine = make({ commandTimeout: 1000 });
      try {
        const seen: LogEntry[] = [];
        await engine.subscribe('restart', (entry) => seen.push(entry));
        const acked: string[] = [];
        let failures = 0;
        let slowest = 0;
        let running = true;
        const loop = (async () => {
          for (let i = 0; running; i++) {
            const id = webhookId();
            const started = Date.now();
            try {
              const result = await engine.append(
                input('peer:joined', peerJoined('restart', `p${i}`), id),
              );
              if (result.status === 'appended') acked.push(id);
            } catch {
              failures++;
              slowest = Math.max(slowest, Date.now() - started);
            }
            await sleep(5);
          }
        })();
        await until(() => acked.length >= 20);
        await redisServer.stop();
        await assert.rejects(engine.ping());
        const refusedAt = Date.now();
        await assert.rejects(
          engine.append(input('meeting:started', meetingStarted('restart'))),
          /unavailable|closed|writeable/i,
        );
        assert.ok(Date.now() - refusedAt < 500, 'a refused append is quick');
        const ackedWhileUp = acked.length;
        // Three more appends refused (not a stretch of time) prove that the loop kept trying.
        const failedWhileDown = failures;
        await until(() => failures >= failedWhileDown + 3);
        assert.equal(acked.length, ackedWhileUp, 'nothing is acknowledged while Redis is down');
        await redisServer.start();
        await until(() => acked.length >= ackedWhileUp + 20, 15_000);
        running = false;
        await loop;
        await engine.ping();
        assert.ok(failures > 0);
        assert.ok(slowest < 1500, `refusals are quick (slowest ${slowest} ms)`);

        // Every acknowledged append reached the subscriber: nothing acknowledged-then-lost.
        await until(() => {
          const ids = new Set(seen.map((e) => e.id));
          return acked.every((id) => ids.has(id));
        }, 5000);
        // Two epochs (the restarted Redis is empty), each gap-free and in order.
        const epochs = [...new Set(seen.map((e) => e.epoch))];
        assert.equal(epochs.length, 2);
        for (const epoch of epochs) {
          const seqs = seen.filter((e) => e.epoch === epoch).map((e) => e.seq);
          assert.deepEqual(
            seqs,
            Array.from({ length: seqs.length }, (_, i) => i + 1),
          );
        }
        assert.equal((await engine.snapshot('restart')).epoch, epochs[1]);
      } finally {
        await engine.close();
      }
    });
  });
}
