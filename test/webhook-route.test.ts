/**
 * POST /webhooks/huddle01 through real HTTP: every answer of the public contract.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMemoryEngine } from '../server/src/engine/memory-engine.ts';
import type { Engine } from '../server/src/engine/engine.ts';
import { signRawWebhook } from '../server/src/webhooks/sign-webhook.ts';
import { meetingStarted, peerJoined, track } from './helpers/payloads.ts';
import { TEST_KEY, postWebhook, startServer, webhookId } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { until } from './helpers/wait.ts';

describe('webhook route', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      huddle01ApiKeys: [TEST_KEY, 'second-key-for-rotation'],
      trackHold: 200,
    });
  });
  after(() => server.close());

  test('a valid webhook is appended: 200 {ok, roomId, seq}', async () => {
    const first = await postWebhook(server, 'meeting:started', meetingStarted('r-ok'));
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { ok: true, roomId: 'r-ok', seq: 1 });
    const second = await postWebhook(server, 'peer:joined', peerJoined('r-ok', 'p1'));
    assert.deepEqual(second.body, { ok: true, roomId: 'r-ok', seq: 2 });
  });

  test('text/plain, application/json, a malformed type and none are all taken raw', async () => {
    for (const contentType of [
      'text/plain',
      'application/json',
      'application/octet-stream',
      ';;;',
    ]) {
      const answer = await postWebhook(server, 'meeting:started', meetingStarted('r-ct'), {
        contentType,
      });
      assert.equal(answer.status, 200, contentType);
    }
    const id = webhookId();
    const text = JSON.stringify({ id, event: 'meeting:started', payload: meetingStarted('r-ct') });
    const response = await fetch(`${server.url}/webhooks/huddle01`, {
      method: 'POST',
      headers: { 'huddle01-signature': signRawWebhook(text, id, TEST_KEY) },
      body: new Blob([text]), // a Blob without type: no Content-Type header
    });
    assert.equal(response.status, 200);
  });

  test('any of the rotated keys is accepted', async () => {
    const answer = await postWebhook(server, 'meeting:started', meetingStarted('r-rot'), {
      key: 'second-key-for-rotation',
    });
    assert.equal(answer.status, 200);
  });

  test('a repeated id answers duplicate and is not appended again', async () => {
    const id = webhookId();
    const first = await postWebhook(server, 'meeting:started', meetingStarted('r-dup'), { id });
    const again = await postWebhook(server, 'meeting:started', meetingStarted('r-dup'), { id });
    assert.equal(first.body.seq, 1);
    assert.deepEqual(again.body, { ok: true, duplicate: true });
    const snapshot = (await (await server.get(`/rooms/r-dup`)).json()) as { seq: number };
    assert.equal(snapshot.seq, 1);
  });

  test('20 concurrent identical posts: exactly one acceptance', async () => {
    const id = webhookId();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        postWebhook(server, 'meeting:started', meetingStarted('r-conc'), { id }),
      ),
    );
    assert.equal(answers.filter((a) => a.status === 200 && a.body.seq === 1).length, 1);
    assert.equal(answers.filter((a) => a.body.duplicate === true).length, 19);
  });

  test('missing or malformed signature header: 401 SIGNATURE_MISSING', async () => {
    const missing = await postWebhook(server, 'meeting:started', meetingStarted('r-sig'), {
      header: null,
    });
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error?.code, 'SIGNATURE_MISSING');
    const noT = await postWebhook(server, 'meeting:started', meetingStarted('r-sig'), {
      header: 'sha256=abc',
    });
    assert.equal(noT.status, 401);
    assert.equal(noT.body.error?.code, 'SIGNATURE_MISSING');
  });

  test('wrong key, tampered body, uppercase algorithm, space after comma: 401 SIGNATURE_INVALID', async () => {
    const wrongKey = await postWebhook(server, 'meeting:started', meetingStarted('r-sig'), {
      key: 'nope',
    });
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.body.error?.code, 'SIGNATURE_INVALID');

    const id = webhookId();
    const text = JSON.stringify({ id, event: 'meeting:started', payload: meetingStarted('r-sig') });
    const header = signRawWebhook(text, id, TEST_KEY);
    const tampered = await postWebhook(server, '', null, {
      raw: text.replace('r-sig', 'r-evil'),
      id,
      header,
    });
    assert.equal(tampered.status, 401);
    assert.equal(tampered.body.error?.code, 'SIGNATURE_INVALID');

    const upper = await postWebhook(server, '', null, {
      raw: text,
      id,
      header: header.replace('sha256=', 'SHA256='),
    });
    assert.equal(upper.status, 401);
    const spaced = await postWebhook(server, '', null, {
      raw: text,
      id,
      header: header.replace(',', ', '),
    });
    assert.equal(spaced.status, 401);
    // The untouched one still passes: the refusals were about the header alone.
    const good = await postWebhook(server, '', null, { raw: text, id, header });
    assert.equal(good.status, 200);
  });

  test('sha512 signatures are accepted', async () => {
    const answer = await postWebhook(server, 'meeting:started', meetingStarted('r-512'), {
      algorithm: 'sha512',
    });
    assert.equal(answer.status, 200);
  });

  test('timestamps: old and future refused, seconds accepted, garbage refused', async () => {
    const now = Date.now();
    for (const timestamp of [now - 6 * 60_000, now + 6 * 60_000, 0]) {
      const answer = await postWebhook(server, 'meeting:started', meetingStarted('r-ts'), {
        timestamp,
      });
      assert.equal(answer.status, 401, `t=${timestamp}`);
      assert.equal(answer.body.error?.code, 'TIMESTAMP_INVALID');
    }
    const seconds = await postWebhook(server, 'meeting:started', meetingStarted('r-ts'), {
      timestamp: Math.floor(now / 1000),
    });
    assert.equal(seconds.status, 200);
    const recent = await postWebhook(server, 'meeting:started', meetingStarted('r-ts'), {
      timestamp: now - 4 * 60_000,
    });
    assert.equal(recent.status, 200);
    const garbage = await postWebhook(server, 'meeting:started', meetingStarted('r-ts'), {
      timestamp: 'abc',
    });
    assert.equal(garbage.status, 401);
    assert.equal(garbage.body.error?.code, 'TIMESTAMP_INVALID');
  });

  test('not JSON, or no id: 400 INVALID_BODY', async () => {
    // The header must pass its own checks (shape, freshness) first: those need no body.
    const header = `t=${Date.now()},sha256=${'0'.repeat(64)}`;
    const notJson = await postWebhook(server, '', null, { raw: '{nope', header });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error?.code, 'INVALID_BODY');
    const noId = await postWebhook(server, '', null, {
      raw: '{"event":"meeting:started"}',
      header,
    });
    assert.equal(noId.status, 400);
    assert.equal(noId.body.error?.code, 'INVALID_BODY');
  });

  test('a body nested thousands of levels deep: 400 INVALID_BODY, not a 500', async () => {
    const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    // Too deep to be signed at all (re-serializing it overflows the stack): refused as invalid.
    const hostile = await postWebhook(server, '', null, {
      raw: `{"id":"deep","event":"peer:joined","payload":${deep(100_000)}}`,
      header: `t=${Date.now()},sha256=${'0'.repeat(64)}`,
    });
    assert.equal(hostile.status, 400);
    assert.equal(hostile.body.error?.code, 'INVALID_BODY');
    // Signed correctly but past the depth limit: refused the same way.
    const id = webhookId();
    const signedDeep = await postWebhook(server, '', null, {
      id,
      raw: `{"id":"${id}","event":"peer:joined","payload":{"x":${deep(64)}}}`,
    });
    assert.equal(signedDeep.status, 400);
    assert.match(signedDeep.body.error?.message ?? '', /nested deeper than 64/);
  });

  test('a 2 MiB body: 413 BODY_TOO_LARGE, and the server keeps serving', async () => {
    const raw = JSON.stringify({
      id: 'big',
      event: 'meeting:started',
      payload: { pad: 'x'.repeat(2 * 1024 * 1024) },
    });
    const answer = await postWebhook(server, '', null, { raw, id: 'big' });
    assert.equal(answer.status, 413);
    assert.equal(answer.body.error?.code, 'BODY_TOO_LARGE');
    const after = await postWebhook(server, 'meeting:started', meetingStarted('r-after-big'));
    assert.equal(after.status, 200);
  });

  test('unknown event and invalid payload: 202, kept as dead letters, never re-kept on retry', async () => {
    const id = webhookId();
    const unknown = await postWebhook(server, 'room:exploded', { roomId: 'x' }, { id });
    assert.equal(unknown.status, 202);
    assert.equal(unknown.body.reason, 'UNKNOWN_EVENT');
    const retry = await postWebhook(server, 'room:exploded', { roomId: 'x' }, { id });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.duplicate, true);

    const invalid = await postWebhook(server, 'peer:joined', { id: 'p', roomId: 'x' });
    assert.equal(invalid.status, 202);
    assert.equal(invalid.body.reason, 'INVALID_PAYLOAD');
    assert.match(String(invalid.body.message), /sessionId/);

    const letters = (await (await server.get('/admin/dead-letters')).json()) as {
      deadLetters: Array<{ webhookId: string; reason: string; event: string }>;
    };
    assert.equal(letters.deadLetters.filter((l) => l.webhookId === id).length, 1);
    assert.ok(
      letters.deadLetters.some((l) => l.reason === 'INVALID_PAYLOAD' && l.event === 'peer:joined'),
    );
  });

  test('a track event before its peer:joined is held (202), then routed to the room', async () => {
    const held = await postWebhook(server, 'peer:trackPublished', track('p-late', 'video'));
    assert.equal(held.status, 202);
    assert.deepEqual(held.body, { ok: true, held: true });
    const joined = await postWebhook(server, 'peer:joined', peerJoined('r-track', 'p-late'));
    assert.equal(joined.body.seq, 1);
    const snapshot = (await (await server.get(`/rooms/r-track`)).json()) as {
      seq: number;
      state: { peers: Record<string, { tracks: string[] }> };
    };
    assert.equal(snapshot.seq, 2);
    assert.deepEqual(snapshot.state.peers['p-late']?.tracks, ['video']);
    const after = await postWebhook(server, 'peer:trackPublished', track('p-late', 'audio'));
    assert.deepEqual(after.body, { ok: true, roomId: 'r-track', seq: 3 });
  });

  test('a track event whose peer never joins becomes a dead letter after the hold', async () => {
    const id = webhookId();
    await postWebhook(server, 'peer:trackPublished', track('p-never'), { id });
    let reason: string | undefined;
    await until(
      async () => {
        const letters = (await (await server.get('/admin/dead-letters')).json()) as {
          deadLetters: Array<{ webhookId: string; reason: string }>;
        };
        reason = letters.deadLetters.find((l) => l.webhookId === id)?.reason;
        return reason !== undefined;
      },
      { what: 'the dead letter', intervalMs: 50 },
    );
    assert.equal(reason, 'UNROUTABLE');
  });
});

describe('webhook route with a failing engine', () => {
  test('503 ENGINE_UNAVAILABLE when the engine cannot append; accepted after it recovers', async () => {
    const real = createMemoryEngine();
    let failing = true;
    // A real engine whose append fails on demand (an outage cannot be caused in memory).
    const engine: Engine = {
      ...real,
      append: (input) => (failing ? Promise.reject(new Error('down')) : real.append(input)),
    };
    const server = await startServer({}, engine);
    try {
      const id = webhookId();
      const down = await postWebhook(server, 'meeting:started', meetingStarted('r-503'), { id });
      assert.equal(down.status, 503);
      assert.equal(down.body.error?.code, 'ENGINE_UNAVAILABLE');
      failing = false;
      const retried = await postWebhook(server, 'meeting:started', meetingStarted('r-503'), { id });
      assert.deepEqual(retried.body, { ok: true, roomId: 'r-503', seq: 1 });
    } finally {
      await server.close();
      await real.close();
    }
  });
});
