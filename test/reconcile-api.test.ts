/**
 * The Huddle01 side of reconcile: the SDK's real `API` class against a local fake of Huddle01's
 * live API (a real HTTP server; the base URL is swapped through the scoped fetch), and the call
 * gate (budget, concurrency, priority, backoff).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCallGate, GateClosedError } from '../server/src/reconcile/call-gate.ts';
import {
  createHuddle01Api,
  Huddle01ApiError,
  parseRetryAfter,
} from '../server/src/reconcile/huddle01-api.ts';
import type { ApiCall, CallResult } from '../server/src/reconcile/huddle01-api.ts';
import { startFakeHuddle01 } from './helpers/fake-huddle01.ts';
import type { FakeHuddle01 } from './helpers/fake-huddle01.ts';

const KEY = 'hk-test-0123456789';
const T0 = 1_790_000_000_000;

describe('huddle01 api client (SDK API class) against a local fake', () => {
  let fake: FakeHuddle01;
  const seen: [ApiCall, CallResult][] = [];
  const api = (timeoutMs = 5000) =>
    createHuddle01Api({
      apiKey: KEY,
      baseUrl: fake.url,
      timeoutMs,
      onCall: (call, result) => seen.push([call, result]),
    });

  before(async () => {
    fake = await startFakeHuddle01([KEY]);
    fake.rooms.set('abc-defg-hij', {
      live: { sessionId: 'sess-1', startTime: T0 },
      participants: [
        { peerId: 'peerId-a', joinTime: T0 + 5, metadata: { displayName: 'Ada' } },
        { peerId: 'peerId-b' },
      ],
      past: [{ sessionId: 'sess-0', startTime: T0 - 9000, endTime: T0 - 5000 }],
    });
  });
  after(() => fake.close());

  test('reads the live session, participants and sessions with the x-api-key header', async () => {
    const client = api();
    assert.deepEqual(await client.liveSession('abc-defg-hij'), {
      roomId: 'abc-defg-hij',
      startTime: T0,
      recordingCount: 0,
      livestreamCount: 0,
      peerCount: 2,
    });
    assert.deepEqual(await client.liveParticipants('abc-defg-hij'), [
      { peerId: 'peerId-a', joinTime: T0 + 5, metadata: { displayName: 'Ada' } },
      { peerId: 'peerId-b' },
    ]);
    assert.deepEqual(await client.roomSessions('abc-defg-hij'), [
      { sessionId: 'sess-1', startTime: T0, endTime: null },
      { sessionId: 'sess-0', startTime: T0 - 9000, endTime: T0 - 5000 },
    ]);
    const recent = fake.calls.slice(-3);
    assert.deepEqual(
      recent.map((c) => [c.route, c.roomId, c.apiKey]),
      [
        ['live_session', 'abc-defg-hij', KEY],
        ['participants', 'abc-defg-hij', KEY],
        ['sessions', 'abc-defg-hij', KEY],
      ],
    );
  });

  test('one project-wide call lists every live session with its media counts', async () => {
    fake.rooms.set('rec-live-room', {
      live: { sessionId: 'sess-r', startTime: T0 + 1, recordingCount: 1, livestreamCount: 2 },
      participants: [],
    });
    fake.rooms.set('ended-room', { participants: [] });
    try {
      const before = fake.calls.length;
      const rooms = await api().liveSessions();
      assert.deepEqual(
        rooms.toSorted((a, b) => a.roomId.localeCompare(b.roomId)),
        [
          // The SDK's type of the list has no peer count: none is made up.
          { roomId: 'abc-defg-hij', startTime: T0, recordingCount: 0, livestreamCount: 0 },
          { roomId: 'rec-live-room', startTime: T0 + 1, recordingCount: 1, livestreamCount: 2 },
        ],
      );
      assert.deepEqual(
        fake.calls.slice(before).map((c) => [c.route, c.roomId, c.apiKey]),
        [['live_sessions', undefined, KEY]],
      );
      assert.deepEqual(seen.at(-1), ['live_sessions', 'ok']);
      // Where Huddle01 does give the count, it is kept (the per-room answer's field name).
      fake.listPeerCounts = true;
      const counted = await api().liveSessions();
      assert.equal(counted.find((r) => r.roomId === 'abc-defg-hij')?.peerCount, 2);
    } finally {
      fake.listPeerCounts = false;
      fake.rooms.delete('rec-live-room');
      fake.rooms.delete('ended-room');
    }
  });

  test('the project-wide list failing is an error, never "nothing is live"', async () => {
    fake.failNext(1, { status: 404 });
    await assert.rejects(api().liveSessions(), (error: unknown) => {
      assert.ok(error instanceof Huddle01ApiError);
      assert.equal(error.result, 'error');
      return true;
    });
    fake.failNext(1, { status: 429, headers: { 'retry-after': '3' } });
    await assert.rejects(api().liveSessions(), (error: unknown) => {
      assert.ok(error instanceof Huddle01ApiError);
      assert.equal(error.result, 'rate_limited');
      assert.equal(error.retryAfterMs, 3000);
      return true;
    });
  });

  test('a room that is not live is null (404), quietly: the SDK logs nothing', async () => {
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      const client = api();
      assert.equal(await client.liveSession('not-live'), null);
      assert.equal(await client.liveParticipants('not-live'), null);
    } finally {
      console.error = original;
    }
    assert.deepEqual(logged, []);
    assert.deepEqual(seen.slice(-2), [
      ['live_session', 'not_found'],
      ['participants', 'not_found'],
    ]);
  });

  test('429 is rate_limited with its Retry-After; 500 and a wrong key are errors', async () => {
    fake.failNext(1, { status: 429, headers: { 'retry-after': '7' } });
    const limited = await api()
      .liveSession('abc-defg-hij')
      .catch((error: unknown) => error);
    assert.ok(limited instanceof Huddle01ApiError);
    assert.equal(limited.result, 'rate_limited');
    assert.equal(limited.retryAfterMs, 7000);
    fake.failNext(1, { status: 503 });
    const down = await api()
      .liveParticipants('abc-defg-hij')
      .catch((error: unknown) => error);
    assert.ok(down instanceof Huddle01ApiError);
    assert.equal(down.result, 'error');
    assert.equal(down.status, 503);
    const wrongKey = createHuddle01Api({ apiKey: 'nope', baseUrl: fake.url, timeoutMs: 5000 });
    const refused = await wrongKey.liveSession('abc-defg-hij').catch((error: unknown) => error);
    assert.ok(refused instanceof Huddle01ApiError);
    assert.equal(refused.status, 401);
  });

  test('a slow answer times out and the request is aborted', async () => {
    fake.delayMs = 2000;
    try {
      const started = Date.now();
      const slow = await api(300)
        .liveSession('abc-defg-hij')
        .catch((error: unknown) => error);
      assert.ok(slow instanceof Huddle01ApiError);
      assert.equal(slow.result, 'timeout');
      assert.match(slow.message, /no answer within 300 ms/);
      assert.ok(Date.now() - started < 1900, 'gave up before the answer came');
      await fake.until(() => fake.aborted >= 1, 1500);
    } finally {
      fake.delayMs = 0;
    }
    assert.deepEqual(seen.at(-1), ['live_session', 'timeout']);
  });

  test('an unexpected answer shape is an error, never "not live"', async () => {
    fake.rooms.set('odd-room', { live: { sessionId: 's', startTime: T0 }, participants: [] });
    fake.rooms.get('odd-room')!.participants = 'nonsense' as never;
    const odd = await api()
      .liveParticipants('odd-room')
      .catch((error: unknown) => error);
    assert.ok(odd instanceof Huddle01ApiError);
    assert.equal(odd.result, 'error');
  });

  test('fetch outside reconcile calls is untouched', async () => {
    await api().liveSession('abc-defg-hij');
    const response = await fetch(`${fake.url}/api/v2/sdk/live-sessions/abc-defg-hij`, {
      headers: { 'x-api-key': KEY },
    });
    assert.equal(response.status, 200);
    const missing = await fetch(`${fake.url}/api/v2/sdk/live-sessions/nowhere`, {
      headers: { 'x-api-key': KEY },
    });
    assert.equal(missing.status, 404, 'a 404 stays a 404 for everyone else');
  });

  test('Retry-After: seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(T0 + 4000).toUTCString(), T0), 4000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });
});

describe('call gate', () => {
  test('the budget spaces calls: no window holds more than its share', async () => {
    // The gate's own reading of the clock at each start (a later Date.now() may be 1 ms on).
    let clock = 0;
    const now = () => (clock = Date.now());
    const gate = createCallGate({ perWindow: 10, windowMs: 200, concurrency: 4, now });
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 25 }, () => gate.run(async () => void starts.push(clock))),
    );
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 1]! >= 20);
    for (const from of starts) {
      assert.ok(starts.filter((at) => at >= from && at < from + 200).length <= 10);
    }
  });

  test('at most `concurrency` calls in flight, urgent ones first', async () => {
    const gate = createCallGate({ perWindow: 10_000, windowMs: 1000, concurrency: 2 });
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    const job = (name: string) => async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      order.push(name);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
    };
    const all = ['n1', 'n2', 'n3', 'n4'].map((name) => gate.run(job(name)));
    all.push(gate.run(job('urgent'), true));
    await Promise.all(all);
    assert.equal(most, 2);
    assert.ok(order.indexOf('urgent') < order.indexOf('n4'), order.join());
    assert.ok(order.indexOf('urgent') <= 2, order.join());
  });

  test('a failure pauses every call: Retry-After wins, else exponential backoff with jitter', async () => {
    const gate = createCallGate({
      perWindow: 10_000,
      windowMs: 1000,
      concurrency: 1,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      random: () => 0,
    });
    assert.equal(gate.failed(), 50); // half fixed, half jitter (none here)
    assert.equal(gate.failed(), 100);
    assert.equal(gate.failed(), 200);
    gate.succeeded();
    assert.equal(gate.failed(), 50);
    assert.equal(gate.failed(5000), 1000, 'Retry-After capped at the longest backoff');
    const gate2 = createCallGate({ perWindow: 10_000, windowMs: 1000, concurrency: 1 });
    const paused = Date.now();
    gate2.failed(150);
    let ranAt = 0;
    await gate2.run(async () => void (ranAt = Date.now()));
    assert.ok(ranAt - paused >= 150, `ran after ${ranAt - paused} ms`);
  });

  test('closing refuses the waiting calls', async () => {
    const gate = createCallGate({ perWindow: 1, windowMs: 60_000, concurrency: 1 });
    await gate.run(async () => undefined);
    const waiting = gate.run(async () => undefined);
    assert.equal(gate.waiting, 1);
    gate.close();
    await assert.rejects(waiting, GateClosedError);
    await assert.rejects(
      gate.run(async () => undefined),
      GateClosedError,
    );
  });
});
