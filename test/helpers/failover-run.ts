/**
 * Failover tests on Redis (Cluster, Sentinel): a writer engine and a reader engine on one room,
 * appends retried the way Huddle01 retries a refused webhook, and the checks that follow a
 * failover: every acknowledged webhook is in the room's log, and the reader saw every entry.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { AppendInput, LogEntry, RoomSnapshot } from '../../server/src/engine/engine.ts';
import { createRedisEngine } from '../../server/src/engine/redis-engine.ts';
import type { RedisEngineOptions } from '../../server/src/engine/redis-engine.ts';
import { webhookId } from './server.ts';

/** Options of startFailoverRun. */
export interface FailoverRunOptions {
  /** The deployment's REDIS_URL. */
  url: string;
  keyPrefix: string;
  room: string;
  /** Options of the writer only (e.g. `replicaAcks`). */
  writer?: Partial<RedisEngineOptions>;
  /** Tries of one append before the test fails. Default 300 (15 s at 50 ms). */
  attempts?: number;
}

/** A running failover test. */
export interface FailoverRun {
  writer: ReturnType<typeof createRedisEngine>;
  reader: ReturnType<typeof createRedisEngine>;
  /** Entries the reader's subscription received, in order. */
  seen: LogEntry[];
  /** Ids of the webhooks the writer acknowledged. */
  acknowledged: string[];
  /** Appends one event to the room, retrying a refusal (a 5xx) until it lands. */
  deliver(event: AppendInput['event'], payload: unknown): Promise<void>;
  /** Asserts that every acknowledged webhook is in the room's log; returns the snapshot. */
  everyAcknowledgedLogged(): Promise<RoomSnapshot>;
  /** Waits (at most `timeoutMs`) until the reader has received the entry `seq`. */
  readerReached(seq: number, timeoutMs: number): Promise<void>;
}

/** Opens the writer and the reader (closed after the test) and subscribes the reader. */
export async function startFailoverRun(
  t: TestContext,
  { url, keyPrefix, room, writer: writerOptions = {}, attempts = 300 }: FailoverRunOptions,
): Promise<FailoverRun> {
  const writer = createRedisEngine({ url, keyPrefix, ...writerOptions });
  const reader = createRedisEngine({ url, keyPrefix });
  t.after(() => Promise.all([writer.close(), reader.close()]));
  const seen: LogEntry[] = [];
  await reader.subscribe(room, (entry) => seen.push(entry));
  const acknowledged: string[] = [];
  return {
    writer,
    reader,
    seen,
    acknowledged,
    async deliver(event, payload) {
      const one: AppendInput = {
        webhookId: webhookId(),
        event,
        payload: payload as never,
        receivedAt: Date.now(),
      };
      for (let attempt = 0; attempt < attempts; attempt++) {
        try {
          const result = await writer.append(one);
          assert.ok(result.status === 'appended' || result.status === 'duplicate');
          acknowledged.push(one.webhookId);
          return;
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      throw new Error(`never accepted after ${attempts} tries`);
    },
    async everyAcknowledgedLogged() {
      const snapshot = await writer.snapshot(room);
      const history = await writer.read(room, { epoch: snapshot.epoch, seq: 0 });
      assert.ok(history.recovered, 'the whole log is in history');
      const logged = new Set(history.entries.map((entry) => entry.id));
      for (const id of acknowledged) assert.ok(logged.has(id), `acknowledged ${id} is in the log`);
      return snapshot;
    },
    async readerReached(seq, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (seen.at(-1)?.seq !== seq && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
