/**
 * SSE through a real WHATWG EventSource: snapshot first, live events, resume by Last-Event-ID
 * (header and query), and the multi-room stream with its composite id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestEventSource } from './helpers/sse-client.ts';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { postWebhook, startServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';

describe('server-sent events', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test('headers: event-stream, no-cache, no proxy buffering, a retry hint', async (t) => {
    const controller = new AbortController();
    t.after(() => controller.abort());
    const response = await fetch(server.authed(`/rooms/s-headers/events`), {
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.match(response.headers.get('cache-control') ?? '', /no-cache/);
    assert.equal(response.headers.get('x-accel-buffering'), 'no');
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /^retry: \d+\n\n/);
    controller.abort();
  });

  test('the first message is the snapshot, then live events with <epoch>:<seq> ids', async (t) => {
    await postWebhook(server, 'meeting:started', meetingStarted('s-live'));
    const source = new TestEventSource(server.authed(`/rooms/s-live/events`));
    t.after(() => source.close());
    await source.until((m) => m.some((x) => x.type === 'subscribed'));
    const snapshot = source.messages[0]!;
    assert.equal(snapshot.type, 'snapshot');
    assert.equal(snapshot.data.seq, 1);
    const epoch = String(snapshot.data.epoch);
    assert.equal(snapshot.id, `${epoch}:1`);
    await postWebhook(server, 'peer:joined', peerJoined('s-live', 'p1'));
    await source.until(() => source.events().length === 1);
    const event = source.events()[0]!;
    assert.equal(event.type, 'peer:joined');
    assert.equal(event.id, `${epoch}:2`);
    assert.equal(event.data.seq, 2);
    source.close();
  });

  test('Last-Event-ID resumes with exactly the missed events (header and ?lastEventId=)', async (t) => {
    const first = new TestEventSource(server.authed(`/rooms/s-resume/events`));
    t.after(() => first.close());
    await first.until((m) => m.some((x) => x.type === 'subscribed'));
    await postWebhook(server, 'peer:joined', peerJoined('s-resume', 'a'));
    await first.until(() => first.events().length === 1);
    const lastId = first.events()[0]!.id;
    first.close();
    await postWebhook(server, 'peer:joined', peerJoined('s-resume', 'b'));
    await postWebhook(server, 'peer:joined', peerJoined('s-resume', 'c'));

    const byHeader = new TestEventSource(server.authed(`/rooms/s-resume/events`), {
      'Last-Event-ID': lastId,
    });
    t.after(() => byHeader.close());
    const byQuery = new TestEventSource(
      server.authed(`/rooms/s-resume/events?lastEventId=${encodeURIComponent(lastId)}`),
    );
    t.after(() => byQuery.close());
    for (const source of [byHeader, byQuery]) {
      await source.until((m) => m.some((x) => x.type === 'subscribed'));
      assert.equal(
        source.messages[0]!.type,
        'peer:joined',
        'the first message is a missed event, not a snapshot',
      );
      assert.deepEqual(
        source.events().map((m) => m.data.seq),
        [2, 3],
      );
      assert.equal(source.messages.find((m) => m.type === 'subscribed')?.data.recovered, true);
      source.close();
    }
  });

  test('a malformed or foreign Last-Event-ID gives a snapshot', async (t) => {
    await postWebhook(server, 'peer:joined', peerJoined('s-foreign', 'a'));
    for (const id of ['nonsense', 'otherEpoch:1']) {
      const source = new TestEventSource(server.authed(`/rooms/s-foreign/events`), {
        'Last-Event-ID': id,
      });
      t.after(() => source.close());
      await source.until((m) => m.some((x) => x.type === 'subscribed'));
      assert.equal(source.messages[0]!.type, 'snapshot');
      assert.equal(source.messages[0]!.data.recovered, false);
      source.close();
    }
  });

  test('multi-room stream: one connection, every room, a composite id that resumes all', async (t) => {
    const url = server.authed(`/events?room=mr-a&room=mr-b`);
    const first = new TestEventSource(url);
    t.after(() => first.close());
    await first.until((m) => m.filter((x) => x.type === 'subscribed').length === 2);
    await postWebhook(server, 'peer:joined', peerJoined('mr-a', 'a1'));
    await postWebhook(server, 'peer:joined', peerJoined('mr-b', 'b1'));
    await first.until(() => first.events().length === 2);
    const lastId = first.messages.at(-1)!.id;
    const positions = new URLSearchParams(lastId);
    assert.match(positions.get('mr-a') ?? '', /^[\w-]+:1$/);
    assert.match(positions.get('mr-b') ?? '', /^[\w-]+:1$/);
    first.close();
    await postWebhook(server, 'peer:joined', peerJoined('mr-a', 'a2'));
    await postWebhook(server, 'peer:joined', peerJoined('mr-b', 'b2'));

    const resumed = new TestEventSource(url, { 'Last-Event-ID': lastId });
    t.after(() => resumed.close());
    await resumed.until((m) => m.filter((x) => x.type === 'subscribed').length === 2);
    assert.equal(resumed.messages.filter((m) => m.type === 'snapshot').length, 0);
    assert.deepEqual(
      resumed.events('mr-a').map((m) => m.data.seq),
      [2],
    );
    assert.deepEqual(
      resumed.events('mr-b').map((m) => m.data.seq),
      [2],
    );
    resumed.close();
  });

  test('bad requests: no room, invalid room id', async () => {
    const none = await fetch(server.authed(`/events`));
    assert.equal(none.status, 400);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
    const invalid = await fetch(server.authed(`/rooms/${encodeURIComponent('a b')}/events`));
    assert.equal(invalid.status, 400);
  });
});
