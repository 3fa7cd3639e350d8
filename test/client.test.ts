/**
 * @roomcast/client in Node against the real server (the `ws` WebSocket and the `eventsource`
 * EventSource passed in): live events, resume after a cut with no gap and no duplicate, resync
 * after history loss, token refresh over the open socket, backoff, and `auto` falling back to SSE.
 */
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { EventSource } from 'eventsource';
import { createClient } from '../client/src/index.ts';
import type { ClientOptions, EventMeta } from '../client/src/index.ts';
import { backoffDelay } from '../client/src/backoff.ts';
import { meetingStarted, peerJoined, peerLeft } from './helpers/payloads.ts';
import { postWebhook, startServer, testToken } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 8000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Counts sockets opened through it. */
function countingWebSocket() {
  const counter = { opened: 0 };
  class Counting extends WebSocket {
    constructor(url: string) {
      super(url);
      counter.opened++;
    }
  }
  return { counter, WebSocket: Counting as unknown as typeof globalThis.WebSocket };
}

const nodeTransports = {
  WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  EventSource: EventSource as unknown as typeof globalThis.EventSource,
};

function clientFor(server: TestServer, options: Partial<ClientOptions> = {}) {
  return createClient({ url: server.url, token: server.token, ...nodeTransports, ...options });
}

/** Ends every WebSocket the server holds, as a network cut would. */
function cutWebSockets(server: TestServer) {
  for (const socket of server.app.websocketServer.clients) socket.terminate();
}

describe('client over WebSocket', () => {
  test('live events, typed handlers, state kept with the reducer', async () => {
    const server = await startServer();
    const client = clientFor(server);
    try {
      const room = client.room('c-live');
      const joined: string[] = [];
      const all: number[] = [];
      room.on('peer:joined', (payload, meta) => joined.push(`${payload.id}@${meta.seq}`));
      room.on('*', (event) => all.push(event.meta.seq));
      await until(() => room.status === 'live', 5000, 'live');
      await postWebhook(server, 'meeting:started', meetingStarted('c-live'));
      await postWebhook(server, 'peer:joined', peerJoined('c-live', 'p1'));
      await postWebhook(server, 'peer:joined', peerJoined('c-live', 'p2'));
      await postWebhook(server, 'peer:left', peerLeft('c-live', 'p1'));
      await until(() => all.length === 4);
      assert.deepEqual(joined, ['p1@2', 'p2@3']);
      assert.deepEqual(Object.keys(room.state!.peers), ['p2']);
      assert.equal(room.state!.meeting.active, true);
      assert.equal(room.getSnapshot(), room.state);
      assert.equal(room.lastEvent?.event, 'peer:left');
      assert.equal(client.transport, 'websocket');
    } finally {
      client.close();
      await server.close();
    }
  });

  test('resume after the server cuts the socket: no gap, no duplicate, recovered', async () => {
    const server = await startServer();
    const client = clientFor(server);
    try {
      const room = client.room('c-resume');
      const seqs: number[] = [];
      const statuses: string[] = [];
      room.on('*', (event) => seqs.push(event.meta.seq));
      room.on('status', (status) => statuses.push(status));
      await until(() => room.status === 'live');
      for (let i = 0; i < 5; i++)
        await postWebhook(server, 'peer:joined', peerJoined('c-resume', `a${i}`));
      await until(() => seqs.length === 5);
      cutWebSockets(server);
      for (let i = 0; i < 5; i++)
        await postWebhook(server, 'peer:joined', peerJoined('c-resume', `b${i}`));
      await until(() => seqs.length === 10, 10_000, 'the missed events');
      for (let i = 0; i < 3; i++)
        await postWebhook(server, 'peer:joined', peerJoined('c-resume', `c${i}`));
      await until(() => seqs.length === 13);
      assert.deepEqual(
        seqs,
        Array.from({ length: 13 }, (_, i) => i + 1),
      );
      assert.equal(room.recovered, true);
      assert.ok(statuses.includes('connecting') && statuses.at(-1) === 'live', statuses.join());
      assert.equal(Object.keys(room.state!.peers).length, 13);
    } finally {
      client.close();
      await server.close();
    }
  });

  test('after history loss a snapshot replaces the state and fires resync', async () => {
    const server = await startServer({ historySize: 2 });
    const client = clientFor(server);
    try {
      const room = client.room('c-resync');
      const seqs: number[] = [];
      let resyncs = 0;
      room.on('*', (event) => seqs.push(event.meta.seq));
      room.on('resync', () => resyncs++);
      await until(() => room.status === 'live');
      await postWebhook(server, 'peer:joined', peerJoined('c-resync', 'first'));
      await until(() => seqs.length === 1);
      cutWebSockets(server);
      for (let i = 0; i < 6; i++)
        await postWebhook(server, 'peer:joined', peerJoined('c-resync', `p${i}`));
      await until(() => resyncs === 1 && room.status === 'live', 10_000, 'the resync');
      assert.equal(room.recovered, false);
      assert.equal(Object.keys(room.state!.peers).length, 7);
      await postWebhook(server, 'peer:joined', peerJoined('c-resync', 'after'));
      await until(() => seqs.at(-1) === 8);
      assert.deepEqual(seqs, [1, 8], 'no handler saw an event twice; the gap came as a snapshot');
    } finally {
      client.close();
      await server.close();
    }
  });

  test('tokens are refreshed over the open socket, with no reconnect and no gap', async () => {
    const server = await startServer();
    const { counter, WebSocket: Counting } = countingWebSocket();
    let fetched = 0;
    const client = createClient({
      url: server.url,
      getToken: () => {
        fetched++;
        return testToken(['*'], 3); // refreshed half-way through its life
      },
      ...nodeTransports,
      WebSocket: Counting,
    });
    try {
      const room = client.room('c-refresh');
      const seqs: number[] = [];
      room.on('*', (event) => seqs.push(event.meta.seq));
      await until(() => room.status === 'live');
      for (let i = 0; i < 8; i++) {
        await postWebhook(server, 'peer:joined', peerJoined('c-refresh', `p${i}`));
        await sleep(500);
      }
      await until(() => seqs.length === 8);
      assert.ok(fetched >= 3, `tokens fetched: ${fetched}`);
      assert.equal(counter.opened, 1, 'one socket all along');
      assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      client.close();
      await server.close();
    }
  });

  test('an expired token is replaced after TOKEN_EXPIRED or 4001', async () => {
    const server = await startServer({ tokenGrace: 300 });
    let fetched = 0;
    const client = createClient({
      url: server.url,
      // The first token is short; the client is told TOKEN_EXPIRED and fetches another.
      getToken: () => testToken(['*'], ++fetched === 1 ? 2 : 3600),
      ...nodeTransports,
    });
    try {
      const room = client.room('c-expiry');
      const seqs: number[] = [];
      room.on('*', (event) => seqs.push(event.meta.seq));
      await until(() => room.status === 'live');
      await sleep(3500);
      await postWebhook(server, 'peer:joined', peerJoined('c-expiry', 'p'));
      await until(() => seqs.length === 1);
      assert.ok(fetched >= 2);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('README example: peer joined toasts', () => {
  test('shows a toast with the display name when a peer joins', async () => {
    const { showJoinToasts } = await import('../docs/examples/peer-joined-toast.ts');
    const server = await startServer();
    const toasts: string[] = [];
    const stop = showJoinToasts('toasts', (text) => toasts.push(text), {
      url: server.url,
      token: server.token,
      getToken: undefined,
      ...nodeTransports,
    });
    try {
      await sleep(300);
      await postWebhook(
        server,
        'peer:joined',
        peerJoined('toasts', 'p1', undefined, undefined, { metadata: '{"displayName":"Ada"}' }),
      );
      await until(() => toasts.length === 1);
      assert.deepEqual(toasts, ['Ada joined']);
    } finally {
      stop();
      await server.close();
    }
  });
});

describe('backoff', () => {
  test('reconnect attempts follow the backoff under fake timers; 1012 retries at once', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    t.mock.method(Math, 'random', () => 1); // the top of each jitter range, so delays are exact
    const attempts: number[] = [];
    let nextCloseCode = 1006;
    /** A WebSocket that never opens: each attempt closes with `nextCloseCode`. */
    class NeverOpens {
      readyState = 0;
      onclose?: (event: { code: number }) => void;
      constructor() {
        attempts.push(attempts.length);
        queueMicrotask(() => this.onclose?.({ code: nextCloseCode }));
      }
      send() {}
      close() {}
    }
    const flush = async () => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    const client = createClient({
      url: 'http://127.0.0.1:9',
      token: 'token',
      transport: 'websocket',
      WebSocket: NeverOpens as unknown as typeof globalThis.WebSocket,
    });
    client.room('r');
    await flush();
    assert.equal(attempts.length, 1);
    for (const delay of [500, 1000, 2000, 4000, 8000, 16_000, 20_000, 20_000]) {
      t.mock.timers.tick(delay - 1);
      await flush();
      const before: number = attempts.length;
      t.mock.timers.tick(1);
      await flush();
      assert.equal(attempts.length, before + 1, `an attempt exactly ${delay} ms later`);
    }
    nextCloseCode = 1012; // server restart: reconnect at once
    t.mock.timers.tick(20_000);
    await flush();
    const afterRestart = attempts.length;
    t.mock.timers.tick(0);
    await flush();
    assert.ok(attempts.length > afterRestart, 'a 1012 close is retried without waiting');
    client.close();
  });

  test('full jitter from 0.5 s, doubling, capped at 20 s', () => {
    assert.equal(
      backoffDelay(0, 500, 20_000, () => 1),
      500,
    );
    assert.equal(
      backoffDelay(3, 500, 20_000, () => 1),
      4000,
    );
    assert.equal(
      backoffDelay(10, 500, 20_000, () => 1),
      20_000,
    );
    assert.equal(
      backoffDelay(5, 500, 20_000, () => 0),
      0,
    );
    for (let attempt = 0; attempt < 12; attempt++) {
      const delay = backoffDelay(attempt);
      assert.ok(delay >= 0 && delay <= Math.min(20_000, 500 * 2 ** attempt));
    }
  });
});

describe('client over SSE', () => {
  test('transport sse: one multi-room stream, resume after a cut', async () => {
    const server = await startServer();
    const client = clientFor(server, { transport: 'sse' });
    try {
      const a = client.room('s-a');
      const b = client.room('s-b');
      const got: string[] = [];
      for (const room of [a, b])
        room.on('*', (event: { meta: EventMeta }) =>
          got.push(`${event.meta.room}:${event.meta.seq}`),
        );
      await until(() => a.status === 'live' && b.status === 'live');
      await postWebhook(server, 'peer:joined', peerJoined('s-a', 'x'));
      await postWebhook(server, 'peer:joined', peerJoined('s-b', 'y'));
      await until(() => got.length === 2);
      assert.equal(client.transport, 'sse');
      // Cut every HTTP connection: the EventSource reconnects with its Last-Event-ID.
      server.app.server.closeAllConnections();
      await sleep(100); // let the test's own keep-alive connection notice it was cut too
      await postWebhook(server, 'peer:joined', peerJoined('s-a', 'x2'));
      await postWebhook(server, 'peer:joined', peerJoined('s-b', 'y2'));
      await until(() => got.length === 4, 10_000, 'the events sent during the cut');
      await sleep(100);
      assert.deepEqual(got.sort(), ['s-a:1', 's-a:2', 's-b:1', 's-b:2']);
      assert.equal(a.recovered && b.recovered, true);
    } finally {
      client.close();
      await server.close();
    }
  });

  test('auto falls back to SSE when the WebSocket upgrade is refused', async () => {
    const server = await startServer();
    const target = new URL(server.url);
    // A proxy that forwards HTTP (so SSE works) and refuses every WebSocket upgrade.
    const proxy: Server = createServer((incoming, outgoing) => {
      const forward = request(
        {
          host: target.hostname,
          port: target.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (response) => {
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(outgoing);
        },
      );
      incoming.pipe(forward);
      outgoing.on('close', () => forward.destroy());
    });
    proxy.on('upgrade', (_request, socket) =>
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n'),
    );
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const client = createClient({
      url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
      token: server.token,
      ...nodeTransports,
    });
    try {
      const room = client.room('fallback');
      const seqs: number[] = [];
      room.on('*', (event) => seqs.push(event.meta.seq));
      await until(() => room.status === 'live', 8000, 'live over SSE');
      await postWebhook(server, 'peer:joined', peerJoined('fallback', 'p'));
      await until(() => seqs.length === 1);
      assert.equal(client.transport, 'sse');
    } finally {
      client.close();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      await server.close();
    }
  });
});
