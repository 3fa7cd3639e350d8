/**
 * Every frame the server sends validates against the AsyncAPI document it serves: a real server
 * on port 0, real WebSocket (single frames and `?batch=1` batches) and SSE (one room and several)
 * clients, driven through heartbeat, snapshot, subscribed, live and app events, a resume,
 * errors, occupancy and the rooms feed. Each frame is checked against its message's payload
 * schema (by `type`) with a JSON Schema validator, and its top-level fields must all be declared
 * there (the document is open to new fields; the server must not send undeclared ones).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { asyncApiDocument } from '../server/src/asyncapi.ts';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { postWebhook, startServer, testToken } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';

type Json = Record<string, unknown>;
const PUBLISH_KEY = 'frame-schemas-publish-key';

const document = asyncApiDocument() as Json & {
  components: { schemas: Record<string, Json>; messages: Record<string, { payload: Json }> };
};
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema({ $id: 'roomcast.json', components: document.components });
const validators = new Map<string, ValidateFunction>();
function validatorOf(type: string): ValidateFunction {
  let validate = validators.get(type);
  if (!validate) {
    assert.ok(document.components.messages[type], `the document has no message for ${type}`);
    validate = ajv.compile({ $ref: `roomcast.json#/components/messages/${type}/payload` });
    validators.set(type, validate);
  }
  return validate;
}

/** The fields a frame of `type` may carry: the properties its schema(s) declare. */
function declared(type: string): Set<string> {
  const payload = document.components.messages[type]!.payload;
  const refs = ((payload.anyOf as Json[] | undefined) ?? [payload]).map((entry) => entry.$ref);
  const fields = new Set<string>();
  for (const ref of refs) {
    const schema = document.components.schemas[String(ref).split('/').pop()!]!;
    for (const member of (schema.anyOf as Json[] | undefined) ?? [schema]) {
      for (const key of Object.keys((member.properties as Json | undefined) ?? {})) fields.add(key);
    }
  }
  return fields;
}

/** Validates `frame`; returns its type (for the tally). */
function check(frame: Json, where: string): string {
  const type = String(frame.type);
  const validate = validatorOf(type);
  assert.ok(
    validate(frame),
    `${where}: ${JSON.stringify(frame).slice(0, 300)} fails its schema: ${ajv.errorsText(validate.errors)}`,
  );
  const extra = Object.keys(frame).filter((key) => !declared(type).has(key));
  assert.deepEqual(extra, [], `${where}: ${type} frame with undeclared fields`);
  return type;
}

/** A raw WebSocket that checks and tallies every frame (batches too). */
function recorder(url: string) {
  const socket = new WebSocket(url);
  const frames: Json[] = [];
  const types = new Map<string, number>();
  let batches = 0;
  socket.on('message', (data) => {
    const parsed = JSON.parse(String(data)) as Json | Json[];
    if (Array.isArray(parsed)) batches++;
    for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
      const type = check(frame, 'ws');
      types.set(type, (types.get(type) ?? 0) + 1);
      frames.push(frame);
    }
  });
  const opened = new Promise((resolve, reject) =>
    socket.once('open', resolve).once('error', reject),
  );
  return { socket, frames, types, opened, batches: () => batches };
}

/** A streaming SSE reader that checks and tallies every message's `data:` frame. */
function sseRecorder(url: string, token: string) {
  const abort = new AbortController();
  const frames: Json[] = [];
  const types = new Map<string, number>();
  void (async () => {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      text += value;
      const messages = text.split('\n\n');
      text = messages.pop()!;
      for (const message of messages) {
        const lines = message.split('\n');
        const data = lines.find((line) => line.startsWith('data: '));
        if (!data) continue; // `retry:`
        const frame = JSON.parse(data.slice(6)) as Json;
        const type = check(frame, 'sse');
        // `event:` is the frame's type, or the event's name.
        const name = lines.find((line) => line.startsWith('event: '))?.slice(7);
        assert.equal(name, type === 'event' ? frame.event : type);
        types.set(type, (types.get(type) ?? 0) + 1);
        frames.push(frame);
      }
    }
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) throw error;
  });
  return { frames, types, close: () => abort.abort() };
}

async function until(condition: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function publish(server: TestServer, room: string, event: string, payload: unknown) {
  const response = await fetch(`${server.url}/rooms/${room}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${PUBLISH_KEY}` },
    body: JSON.stringify({ event, payload }),
  });
  assert.equal(response.status, 200);
}

describe('every frame the server sends validates against its AsyncAPI document', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ publishKeys: [PUBLISH_KEY] });
  });
  after(() => server.close());

  test('over WebSocket: single frames and batches', async () => {
    const room = 'schema-ws';
    await postWebhook(server, 'meeting:started', meetingStarted(room));
    const ws = recorder(server.wsUrl);
    const batched = recorder(`${server.wsUrl}&batch=1`);
    await Promise.all([ws.opened, batched.opened]);
    for (const { socket } of [ws, batched]) {
      socket.send(JSON.stringify({ type: 'subscribe', room, occupancy: true }));
      socket.send(JSON.stringify({ type: 'rooms', limit: 10 }));
      socket.send(JSON.stringify({ type: 'nope' })); // an error frame
      socket.send(JSON.stringify({ type: 'subscribe', room: 'bad room' })); // one with a code
    }
    await until(() => ws.types.has('subscribed') && batched.types.has('subscribed'), 'subscribed');
    await postWebhook(server, 'peer:joined', peerJoined(room, 'p1'));
    await publish(server, room, 'app:hand-raised', { peerId: 'p1' });
    await until(
      () => ws.frames.filter((f) => f.type === 'event').length >= 2,
      'a webhook event and an app event',
    );
    // A resume: the missed events, then `subscribed` with recovered: true.
    const first = ws.frames.find((f) => f.type === 'subscribed')!;
    ws.socket.send(
      JSON.stringify({
        type: 'subscribe',
        room,
        since: `${first.epoch}:${first.seq}`,
        occupancy: true,
      }),
    );
    await until(
      () => ws.frames.some((f) => f.type === 'subscribed' && f.recovered === true),
      'a recovered resume',
    );
    // Occupancy (at most one a second) and a rooms-feed delta come within a couple of seconds.
    await until(
      () => ws.types.has('occupancy') && (ws.types.get('rooms') ?? 0) >= 2,
      `occupancy and a rooms delta (got ${JSON.stringify([...ws.types])})`,
    );
    for (const type of [
      'heartbeat',
      'snapshot',
      'subscribed',
      'event',
      'error',
      'occupancy',
      'rooms',
    ])
      assert.ok(ws.types.has(type), `no ${type} frame was checked`);
    assert.ok(batched.types.has('snapshot'));
    ws.socket.terminate();
    batched.socket.terminate();
  });

  test('over SSE: one room and several', async () => {
    const room = 'schema-sse';
    await postWebhook(server, 'meeting:started', meetingStarted(room));
    const single = sseRecorder(`${server.url}/rooms/${room}/events?occupancy=1`, server.token);
    // A token for this room only: the other room of the stream is refused inside it (FORBIDDEN).
    const limited = await testToken([room]);
    const multi = sseRecorder(`${server.url}/events?room=${room}&room=elsewhere`, limited);
    await until(
      () => single.types.has('subscribed') && multi.types.has('subscribed'),
      'subscribed streams',
    );
    await postWebhook(server, 'peer:joined', peerJoined(room, 'p2'));
    await publish(server, room, 'app:poll-opened', { question: 'lunch?' });
    await until(
      () =>
        single.frames.filter((f) => f.type === 'event').length >= 2 &&
        multi.frames.filter((f) => f.type === 'event').length >= 2,
      'events on both streams',
    );
    await until(() => single.types.has('occupancy'), 'occupancy');
    for (const type of ['heartbeat', 'snapshot', 'subscribed', 'event', 'occupancy'])
      assert.ok(single.types.has(type), `no ${type} message was checked`);
    assert.ok(multi.types.has('error'), 'the refused room is an error frame');
    single.close();
    multi.close();
  });
});
