/**
 * Reconcile end to end: the real app on a real socket with the in-memory engine, the SDK's API
 * class talking to a local fake of Huddle01's live API (HUDDLE01_API_URL), subscribers on real
 * WebSockets. Bootstrap after a restart, a missed peer:left healed, late real webhooks not
 * duplicated, backoff on failures, and the call budget with 500 active rooms.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createMemoryEngine } from '../server/src/engine/memory-engine.ts';
import { reduceRoom } from '../shared/src/index.ts';
import type { RoomEvent, RoomState } from '../shared/src/index.ts';
import type { RoomcastOptions } from '../server/src/config.ts';
import type { AppendInput, Engine, LogEntry } from '../server/src/engine/engine.ts';
import { startFakeHuddle01 } from './helpers/fake-huddle01.ts';
import type { FakeCall, FakeHuddle01 } from './helpers/fake-huddle01.ts';
import { parseMetrics, sample } from './helpers/metrics.ts';
import { meetingEnded, meetingStarted, peerJoined, peerLeft } from './helpers/payloads.ts';
import { postWebhook, startServer, TEST_KEY } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { connect, eventSeqs } from './helpers/ws-client.ts';
import type { Frame, TestSocket } from './helpers/ws-client.ts';

let fake: FakeHuddle01;
const servers: TestServer[] = [];
const sockets: TestSocket[] = [];
const engines: Engine[] = [];
let rooms = 0;
let seeds = 0;
/** A fresh Huddle01-looking room id per test. */
const freshRoom = () => `rc${process.pid % 1000}-${++rooms}-room`;

before(async () => {
  fake = await startFakeHuddle01([TEST_KEY]);
});
after(() => fake.close());
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
  fake.rooms.clear();
  fake.delayMs = 0;
  fake.listPeerCounts = false;
  fake.calls.length = 0; // each test counts its own calls
});

/**
 * A memory engine already holding these events: a room's state exists before the server (and
 * its reconcile passes) starts, so no pass can see it half-built.
 */
async function engineWith(events: [AppendInput['event'], unknown][]): Promise<Engine> {
  const engine = createMemoryEngine();
  engines.push(engine);
  for (const [event, payload] of events) {
    await engine.append({
      webhookId: `seed-${++seeds}`,
      event,
      payload: payload as never,
      receivedAt: Date.now(),
    });
  }
  return engine;
}

async function server(options: RoomcastOptions = {}, engine?: Engine): Promise<TestServer> {
  const started = await startServer(
    { reconcileInterval: '60s', huddle01ApiUrl: fake.url, ...options },
    engine,
  );
  servers.push(started);
  return started;
}

async function subscribe(target: TestServer, room: string): Promise<TestSocket> {
  const socket = await connect(target.wsUrl);
  sockets.push(socket);
  socket.send({ type: 'subscribe', room });
  await socket.subscribed(room);
  return socket;
}

/** The present peers as a subscriber holds them: its snapshot with its events applied. */
function peersSeen(socket: TestSocket, room: string): string[] {
  let state = socket.of(room, 'snapshot').at(-1)!.state as RoomState;
  for (const frame of socket.of(room, 'event')) {
    state = reduceRoom(state, { event: frame.event, payload: frame.payload } as RoomEvent);
  }
  return Object.keys(state.peers).sort();
}

const isEvent = (name: string, peerId?: string) => (frame: Frame) =>
  frame.type === 'event' &&
  frame.event === name &&
  (peerId === undefined || (frame.payload as { id?: string }).id === peerId);

async function metrics(target: TestServer) {
  return parseMetrics(await (await target.get('/metrics')).text());
}

describe('reconcile: bootstrap', () => {
  test('after a restart, the first snapshot is Huddle01’s live room, and late webhooks do not repeat it', async () => {
    const room = freshRoom();
    const startTime = Date.now() - 600_000;
    // Before the restart: the room as webhooks built it.
    const first = await server({ reconcileInterval: 'off' });
    await postWebhook(first, 'meeting:started', meetingStarted(room, 'sess-1', startTime));
    await postWebhook(first, 'peer:joined', peerJoined(room, 'peer-a', startTime + 1000, 'sess-1'));
    await first.close();
    servers.splice(0);

    // Meanwhile peer-b joined; Huddle01 lists both.
    fake.rooms.set(room, {
      live: { sessionId: 'sess-1', startTime },
      participants: [
        { peerId: 'peer-a', joinTime: startTime + 1000 },
        { peerId: 'peer-b', joinTime: startTime + 2000, metadata: { displayName: 'Bea' } },
      ],
    });
    const second = await server();
    const socket = await subscribe(second, room);
    const snapshot = socket.of(room, 'snapshot')[0]!;
    const state = snapshot.state as {
      meeting: { active: boolean; sessionId: string; startedAt: number };
      peers: Record<string, { source?: string; metadata?: unknown }>;
    };
    assert.equal(state.meeting.active, true);
    assert.equal(state.meeting.sessionId, 'sess-1');
    assert.equal(state.meeting.startedAt, startTime);
    assert.deepEqual(Object.keys(state.peers).sort(), ['peer-a', 'peer-b']);
    assert.equal(state.peers['peer-b']?.source, 'reconcile');
    assert.deepEqual(state.peers['peer-b']?.metadata, { displayName: 'Bea' });
    assert.equal(snapshot.seq, 3, 'meeting:started and two joins in the log');
    assert.deepEqual(
      fake.callsOf(room).map((call) => call.route),
      ['live_session', 'participants', 'sessions'],
    );

    // Huddle01's own webhooks for the same facts, late: acknowledged, not broadcast.
    const lateStart = await postWebhook(
      second,
      'meeting:started',
      meetingStarted(room, 'sess-1', startTime),
    );
    const lateJoin = await postWebhook(
      second,
      'peer:joined',
      peerJoined(room, 'peer-b', startTime + 2000, 'sess-1'),
    );
    for (const answer of [lateStart, lateJoin]) {
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { ok: true, duplicate: true, reconciled: true, roomId: room });
    }
    const news = await postWebhook(
      second,
      'peer:left',
      peerLeft(room, 'peer-a', Date.now(), 'sess-1'),
    );
    assert.equal(news.body.seq, 4);
    await socket.until((frames) => frames.some(isEvent('peer:left', 'peer-a')));
    assert.deepEqual(eventSeqs(socket.frames, room), [4]);
    const samples = await metrics(second);
    assert.equal(
      sample(samples, 'roomcast_reconcile_corrections_total', { kind: 'peer_joined' }),
      2,
    );
    assert.equal(
      sample(samples, 'roomcast_webhooks_total', { event: 'peer:joined', outcome: 'redundant' }),
      1,
    );
  });

  test('a slow API does not hold the first snapshot: it comes as it is, the seed follows as events', async (t) => {
    const room = freshRoom();
    const startTime = Date.now() - 600_000;
    fake.rooms.set(room, {
      live: { sessionId: 'slow-s', startTime },
      participants: [{ peerId: 'p1', joinTime: startTime + 1 }],
    });
    fake.delayMs = 4000; // the first answer only: the bootstrap gives up waiting after 1.5 s
    const target = await server();
    const socket = await connect(target.wsUrl);
    t.after(() => socket.close());
    sockets.push(socket);
    socket.send({ type: 'subscribe', room });
    await fake.until((calls) => calls.some((call) => call.roomId === room));
    fake.delayMs = 0;
    await socket.subscribed(room);
    assert.equal(socket.of(room, 'snapshot')[0]!.seq, 0);
    await socket.until((frames) => frames.some(isEvent('peer:joined', 'p1')), 15_000);
    assert.deepEqual(eventSeqs(socket.frames, room), [1, 2]);
    assert.deepEqual(peersSeen(socket, room), ['p1']);
  });

  test('a room that is not live, or an id the API must not see, costs at most one call and no event', async () => {
    const target = await server();
    const room = freshRoom();
    const socket = await subscribe(target, room);
    assert.equal(socket.of(room, 'snapshot')[0]!.seq, 0);
    assert.deepEqual(
      fake.callsOf(room).map((call) => [call.route, call.status]),
      [['live_session', 404]],
    );
    const before = fake.calls.length;
    await subscribe(target, '../../rooms/get-rooms?x=1');
    assert.equal(fake.calls.length, before);
  });
});

describe('reconcile: periodic passes', () => {
  test('a missed peer:left is healed within one interval; subscribers get it in seq order, once', async () => {
    const room = freshRoom();
    const startTime = Date.now() - 600_000;
    const participants = [
      { peerId: 'stays', joinTime: startTime + 1000 },
      { peerId: 'ghost', joinTime: startTime + 2000 },
    ];
    // Huddle01 and roomcast agree at first: passes find nothing to correct.
    fake.rooms.set(room, {
      live: { sessionId: 'sess-1', startTime },
      participants: [...participants],
    });
    const engine = await engineWith([
      ['meeting:started', meetingStarted(room, 'sess-1', startTime)],
      ['peer:joined', peerJoined(room, 'stays', startTime + 1000, 'sess-1')],
      ['peer:joined', peerJoined(room, 'ghost', startTime + 2000, 'sess-1')],
    ]);
    const target = await server({ reconcileInterval: '250ms' }, engine);
    const socket = await subscribe(target, room);
    assert.equal(socket.of(room, 'snapshot')[0]!.seq, 3);

    // The ghost leaves; its peer:left webhook is lost.
    const leftAt = Date.now();
    fake.rooms.get(room)!.participants = participants.slice(0, 1);
    const frames = await socket.until((all) => all.some(isEvent('peer:left', 'ghost')), 10_000);
    const healed = frames.find(isEvent('peer:left', 'ghost'))!;
    assert.equal(healed.seq, 4);
    assert.equal(healed.id, `reconcile:${room}:peer:left:ghost:sess-1:${startTime + 2000}`);
    const payload = healed.payload as { source: string; leftAt: number };
    assert.equal(payload.source, 'reconcile');
    // Healed by the first pass that asked after the leave: decided before a second one began.
    const passes = fake.callsOf(room, 'participants').filter((call) => call.at >= leftAt);
    assert.ok(passes[1] === undefined || payload.leftAt < passes[1].at, 'first pass healed it');
    assert.deepEqual(peersSeen(socket, room), ['stays']);
    // The state matched the start time: no need to look the session up.
    assert.equal(fake.callsOf(room, 'sessions').length, 0);

    // Huddle01's peer:left finally arrives: recognised, not a second "left".
    const late = await postWebhook(
      target,
      'peer:left',
      peerLeft(room, 'ghost', leftAt - 1000, 'sess-1'),
    );
    assert.deepEqual(late.body, { ok: true, duplicate: true, reconciled: true, roomId: room });
    await postWebhook(target, 'peer:joined', peerJoined(room, 'newcomer', Date.now(), 'sess-1'));
    fake.rooms.get(room)!.participants.push({ peerId: 'newcomer', joinTime: Date.now() });
    await socket.until((all) => all.some(isEvent('peer:joined', 'newcomer')));
    assert.deepEqual(eventSeqs(socket.frames, room), [4, 5]);
    assert.equal(socket.frames.filter(isEvent('peer:left', 'ghost')).length, 1);
  });

  test('no live session any more: a synthetic meeting:ended, and the real one is recognised', async () => {
    const room = freshRoom();
    const startTime = Date.now() - 600_000;
    fake.rooms.set(room, {
      live: { sessionId: 'sess-9', startTime },
      participants: [{ peerId: 'p1', joinTime: startTime + 1000 }],
    });
    const engine = await engineWith([
      ['meeting:started', meetingStarted(room, 'sess-9', startTime)],
      ['peer:joined', peerJoined(room, 'p1', startTime + 1000, 'sess-9')],
    ]);
    const target = await server({ reconcileInterval: '200ms' }, engine);
    const socket = await subscribe(target, room);
    // The meeting ends; its webhooks are lost.
    fake.rooms.delete(room);
    await socket.until((all) => all.some(isEvent('meeting:ended')), 10_000);
    assert.deepEqual(peersSeen(socket, room), []);
    const late = await postWebhook(target, 'meeting:ended', {
      ...meetingEnded(room, 'sess-9', Date.now() - 1000),
      createdAt: startTime,
    });
    assert.equal(late.body.reconciled, true);
    const lateLeave = await postWebhook(
      target,
      'peer:left',
      peerLeft(room, 'p1', Date.now() - 2000, 'sess-9'),
    );
    assert.equal(lateLeave.body.reconciled, true);
    assert.deepEqual(eventSeqs(socket.frames, room), [3]);
    const snapshot = await (await target.get(`/rooms/${room}`)).json();
    assert.equal(snapshot.seq, 3);
    assert.equal(snapshot.state.meeting.active, false);
    assert.equal(snapshot.state.meeting.source, 'reconcile');
  });

  test('API errors, 429 and timeouts back off and leave the state untouched, then it heals', async () => {
    const room = freshRoom();
    const startTime = Date.now() - 600_000;
    fake.rooms.set(room, { live: { sessionId: 'sess-1', startTime }, participants: [] });
    // Fails: a timeout (first failure), a 429 with Retry-After: 1, then a 503 (third in a row).
    fake.delayMs = 5000;
    const target = await server({ reconcileInterval: '100ms', reconcileTimeout: '300ms' });
    await postWebhook(target, 'meeting:started', meetingStarted(room, 'sess-1', startTime));
    await postWebhook(target, 'peer:joined', peerJoined(room, 'ghost', startTime + 1000, 'sess-1'));
    // The first call of a pass is the project-wide list: it is the one that times out.
    await fake.until((calls) => calls.length > 0);
    fake.delayMs = 0;
    fake.failNext(1, { status: 429, headers: { 'retry-after': '1' } });
    fake.failNext(1, { status: 503 });
    const socket = await subscribe(target, room);
    await socket.until((all) => all.some(isEvent('peer:left', 'ghost')), 20_000);

    const calls = fake.calls;
    const failedAt = (status: number) => calls.find((c) => c.status === status)!;
    const after = (call: FakeCall) => calls[calls.indexOf(call) + 1]!;
    const first = calls[0]!;
    // The first call gets no answer in time (aborted); the next one waits out the backoff,
    // counted from the abort (the first call of a process may reach the fake late).
    assert.ok(first.abortedAt !== undefined, 'the first call was aborted');
    assert.ok(
      after(first).at - first.abortedAt >= 500,
      'timeout, then at least half the base backoff',
    );
    assert.ok(after(failedAt(429)).at - failedAt(429).at >= 1000, 'Retry-After respected');
    assert.ok(after(failedAt(503)).at - failedAt(503).at >= 2000, 'third failure: longer backoff');
    // While it failed, nothing was appended: the heal is the first event after the webhooks.
    assert.deepEqual(eventSeqs(socket.frames, room), [3]);
    const samples = await metrics(target);
    for (const result of ['timeout', 'rate_limited', 'error', 'ok']) {
      assert.ok(
        sample(samples, 'roomcast_reconcile_api_calls_total', { call: 'live_sessions', result }) >=
          1,
        result,
      );
    }
    assert.ok(sample(samples, 'roomcast_reconcile_errors_total', { stage: 'api' }) >= 3);
  });
});

/** Resolves with the entries `engine` appends, once `done` holds for them. */
function appended(engine: Engine, done: (entries: LogEntry[]) => boolean): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  return new Promise((resolve) => {
    const stop = engine.watch((entry) => {
      entries.push(entry);
      if (done(entries)) {
        stop();
        resolve(entries);
      }
    });
  });
}

describe('reconcile: one project-wide list per pass', () => {
  test('a live room roomcast never heard of is discovered; a room absent from the list ends after one confirming call', async () => {
    const startTime = Date.now() - 600_000;
    const [found, gone, kept] = [freshRoom(), freshRoom(), freshRoom()];
    fake.rooms.set(found, {
      live: { sessionId: 'found-s', startTime },
      participants: [{ peerId: 'f1', joinTime: startTime + 10 }],
    });
    fake.rooms.set(kept, {
      live: { sessionId: 'kept-s', startTime },
      participants: [{ peerId: 'k1', joinTime: startTime + 20 }],
    });
    const engine = await engineWith([
      ['meeting:started', meetingStarted(gone, 'gone-s', startTime)],
      ['peer:joined', peerJoined(gone, 'g1', startTime + 30, 'gone-s')],
      ['meeting:started', meetingStarted(kept, 'kept-s', startTime)],
      ['peer:joined', peerJoined(kept, 'k1', startTime + 20, 'kept-s')],
    ]);
    const entries = appended(
      engine,
      (all) =>
        all.some((e) => e.roomId === gone) && all.filter((e) => e.roomId === found).length === 2,
    );
    await server({ reconcileInterval: '200ms' }, engine);
    const events = await entries;
    const of = (roomId: string) =>
      events
        .filter((e) => e.roomId === roomId)
        .map((e) => [e.event, (e.payload as { source?: string }).source]);
    assert.deepEqual(of(gone), [['meeting:ended', 'reconcile']]);
    assert.deepEqual(of(found), [
      ['meeting:started', 'reconcile'],
      ['peer:joined', 'reconcile'],
    ]);
    const state = (await engine.snapshot(found)).state;
    assert.equal(state.meeting.sessionId, 'found-s');
    assert.deepEqual(Object.keys(state.peers), ['f1']);
    // `gone`, live in the state but absent from the list, was confirmed by its own call (a
    // truncated list must not end live meetings); `found` needed its participants and session.
    assert.deepEqual(
      fake.callsOf(gone).map((c) => [c.route, c.status]),
      [['live_session', 404]],
    );
    assert.deepEqual(
      fake.callsOf(found).map((c) => c.route),
      ['participants', 'sessions'],
    );
    const first = fake.calls[0]!;
    assert.equal(first.route, 'live_sessions');
    assert.equal(first.roomId, undefined);
  });

  test('recording and livestream counts are folded into meeting.media, and dropped when the meeting ends', async () => {
    const room = freshRoom();
    const startTime = Date.now() - 600_000;
    fake.rooms.set(room, {
      live: { sessionId: 'rec-s', startTime, recordingCount: 1, livestreamCount: 2 },
      participants: [{ peerId: 'p1', joinTime: startTime + 1000 }],
    });
    const engine = await engineWith([
      ['meeting:started', meetingStarted(room, 'rec-s', startTime)],
      ['peer:joined', peerJoined(room, 'p1', startTime + 1000, 'rec-s')],
    ]);
    const target = await server({ reconcileInterval: '200ms' }, engine);
    const socket = await subscribe(target, room);
    const counted = await socket.until((all) => all.some(isEvent('reconcile:media')), 10_000);
    const media = counted.find(isEvent('reconcile:media'))!;
    assert.equal(media.seq, 3);
    assert.equal(media.id, `reconcile:${room}:media:rec-s:0:1:2`);
    const observed = media.payload as { observedAt: number };
    assert.deepEqual(media.payload, {
      roomId: room,
      sessionId: 'rec-s',
      recordingCount: 1,
      livestreamCount: 2,
      observedAt: observed.observedAt,
      source: 'reconcile',
    });
    let snapshot = await (await target.get(`/rooms/${room}`)).json();
    assert.deepEqual(snapshot.state.meeting.media, {
      recordingCount: 1,
      livestreamCount: 2,
      observedAt: observed.observedAt,
    });

    // The recording stops: the next pass says so. Then the meeting ends: no counts are left.
    fake.rooms.get(room)!.live!.recordingCount = 0;
    await socket.until((all) => all.filter(isEvent('reconcile:media')).length === 2, 10_000);
    await postWebhook(target, 'meeting:ended', {
      ...meetingEnded(room, 'rec-s', Date.now()),
      createdAt: startTime,
    });
    await socket.until((all) => all.some(isEvent('meeting:ended')));
    snapshot = await (await target.get(`/rooms/${room}`)).json();
    assert.equal(snapshot.state.meeting.active, false);
    assert.equal(snapshot.state.meeting.media, undefined);
    // Every subscriber's own copy, folded from its snapshot and events, agrees.
    let state = socket.of(room, 'snapshot').at(-1)!.state as RoomState;
    const counts: unknown[] = [];
    for (const frame of socket.of(room, 'event')) {
      state = reduceRoom(state, { event: frame.event, payload: frame.payload } as RoomEvent);
      if (frame.event === 'reconcile:media') counts.push(state.meeting.media?.recordingCount);
    }
    assert.deepEqual(counts, [1, 0]);
    // (updatedAt aside: the server also folds in when it received each event)
    assert.deepEqual({ ...state, updatedAt: 0 }, { ...snapshot.state, updatedAt: 0 });
  });

  test('a signed webhook cannot claim to be reconcile:media', async () => {
    const room = freshRoom();
    const target = await server({ reconcileInterval: 'off' });
    await postWebhook(target, 'meeting:started', meetingStarted(room, 'own-s', Date.now()));
    const answer = await postWebhook(target, 'reconcile:media', {
      roomId: room,
      sessionId: 'own-s',
      recordingCount: 5,
      livestreamCount: 5,
      observedAt: Date.now(),
    });
    assert.equal(answer.status, 202);
    const snapshot = await (await target.get(`/rooms/${room}`)).json();
    assert.equal(snapshot.seq, 1);
    assert.equal(snapshot.state.meeting.media, undefined);
  });

  test('where the list carries peer counts that agree, no participants are fetched; where they differ, they are', async () => {
    fake.listPeerCounts = true;
    const startTime = Date.now() - 600_000;
    const [calm, haunted] = [freshRoom(), freshRoom()];
    for (const room of [calm, haunted]) {
      fake.rooms.set(room, {
        live: { sessionId: `s-${room}`, startTime },
        participants: [{ peerId: 'p1', joinTime: startTime + 1000 }],
      });
    }
    const engine = await engineWith([
      ['meeting:started', meetingStarted(calm, `s-${calm}`, startTime)],
      ['peer:joined', peerJoined(calm, 'p1', startTime + 1000, `s-${calm}`)],
      ['meeting:started', meetingStarted(haunted, `s-${haunted}`, startTime)],
      ['peer:joined', peerJoined(haunted, 'p1', startTime + 1000, `s-${haunted}`)],
      ['peer:joined', peerJoined(haunted, 'ghost', startTime + 2000, `s-${haunted}`)],
    ]);
    const healed = appended(engine, (all) => all.some((e) => e.event === 'peer:left'));
    await server({ reconcileInterval: '200ms' }, engine);
    const [left] = await healed;
    assert.equal(left!.roomId, haunted);
    assert.equal((left!.payload as { id: string }).id, 'ghost');
    await fake.until((calls) => calls.filter((c) => c.route === 'live_sessions').length >= 3);
    assert.deepEqual(fake.callsOf(calm), []);
    assert.deepEqual(
      fake.callsOf(haunted).map((c) => c.route),
      ['participants'],
      'once healed, the counts agree',
    );
  });
});

describe('reconcile: the call budget', () => {
  test('500 active rooms: calls stay within the budget, every room gets its turn, bootstrap goes first', async () => {
    const engine = createMemoryEngine();
    const startTime = Date.now() - 600_000;
    const ids = Array.from({ length: 500 }, (_, i) => `budget-${i}-room`);
    for (const roomId of ids) {
      fake.rooms.set(roomId, { live: { sessionId: `s-${roomId}`, startTime }, participants: [] });
      await engine.append({
        webhookId: `budget-${roomId}`,
        event: 'meeting:started',
        payload: meetingStarted(roomId, `s-${roomId}`, startTime),
        receivedAt: Date.now(),
      });
    }
    // 3000 calls a minute: one every 20 ms, at most 50 in any second.
    const target = await server(
      { reconcileInterval: '100ms', reconcileBudget: 3000, reconcileConcurrency: 4 },
      engine,
    );
    await fake.until((calls) => calls.length >= 60, 20_000);
    const boot = freshRoom();
    fake.rooms.set(boot, {
      live: { sessionId: 'boot-s', startTime },
      participants: [{ peerId: 'early', joinTime: startTime + 5 }],
    });
    const before = fake.calls.length;
    const socket = await subscribe(target, boot);
    await fake.until((calls) => calls.length >= 160, 20_000);
    await target.close();
    servers.splice(0);
    await engine.close();

    const all = fake.calls.map((c) => c.at);
    for (const from of all) {
      // +1: arrival jitter at the fake may squeeze two spaced calls closer.
      assert.ok(all.filter((at) => at >= from && at < from + 1000).length <= 51);
    }
    const span = all.at(-1)! - all[0]!;
    assert.ok(all.length <= span / 20 + 2, `${all.length} calls in ${span} ms`);
    // Every room gets its turn: the first passes visit distinct rooms (2 calls each).
    const firstRooms = fake.calls.slice(0, 100).filter((c) => c.roomId !== boot);
    const visited = new Set(firstRooms.map((c) => c.roomId));
    assert.ok(visited.size >= firstRooms.length / 2 - 1, `${visited.size} rooms`);
    // A subscriber's bootstrap jumps the queue of periodic calls.
    const bootCall = fake.calls.findIndex((c) => c.roomId === boot);
    assert.ok(bootCall - before <= 5, `bootstrap call came ${bootCall - before} calls later`);
    assert.deepEqual(peersSeen(socket, boot), ['early']);
  });
});
