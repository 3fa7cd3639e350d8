/**
 * App events through real sockets: `POST /rooms/:roomId/publish` with a publish key reaches
 * WebSocket and SSE subscribers as an ordinary `event` frame with a seq, is in the history and
 * in a resume, never changes the room state; bad keys, names, bodies and sizes get stable codes;
 * an idempotency key answers the first result without a second broadcast — on one node and
 * across two nodes sharing Redis. `app.roomcast.publish` takes the same path.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { PublishError } from '../server/src/publish/app-events.ts';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { startRedisNodes } from './helpers/redis-nodes.ts';
import type { RedisNodes } from './helpers/redis-nodes.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import { postWebhook, startServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { connect } from './helpers/ws-client.ts';
import type { Frame, TestSocket } from './helpers/ws-client.ts';
import { readUntil } from './helpers/wait.ts';

const BIN = fileURLToPath(new URL('../server/bin/roomcast.js', import.meta.url));
const KEY = 'publish-key-new-0123456789';
const OLD_KEY = 'publish-key-old-0123456789';

async function publish(
  server: Pick<TestServer, 'url'>,
  roomId: string,
  body: unknown,
  key: string | null = KEY,
): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string } } }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${server.url}/rooms/${encodeURIComponent(roomId)}/publish`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as never };
}

async function subscribed(server: TestServer, room: string): Promise<TestSocket> {
  const socket = await connect(server.wsUrl);
  socket.send({ type: 'subscribe', room });
  await socket.until((frames) => frames.some((f) => f.type === 'subscribed' && f.room === room));
  return socket;
}

const appFrames = (frames: Frame[]) => frames.filter((f) => String(f.event).startsWith('app:'));

describe('app events, one node', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ publishKeys: [KEY, OLD_KEY] });
  });
  after(() => server.close());

  test('reach WS and SSE subscribers with a seq; the state does not change', async (t) => {
    await postWebhook(server, 'meeting:started', meetingStarted('pub-a'));
    await postWebhook(server, 'peer:joined', peerJoined('pub-a', 'p1'));
    const before = (await (await server.get('/rooms/pub-a')).json()) as { state: unknown };
    const socket = await subscribed(server, 'pub-a');
    t.after(() => socket.socket.terminate());
    const sse = new AbortController();
    t.after(() => sse.abort());
    const stream = await fetch(server.authed('/rooms/pub-a/events'), { signal: sse.signal });
    const reader = stream.body!.getReader();

    const answer = await publish(server, 'pub-a', {
      event: 'app:hand-raised',
      payload: { peerId: 'p1', raised: true },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(
      { ok: answer.body.ok, roomId: answer.body.roomId, seq: answer.body.seq },
      {
        ok: true,
        roomId: 'pub-a',
        seq: 3,
      },
    );
    await socket.until((frames) => appFrames(frames).length === 1);
    const frame = appFrames(socket.frames)[0]!;
    assert.equal(frame.type, 'event');
    assert.equal(frame.seq, 3);
    assert.deepEqual(frame.payload, { peerId: 'p1', raised: true });

    const text = await readUntil(reader, (read) => read.includes('event: app:hand-raised'), {
      what: 'the app event over SSE',
    });
    assert.match(text, /event: app:hand-raised\n/);

    const after = (await (await server.get('/rooms/pub-a')).json()) as {
      seq: number;
      state: unknown;
    };
    assert.equal(after.seq, 3);
    assert.deepEqual(after.state, before.state);
  });

  test('an old rotation key works; a wrong or missing key is 401', async () => {
    const body = { event: 'app:x', payload: 1 };
    assert.equal((await publish(server, 'pub-k', body, OLD_KEY)).status, 200);
    const wrong = await publish(server, 'pub-k', body, 'nope');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error?.code, 'UNAUTHORIZED');
    assert.equal((await publish(server, 'pub-k', body, null)).status, 401);
  });

  test('bad names, bodies, rooms and sizes get stable codes', async () => {
    const cases: [string, unknown, number, string][] = [
      ['pub-b', { event: 'peer:joined', payload: {} }, 400, 'INVALID_EVENT_NAME'],
      ['pub-b', { event: 'app:', payload: {} }, 400, 'INVALID_EVENT_NAME'],
      ['pub-b', { event: 'app:has space', payload: {} }, 400, 'INVALID_EVENT_NAME'],
      ['pub-b', { event: `app:${'x'.repeat(65)}`, payload: {} }, 400, 'INVALID_EVENT_NAME'],
      ['pub-b', { payload: {} }, 400, 'INVALID_BODY'],
      ['pub-b', [1, 2], 400, 'INVALID_BODY'],
      ['pub-b', '{not json', 400, 'BAD_REQUEST'],
      ['pub-b', { event: 'app:x', payload: 'y'.repeat(70_000) }, 413, 'PAYLOAD_TOO_LARGE'],
      ['pub-b', { event: 'app:x', payload: 'y'.repeat(200_000) }, 413, 'BODY_TOO_LARGE'],
      ['pub-b', { event: 'app:x', idempotencyKey: '' }, 400, 'BAD_REQUEST'],
      ['pub-b', { event: 'app:x', idempotencyKey: 7 }, 400, 'BAD_REQUEST'],
      ['has space', { event: 'app:x' }, 400, 'BAD_REQUEST'],
    ];
    for (const [room, body, status, code] of cases) {
      const answer = await publish(server, room, body);
      assert.equal(
        answer.status,
        status,
        `${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(answer.body)}`,
      );
      assert.equal(answer.body.error?.code, code);
    }
    assert.equal(((await (await server.get('/rooms/pub-b')).json()) as { seq: number }).seq, 0);
    // The server keeps serving.
    assert.equal((await publish(server, 'pub-b', { event: 'app:ok' })).status, 200);
  });

  test('a repeated idempotency key answers the first result and is not broadcast again', async (t) => {
    const socket = await subscribed(server, 'pub-i');
    t.after(() => socket.socket.terminate());
    const body = { event: 'app:poll-opened', payload: { poll: 1 }, idempotencyKey: 'poll-1' };
    const first = await publish(server, 'pub-i', body);
    const again = await publish(server, 'pub-i', body);
    assert.equal(first.body.seq, 1);
    assert.equal(again.body.seq, 1);
    assert.equal(again.body.duplicate, true);
    // The same key in another room is another event.
    assert.equal((await publish(server, 'pub-i2', body)).body.seq, 1);
    await publish(server, 'pub-i', { event: 'app:marker' });
    await socket.until((frames) => appFrames(frames).some((f) => f.event === 'app:marker'));
    assert.deepEqual(
      appFrames(socket.frames).map((f) => f.event),
      ['app:poll-opened', 'app:marker'],
    );
  });

  test('history and resume carry app events', async (t) => {
    await publish(server, 'pub-h', { event: 'app:one', payload: 1 });
    await publish(server, 'pub-h', { event: 'app:two', payload: 2 });
    const snapshot = (await (await server.get('/rooms/pub-h')).json()) as { epoch: string };
    const socket = await connect(server.wsUrl);
    t.after(() => socket.close());
    try {
      socket.send({ type: 'subscribe', room: 'pub-h', since: `${snapshot.epoch}:0` });
      await socket.until((frames) => appFrames(frames).length === 2);
      assert.deepEqual(
        appFrames(socket.frames).map((f) => [f.seq, f.event, f.payload]),
        [
          [1, 'app:one', 1],
          [2, 'app:two', 2],
        ],
      );
      assert.equal(socket.frames.find((f) => f.type === 'subscribed')?.recovered, true);
    } finally {
      socket.socket.terminate();
    }
  });

  test('roomcast publish: the CLI posts one, and refuses a bad name or flag in one line', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'publish', ...args], {
          env: { ...process.env, ROOMCAST_PUBLISH_KEY: `${KEY},${OLD_KEY}` },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.stderr.on('data', (chunk) => (err += chunk));
        child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
      });
    const ok = await run([
      'app:cli',
      '--room',
      'pub-cli',
      '--data',
      '{"n":1}',
      '--url',
      server.url,
    ]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /200 OK .*"seq":1/);
    const name = await run(['peer:joined', '--room', 'pub-cli', '--url', server.url]);
    assert.equal(name.code, 2);
    assert.equal(name.err.trim().split('\n').length, 1);
    const flag = await run(['app:cli', '--rom', 'x']);
    assert.equal(flag.code, 2);
    assert.match(flag.err, /--help/);
  });

  test('app.roomcast.publish takes the same path, and the same checks', async () => {
    const result = await server.app.roomcast.publish('pub-api', 'app:from-api', { a: 1 });
    assert.equal(result.seq, 1);
    await assert.rejects(
      server.app.roomcast.publish('pub-api', 'meeting:ended', {}),
      (error: unknown) => error instanceof PublishError && error.code === 'INVALID_EVENT_NAME',
    );
  });
});

describe('app events, publishing off', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test('without ROOMCAST_PUBLISH_KEY the route answers 404 PUBLISH_DISABLED', async () => {
    const answer = await publish(server, 'off', { event: 'app:x' });
    assert.equal(answer.status, 404);
    assert.equal(answer.body.error?.code, 'PUBLISH_DISABLED');
  });
});

const redis = await startRedisServer();
describe('app events, two nodes on one Redis', { skip: !redis }, () => {
  let a: TestServer;
  let b: TestServer;
  let nodes: RedisNodes | undefined;
  before(async () => {
    nodes = await startRedisNodes(redis!.url, 'pub', { publishKeys: [KEY] });
    ({ a, b } = nodes);
  });
  after(async () => {
    await nodes?.close();
    await redis?.close();
  });

  test("published on A, delivered on B; a key repeated on B answers A's result", async (t) => {
    const socket = await subscribed(b, 'pub-r');
    t.after(() => socket.socket.terminate());
    const body = { event: 'app:cross', payload: { n: 1 }, idempotencyKey: 'k-1' };
    const first = await publish(a, 'pub-r', body);
    assert.equal(first.status, 200);
    await socket.until((frames) => appFrames(frames).length === 1);
    const again = await publish(b, 'pub-r', body);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.seq, first.body.seq);
    await publish(b, 'pub-r', { event: 'app:marker' });
    await socket.until((frames) => appFrames(frames).length === 2);
    assert.deepEqual(
      appFrames(socket.frames).map((f) => f.event),
      ['app:cross', 'app:marker'],
    );
  });
});
