/**
 * The Redis engine's state without the state on the append path: a checkpoint hash that the
 * stream's tail completes, moved by the fields the events touched. Against a real redis-server:
 * what any node reads back is the reducer's fold of the log, however the nodes interleave, and
 * a webhook's bytes into Redis do not grow with the room.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { emptyRoomState, reduceRoom } from '../shared/src/index.ts';
import type { RoomEvent } from '../shared/src/index.ts';
import type { AppendInput, Engine } from '../server/src/engine/engine.ts';
import { createRedisEngine } from '../server/src/engine/redis-engine.ts';
import type { RedisEngineOptions } from '../server/src/engine/redis-engine.ts';
import { meetingEnded, meetingStarted, peerJoined, peerLeft, track } from './helpers/payloads.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import { appendInput } from './helpers/server.ts';

const server = await startRedisServer();
let prefixes = 0;
const freshPrefix = () => `rc-state-${process.pid}-${++prefixes}:`;

function input(event: AppendInput['event'], payload: unknown): AppendInput {
  return appendInput(event, payload, { receivedAt: 1 });
}

/** Appends `inputs` round-robin over `engines` (`together` at a time); returns them by seq. */
async function appendAll(
  engines: Engine[],
  inputs: AppendInput[],
  together: number,
): Promise<AppendInput[]> {
  const bySeq: AppendInput[] = [];
  for (let i = 0; i < inputs.length; i += together) {
    const batch = inputs.slice(i, i + together);
    const results = await Promise.all(
      batch.map((item, j) => engines[(i + j) % engines.length]!.append(item)),
    );
    results.forEach((result, j) => {
      if (result.status === 'appended') bySeq[result.seq - 1] = batch[j]!;
    });
  }
  return bySeq;
}

/** A presence grace that ends inside the generated timelines (reconnecting peers come and go). */
const GRACE = 20;

function foldInputs(roomId: string, inputs: AppendInput[]) {
  return inputs.reduce(
    (state, item) =>
      reduceRoom(state, { event: item.event, payload: item.payload } as RoomEvent, item.receivedAt),
    emptyRoomState(roomId, { presenceGrace: GRACE }),
  );
}

if (!server) {
  test('redis state (skipped: no redis-server)', { skip: true }, () => {});
} else {
  const redisServer = server;
  after(() => redisServer.close());
  const make = (options: RedisEngineOptions) =>
    createRedisEngine({ url: redisServer.url, presenceGrace: GRACE, ...options });

  describe('redis engine: state as checkpoint + tail', () => {
    test('any interleaving of two writers: a cold node reads the fold of the log', async () => {
      const ids = ['a', 'b', 'c', '__proto__', 'constructor'];
      const step = fc.oneof(
        fc.record({
          kind: fc.constant('join' as const),
          id: fc.constantFrom(...ids),
          t: fc.nat(50),
        }),
        fc.record({
          kind: fc.constant('left' as const),
          id: fc.constantFrom(...ids),
          t: fc.nat(50),
        }),
        fc.record({
          kind: fc.constant('synthLeft' as const),
          id: fc.constantFrom(...ids),
          t: fc.nat(50),
        }),
        fc.record({
          kind: fc.constant('track' as const),
          id: fc.constantFrom(...ids),
          t: fc.nat(1),
        }),
        fc.record({ kind: fc.constant('end' as const), id: fc.constant(''), t: fc.nat(2) }),
      );
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(step, { minLength: 1, maxLength: 30 }),
          fc.integer({ min: 1, max: 3 }),
          async (steps, together) => {
            const room = `prop-${++run}`;
            const keyPrefix = freshPrefix();
            // historySize 8: a checkpoint every 2 events, so most reads fold a short tail.
            const nodes = [
              make({ keyPrefix, historySize: 8 }),
              make({ keyPrefix, historySize: 8 }),
            ];
            const cold = make({ keyPrefix, historySize: 8 });
            try {
              const inputs = [input('meeting:started', meetingStarted(room))];
              let session = 0;
              const joinedAt = new Map<string, number>();
              for (const s of steps) {
                const sid = `s-${room}-${session}`;
                const at = 1_790_000_001_000 + s.t * 100 + session * 1_000_000;
                if (s.kind === 'join')
                  inputs.push(input('peer:joined', peerJoined(room, s.id, at, sid)));
                if (s.kind === 'left')
                  inputs.push(input('peer:left', peerLeft(room, s.id, at, sid)));
                if (s.kind === 'synthLeft') {
                  inputs.push(
                    input('peer:left', { ...peerLeft(room, s.id, at, sid), source: 'reconcile' }),
                  );
                }
                // Only for a peer indexed in an earlier batch: an earlier track would be held
                // (the contract suite covers that), a concurrent one might be.
                if (s.kind === 'join') joinedAt.set(s.id, inputs.length);
                if (s.kind === 'track' && inputs.length - (joinedAt.get(s.id) ?? Infinity) >= 3)
                  inputs.push(input('peer:trackPublished', { ...track(s.id), id: s.id }));
                if (s.kind === 'end') {
                  inputs.push(
                    input('meeting:ended', { ...meetingEnded(room, sid), endedAt: at + 99 }),
                  );
                  session += s.t; // sometimes the next events are of a new session
                }
              }
              const appended = await appendAll(nodes, inputs, together);
              const expected = foldInputs(room, appended.filter(Boolean));
              for (const node of [...nodes, cold]) {
                const snapshot = await node.snapshot(room);
                assert.equal(snapshot.seq, appended.length);
                assert.deepEqual(snapshot.state, expected);
              }
            } finally {
              await Promise.all([...nodes, cold].map((node) => node.close()));
            }
          },
        ),
        { numRuns: 25 },
      );
    });

    test('one hot room on two nodes, concurrently: one gap-free order, and bytes into Redis per webhook do not carry the room', async () => {
      const keyPrefix = freshPrefix();
      const nodes = [make({ keyPrefix }), make({ keyPrefix })];
      const raw = new Redis(redisServer.url);
      try {
        const room = 'hot';
        const setup = [input('meeting:started', meetingStarted(room))];
        for (let i = 0; i < 500; i++) setup.push(input('peer:joined', peerJoined(room, `p${i}`)));
        await appendAll(nodes, setup, 50);
        const inputBytes = async () =>
          Number(/total_net_input_bytes:(\d+)/.exec(await raw.info('stats'))?.[1]);
        const before = await inputBytes();
        const transient: AppendInput[] = [];
        for (let i = 0; i < 64; i++) {
          transient.push(input('peer:joined', peerJoined(room, `t${i}`, 1_790_000_002_000 + i)));
          transient.push(input('peer:left', peerLeft(room, `t${i}`, 1_790_000_003_000 + i)));
        }
        const bySeq = await appendAll(nodes, transient, 16);
        const perWebhook = ((await inputBytes()) - before) / transient.length;
        // A 500-peer state is over 60 KB of JSON; a webhook's share stays near its own body.
        assert.ok(perWebhook < 2048, `${perWebhook} B into Redis per webhook`);
        assert.equal(bySeq.filter(Boolean).length, transient.length);
        const [a, b] = await Promise.all(nodes.map((node) => node.snapshot(room)));
        assert.equal(a!.seq, 501 + transient.length);
        assert.deepEqual(a, b);
        assert.equal(Object.keys(a!.state.peers).length, 500);
      } finally {
        raw.disconnect();
        await Promise.all(nodes.map((node) => node.close()));
      }
    });
  });
}
