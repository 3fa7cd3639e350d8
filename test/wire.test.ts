/**
 * The wire: prebuilt WebSocket frames and SSE chunks written once per event (their bytes as real
 * clients parse them), and WebSocket batches: with `?batch=1`, the frames one connection gets within a tick after
 * the first arrive as one JSON array; without it, never.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createServer } from 'node:http';
import { frameWriter, pingedWireOf, textFrame } from '../server/src/transports/ws-wire.ts';
import { heartbeatFrame } from '../server/src/hub/frames.ts';
import { httpChunk, writeSseMessage } from '../server/src/transports/sse-wire.ts';
import { peerJoined } from './helpers/payloads.ts';
import { startServer, webhookId } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';

/** Every message a client gets, parsed, as arrays or single frames. */
async function openRecorder(url: string) {
  const socket = new WebSocket(url);
  const messages: unknown[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const frames = () =>
    messages.flatMap((message) => (Array.isArray(message) ? message : [message]));
  /** The seqs of the event frames received, in order. */
  const eventSeqs = () =>
    frames()
      .filter((f) => (f as { type: string }).type === 'event')
      .map((f) => (f as { seq: number }).seq);
  return { socket, messages, frames, eventSeqs };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('prebuilt WebSocket frames', () => {
  test('a real ws client reads frames of every header size, written directly', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const sizes = [0, 1, 125, 126, 1000, 65_535, 65_536, 200_000];
    const payloads = sizes.map((size, i) =>
      Buffer.from('é'.repeat(size >> 1) + 'x'.repeat(size % 2) + i),
    );
    const direct: boolean[] = [];
    server.on('connection', (socket) => {
      const writer = frameWriter(socket);
      direct.push(writer.direct);
      for (const payload of payloads) writer.write(payload, textFrame(payload));
    });
    const { port } = server.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const received: string[] = [];
    client.on('message', (data, isBinary) => {
      assert.equal(isBinary, false);
      received.push(String(data));
    });
    await waitFor(() => received.length === payloads.length, 'every frame');
    assert.deepEqual(
      received,
      payloads.map((payload) => payload.toString('utf8')),
    );
    // ws 8's sender internals are as expected, so the fast path is the one in use.
    assert.deepEqual(direct, [true]);
    client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('heartbeats on the wire', () => {
  test('a ping and its heartbeat frame are one write to the socket; a real ws client reads both', async (t) => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const beat = heartbeatFrame(25_000);
    const writes: number[] = [];
    server.on('connection', (socket) => {
      const raw = (socket as unknown as { _socket: Socket })._socket;
      const write = raw.write.bind(raw) as (chunk: Buffer) => boolean;
      // Counts the writes (system calls) the pulse makes, and passes them on.
      raw.write = ((chunk: Buffer) => (
        writes.push(chunk.length),
        write(chunk)
      )) as typeof raw.write;
      frameWriter(socket).pingThenWrite(Buffer.from(beat.json), pingedWireOf(beat));
    });
    const { port } = server.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    // The client first: the server's close waits for its connections.
    t.after(async () => {
      client.terminate();
      await new Promise((resolve) => server.close(resolve));
    });
    let pings = 0;
    const received: string[] = [];
    client.on('ping', () => pings++);
    client.on('message', (data) => received.push(String(data)));
    await waitFor(() => received.length === 1 && pings === 1, 'the ping and the beat');
    assert.deepEqual(received, [beat.json]);
    assert.deepEqual(writes, [2 + 2 + beat.json.length]);
  });
});

describe('prebuilt SSE chunks', () => {
  test('fetch reads messages written as prebuilt chunks straight to the socket', async () => {
    const messages = ['data: x\n\n', `data: ${'é'.repeat(40_000)}\n\n`, 'id: e:1\ndata: {}\n\n'];
    const direct: boolean[] = [];
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('retry: 1000\n\n'); // sends the headers, as the SSE routes do
      for (const text of messages) {
        const message = Buffer.from(text);
        direct.push(writeSseMessage(response, message, httpChunk(message)));
      }
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.equal(body, `retry: 1000\n\n${messages.join('')}`);
    assert.deepEqual(direct, [true, true, true]);
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('batches of one tick', () => {
  let server: TestServer;
  before(async () => {
    // These tests count messages: no heartbeat frame among them (a socket's first beat comes at
    // any time within the interval, since the beats of all sockets are spread over it).
    server = await startServer({ pingInterval: 3_600_000 });
  });
  after(() => server.close());

  /** Appends `count` events to `room` in one tick (the memory engine fans out synchronously). */
  function burst(room: string, count: number, from = 0) {
    for (let i = from; i < from + count; i++) {
      void server.app.roomcast.engine.append({
        webhookId: webhookId(),
        event: 'peer:joined',
        payload: peerJoined(room, `p${i}`),
        receivedAt: Date.now(),
      });
    }
  }

  test('with batch=1 a burst arrives as the first frame, then one array; seqs whole', async () => {
    const client = await openRecorder(`${server.wsUrl}&batch=1`);
    client.socket.send(JSON.stringify({ type: 'subscribe', room: 'b-burst' }));
    await waitFor(
      () => client.frames().some((f) => (f as { type: string }).type === 'subscribed'),
      'subscribed',
    );
    const before = client.messages.length;
    burst('b-burst', 50);
    await waitFor(() => client.eventSeqs().length === 50, '50 events');
    const burstMessages = client.messages.slice(before);
    assert.equal(burstMessages.length, 2, 'one message at once, then one batch');
    assert.ok(!Array.isArray(burstMessages[0]));
    assert.ok(Array.isArray(burstMessages[1]) && burstMessages[1].length === 49);
    assert.deepEqual(
      client.eventSeqs(),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    client.socket.terminate();
  });

  test('without batch=1 the same burst comes one frame per message', async () => {
    const client = await openRecorder(server.wsUrl);
    client.socket.send(JSON.stringify({ type: 'subscribe', room: 'b-plain' }));
    await waitFor(
      () => client.messages.some((m) => (m as { type: string }).type === 'subscribed'),
      'subscribed',
    );
    burst('b-plain', 30);
    await waitFor(
      () => client.messages.filter((m) => (m as { type: string }).type === 'event').length === 30,
      '30 events',
    );
    assert.ok(client.messages.every((message) => !Array.isArray(message)));
    client.socket.terminate();
  });

  test('subscribers of a room share one batch; each still gets every frame once', async () => {
    const clients = await Promise.all(
      Array.from({ length: 20 }, () => openRecorder(`${server.wsUrl}&batch=1`)),
    );
    for (const client of clients)
      client.socket.send(JSON.stringify({ type: 'subscribe', room: 'b-many' }));
    await waitFor(
      () =>
        clients.every((c) => c.frames().some((f) => (f as { type: string }).type === 'subscribed')),
      'every subscribed',
    );
    burst('b-many', 10);
    burst('b-many', 10, 10); // a second burst in the same tick joins the same batch
    for (const client of clients) {
      await waitFor(() => client.eventSeqs().length === 20, '20 events');
      assert.deepEqual(
        client.eventSeqs(),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      client.socket.terminate();
    }
  });
});
