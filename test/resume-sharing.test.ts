/**
 * One resume read per room position: subscribers that resume a room from the same `<epoch>:<seq>`
 * at once (a restarted node's subscribers arriving on this one) share one engine read, and each
 * still gets exactly the missed events, in order, then `subscribed` with `recovered: true`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Position } from '@roomcast/shared';
import { createMemoryEngine } from '../server/src/engine/memory-engine.ts';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { appendInput, startServer } from './helpers/server.ts';
import { connect, eventSeqs } from './helpers/ws-client.ts';
import type { TestSocket } from './helpers/ws-client.ts';

const SUBSCRIBERS = 60;

test(`${SUBSCRIBERS} subscribers resuming one room from two positions at once: two engine reads, exact replays`, async (t) => {
  const engine = createMemoryEngine();
  const reads: string[] = [];
  const counted = {
    ...engine,
    read: (roomId: string, since: Position) => (
      reads.push(`${roomId}@${since.seq}`),
      engine.read(roomId, since)
    ),
  };
  const server = await startServer({ connectRatePerIp: 1000 }, counted);
  const sockets: TestSocket[] = [];
  t.after(async () => {
    for (const socket of sockets) socket.close();
    await server.close();
    await engine.close();
  });
  const append = (event: 'meeting:started' | 'peer:joined', payload: unknown) =>
    engine.append(appendInput(event, payload));
  await append('meeting:started', meetingStarted('room'));
  for (let i = 0; i < 10; i++) await append('peer:joined', peerJoined('room', `p${i}`));
  const { epoch } = await engine.snapshot('room');

  for (let i = 0; i < SUBSCRIBERS; i++) sockets.push(await connect(server.wsUrl));
  // Half resume after seq 3, half after seq 7, all in one burst.
  const sinceOf = (i: number) => (i % 2 === 0 ? 3 : 7);
  sockets.forEach((socket, i) =>
    socket.send({ type: 'subscribe', room: 'room', since: `${epoch}:${sinceOf(i)}` }),
  );
  await Promise.all(sockets.map((socket) => socket.subscribed('room')));
  assert.deepEqual(reads.sort(), ['room@3', 'room@7']);
  sockets.forEach((socket, i) => {
    const from = sinceOf(i);
    assert.deepEqual(
      eventSeqs(socket.frames, 'room'),
      Array.from({ length: 11 - from }, (_, k) => from + 1 + k),
    );
    const [subscribed] = socket.of('room', 'subscribed');
    assert.equal(subscribed?.recovered, true);
    assert.equal(subscribed?.seq, 11);
    assert.equal(socket.of('room', 'snapshot').length, 0);
  });

  // The room moves on: the next resume from seq 3 reads again (and gets the new event too).
  await append('peer:joined', peerJoined('room', 'late'));
  await Promise.all(
    sockets.map((socket) => socket.until((frames) => frames.some((f) => f.seq === 12))),
  );
  const late = await connect(server.wsUrl);
  sockets.push(late);
  late.send({ type: 'subscribe', room: 'room', since: `${epoch}:3` });
  await late.subscribed('room');
  assert.equal(reads.length, 3);
  assert.deepEqual(eventSeqs(late.frames, 'room'), [4, 5, 6, 7, 8, 9, 10, 11, 12]);
});
