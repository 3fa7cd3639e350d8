/**
 * GET /ws through real sockets: snapshot → live, resume, many rooms, bad frames, limits,
 * slow consumers, and gap-free delivery while webhooks race with subscribes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, eventSeqs } from './helpers/ws-client.ts';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { postWebhook, startServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';

describe('websocket channels', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ historySize: 20, maxSubscriptions: 5 });
  });
  after(() => server.close());

  test('subscribe: snapshot, subscribed, then live events in order', async (t) => {
    await postWebhook(server, 'meeting:started', meetingStarted('w-live'));
    const client = await connect(server.wsUrl);
    t.after(() => client.close());
    client.send({ type: 'subscribe', room: 'w-live' });
    await client.subscribed('w-live');
    const [snapshot, subscribed] = client.frames;
    assert.equal(snapshot?.type, 'snapshot');
    assert.equal(snapshot?.seq, 1);
    assert.equal(snapshot?.recovered, false);
    assert.equal((snapshot?.state as { meeting: { active: boolean } }).meeting.active, true);
    assert.deepEqual(
      { ...subscribed },
      { type: 'subscribed', room: 'w-live', epoch: snapshot?.epoch, seq: 1, recovered: false },
    );
    await postWebhook(server, 'peer:joined', peerJoined('w-live', 'p1'));
    await postWebhook(server, 'peer:joined', peerJoined('w-live', 'p2'));
    await client.until((f) => eventSeqs(f, 'w-live').length === 2);
    const events = client.of('w-live', 'event');
    assert.deepEqual(
      events.map((e) => e.seq),
      [2, 3],
    );
    assert.equal(events[0]?.event, 'peer:joined');
    assert.equal((events[0]?.payload as { id: string }).id, 'p1');
    assert.equal(typeof events[0]?.id, 'string');
    client.close();
  });

  test('resume inside history: exactly the missed events, recovered', async (t) => {
    const first = await connect(server.wsUrl);
    t.after(() => first.close());
    first.send({ type: 'subscribe', room: 'w-resume' });
    await first.subscribed('w-resume');
    await postWebhook(server, 'peer:joined', peerJoined('w-resume', 'a'));
    await first.until((f) => eventSeqs(f, 'w-resume').length === 1);
    const last = first.of('w-resume', 'event').at(-1)!;
    first.close();
    for (const peer of ['b', 'c', 'd'])
      await postWebhook(server, 'peer:joined', peerJoined('w-resume', peer));

    const second = await connect(server.wsUrl);
    t.after(() => second.close());
    second.send({ type: 'subscribe', room: 'w-resume', since: `${last.epoch}:${last.seq}` });
    await second.subscribed('w-resume');
    await postWebhook(server, 'peer:joined', peerJoined('w-resume', 'e'));
    await second.until((f) => eventSeqs(f, 'w-resume').length === 4);
    assert.equal(second.of('w-resume', 'snapshot').length, 0);
    assert.deepEqual(eventSeqs(second.frames, 'w-resume'), [2, 3, 4, 5]);
    const subscribed = second.of('w-resume', 'subscribed')[0]!;
    assert.equal(subscribed.recovered, true);
    assert.equal(subscribed.seq, 4);
    second.close();
  });

  test('resume outside history or with a foreign epoch: snapshot, not recovered', async (t) => {
    for (let i = 0; i < 25; i++)
      await postWebhook(server, 'peer:joined', peerJoined('w-trim', `p${i}`));
    const probe = await connect(server.wsUrl);
    t.after(() => probe.close());
    probe.send({ type: 'subscribe', room: 'w-trim' });
    const [snapshot] = await probe.subscribed('w-trim');
    probe.close();
    for (const since of [`${snapshot!.epoch}:1`, `someOtherEpoch:24`]) {
      const client = await connect(server.wsUrl);
      t.after(() => client.close());
      client.send({ type: 'subscribe', room: 'w-trim', since });
      await client.subscribed('w-trim');
      assert.equal(client.frames[0]?.type, 'snapshot', since);
      assert.equal(client.frames[0]?.seq, 25);
      assert.equal(client.of('w-trim', 'subscribed')[0]?.recovered, false);
      assert.equal(Object.keys((client.frames[0]?.state as { peers: object }).peers).length, 25);
      client.close();
    }
  });

  test('many rooms on one connection; unsubscribe stops a room', async (t) => {
    const client = await connect(server.wsUrl);
    t.after(() => client.close());
    const rooms = ['m1', 'm2', 'm3'];
    for (const room of rooms) client.send({ type: 'subscribe', room });
    for (const room of rooms) await client.subscribed(room);
    for (const room of rooms) await postWebhook(server, 'peer:joined', peerJoined(room, 'x'));
    await client.until((f) => rooms.every((room) => eventSeqs(f, room).length === 1));
    client.send({ type: 'unsubscribe', room: 'm2' });
    // Frames are handled in order: the answer to a later subscribe proves the unsubscribe done.
    client.send({ type: 'subscribe', room: 'm-probe' });
    await client.subscribed('m-probe');
    for (const room of rooms) await postWebhook(server, 'peer:joined', peerJoined(room, 'y'));
    // m3's event, appended after m2's, is the probe: an m2 event would have come before it.
    await client.until((f) => eventSeqs(f, 'm1').length === 2 && eventSeqs(f, 'm3').length === 2);
    assert.deepEqual(eventSeqs(client.frames, 'm2'), [1]);
    client.close();
  });

  test('invalid frames get error frames with codes; the connection carries on', async (t) => {
    const client = await connect(server.wsUrl);
    t.after(() => client.close());
    client.send('not json');
    client.send({ type: 'dance' });
    client.send({ type: 'subscribe', room: '' });
    client.send({ type: 'subscribe', room: 'ok-room', since: 'garbage' });
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await client.until((f) => f.filter((x) => x.type === 'error').length === 5);
    assert.deepEqual(
      client.frames.filter((f) => f.type === 'error').map((f) => f.code),
      ['INVALID_FRAME', 'INVALID_FRAME', 'INVALID_ROOM', 'INVALID_ROOM', 'INVALID_FRAME'],
    );
    client.send({ type: 'subscribe', room: 'still-works' });
    await client.subscribed('still-works');
    client.close();
  });

  test('repeated abuse closes with 1008', async (t) => {
    const client = await connect(server.wsUrl);
    t.after(() => client.close());
    for (let i = 0; i < 12; i++) client.send('{');
    assert.equal(await client.closed, 1008);
  });

  test('frames over 4 KiB are refused by closing (1009)', async (t) => {
    const client = await connect(server.wsUrl);
    t.after(() => client.close());
    client.send({ type: 'subscribe', room: 'x'.repeat(5000) });
    assert.equal(await client.closed, 1009);
  });

  test('at most maxSubscriptions rooms per connection', async (t) => {
    const client = await connect(server.wsUrl);
    t.after(() => client.close());
    for (let i = 0; i < 6; i++) client.send({ type: 'subscribe', room: `lim-${i}` });
    await client.until((f) => f.some((x) => x.type === 'error'));
    const error = client.frames.find((f) => f.type === 'error')!;
    assert.equal(error.code, 'TOO_MANY_SUBSCRIPTIONS');
    assert.equal(error.room, 'lim-5');
    client.close();
  });

  test('1,000 concurrent webhooks while subscribers join: consecutive seqs, no duplicate', async (t) => {
    const room = 'w-race';
    const subscribers = await Promise.all(Array.from({ length: 10 }, () => connect(server.wsUrl)));
    t.after(() => {
      for (const client of subscribers) client.close();
    });
    const posts: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      posts.push(postWebhook(server, 'peer:joined', peerJoined(room, `p${i}`)));
      // Subscribers join while the burst is in flight.
      if (i % 100 === 0) subscribers[i / 100]!.send({ type: 'subscribe', room });
    }
    const answers = (await Promise.all(posts)) as Array<{ status: number }>;
    assert.ok(answers.every((a) => a.status === 200));
    for (const client of subscribers) {
      await client.until((frames) => {
        const start = frames.find((f) => f.type === 'snapshot' || f.type === 'subscribed');
        const seqs = eventSeqs(frames, room);
        const last = seqs.at(-1) ?? (frames.find((f) => f.type === 'snapshot')?.seq as number);
        return start !== undefined && last === 1000;
      }, 15_000);
      const snapshot = client.frames.find((f) => f.type === 'snapshot')!;
      const seqs = eventSeqs(client.frames, room);
      const expected = Array.from(
        { length: 1000 - (snapshot.seq as number) },
        (_, i) => (snapshot.seq as number) + 1 + i,
      );
      assert.deepEqual(seqs, expected);
      client.close();
    }
  });
});

describe('slow consumers', () => {
  test('a subscriber that stops reading is closed with 4008; others keep receiving', async (t) => {
    const server = await startServer({ maxBufferedBytes: '64KiB' });
    try {
      const slow = await connect(server.wsUrl);
      t.after(() => slow.close());
      const fast = await connect(server.wsUrl);
      t.after(() => fast.close());
      for (const client of [slow, fast]) client.send({ type: 'subscribe', room: 'slow' });
      await slow.subscribed('slow');
      await fast.subscribed('slow');
      // Stop reading: the kernel buffers fill, then the server's queue grows.
      (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      // 20 MB in all: more than the loopback socket buffers can hide.
      const metadata = 'm'.repeat(100_000);
      for (let i = 0; i < 200; i++) {
        await postWebhook(
          server,
          'peer:joined',
          peerJoined('slow', `p${i}`, 1_790_000_000_000 + i, undefined, { metadata }),
        );
      }
      await fast.until((f) => eventSeqs(f, 'slow').length === 200, 15_000);
      assert.deepEqual(
        eventSeqs(fast.frames, 'slow'),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
      assert.equal(await slow.closed, 4008);
      const got = eventSeqs(slow.frames, 'slow');
      assert.ok(got.length < 200, `slow consumer got all ${got.length}`);
      assert.deepEqual(
        got,
        Array.from({ length: got.length }, (_, i) => i + 1),
      );
    } finally {
      await server.close();
    }
  });
});
