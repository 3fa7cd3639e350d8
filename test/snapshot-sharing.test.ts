/**
 * One snapshot per room position: subscribers that need a room's snapshot at once share one
 * engine read and one serialized frame (counted by roomcast_snapshots_serialized_total).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryEngine } from '../server/src/engine/memory-engine.ts';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { parseMetrics, sample } from './helpers/metrics.ts';
import { appendInput, startServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { connect } from './helpers/ws-client.ts';
import type { TestSocket } from './helpers/ws-client.ts';

const PEERS = 1000;
const SUBSCRIBERS = 100;

async function serialized(server: TestServer): Promise<number> {
  const text = await (await server.get('/metrics')).text();
  return sample(parseMetrics(text), 'roomcast_snapshots_serialized_total');
}

test(`a ${PEERS}-peer room's snapshot sent to ${SUBSCRIBERS} subscribers joining at once is serialized once`, async (t) => {
  const engine = createMemoryEngine();
  let snapshotReads = 0;
  const counted = {
    ...engine,
    snapshot: (roomId: string) => (snapshotReads++, engine.snapshot(roomId)),
  };
  const server = await startServer({ connectRatePerIp: 1000 }, counted);
  t.after(() => server.close());
  const sockets: TestSocket[] = [];
  t.after(async () => {
    for (const socket of sockets) socket.close();
    await server.close();
    await engine.close();
  });
  const append = (event: 'meeting:started' | 'peer:joined', payload: unknown) =>
    engine.append(appendInput(event, payload));
  await append('meeting:started', meetingStarted('big'));
  for (let i = 0; i < PEERS; i++) await append('peer:joined', peerJoined('big', `p${i}`));

  for (let i = 0; i < SUBSCRIBERS; i++) sockets.push(await connect(server.wsUrl));
  const before = await serialized(server);
  // All subscribe in one burst, before any snapshot has been read.
  for (const socket of sockets) socket.send({ type: 'subscribe', room: 'big' });
  await Promise.all(sockets.map((socket) => socket.subscribed('big')));

  for (const socket of sockets) {
    const [snapshot] = socket.of('big', 'snapshot');
    assert.equal(snapshot?.seq, PEERS + 1);
    const state = snapshot?.state as { peers: Record<string, unknown> };
    assert.equal(Object.keys(state.peers).length, PEERS);
  }
  assert.equal((await serialized(server)) - before, 1);
  assert.equal(snapshotReads, 1);

  // The room moves on: the next subscriber gets a new snapshot, serialized once more.
  await append('peer:joined', peerJoined('big', 'late'));
  const late = await connect(server.wsUrl);
  t.after(() => late.close());
  sockets.push(late);
  late.send({ type: 'subscribe', room: 'big' });
  await late.subscribed('big');
  assert.equal(late.of('big', 'snapshot')[0]?.seq, PEERS + 2);
  assert.equal((await serialized(server)) - before, 2);
});
