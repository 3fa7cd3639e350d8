/**
 * @roomcast/client in Node against the real server (the `ws` WebSocket passed in; SSE through
 * Node's streaming fetch, or the `eventsource` EventSource through eventSourceLink): live
 * events, resume after a cut with no gap and no duplicate, resync after history loss, token
 * refresh over the open socket, backoff, `auto` falling back to SSE and back to WebSocket,
 * the connection state and its terminal paths, dead links, history.
 */
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { Server } from 'node:http';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { EventSource } from 'eventsource';
import { createClient } from '../client/src/index.ts';
import type { ClientOptions, EventMeta, StateChange } from '../client/src/index.ts';
import { eventSourceLink } from '../client/src/event-source-link.ts';
import { openSseLink } from '../client/src/sse-link.ts';
import {
  RESTART_MAX_DELAY,
  RESTART_SPREAD,
  backoffDelay,
  restartDelay,
} from '../client/src/backoff.ts';
import { meetingStarted, peerJoined, peerLeft } from './helpers/payloads.ts';
import { postWebhook, startServer, testToken } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';

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
      // Told TOKEN_EXPIRED (or closed with 4001), the client fetches its next token.
      await until(() => fetched >= 2, 6000, 'a second token');
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
      // A blip (back 3 s after leaving, within the 10 s grace) shows no toast; a return after
      // the grace does (under another name, so a blip's toast could not pass for it).
      const t0 = 1_790_000_000_000;
      const as = (name: string) => ({ metadata: JSON.stringify({ displayName: name }) });
      await postWebhook(server, 'peer:left', peerLeft('toasts', 'p1', t0 + 2000));
      await postWebhook(
        server,
        'peer:joined',
        peerJoined('toasts', 'p1', t0 + 5000, undefined, as('Ada')),
      );
      await postWebhook(server, 'peer:left', peerLeft('toasts', 'p1', t0 + 6000));
      await postWebhook(
        server,
        'peer:joined',
        peerJoined('toasts', 'p1', t0 + 16_000, undefined, as('Ada L')),
      );
      await until(() => toasts.length === 2);
      assert.deepEqual(toasts, ['Ada joined', 'Ada L joined']);
    } finally {
      stop();
      await server.close();
    }
  });
});

describe('presence grace on the client', () => {
  test('a peer that left shows reconnecting, then gone once the grace runs out, with no event', async () => {
    const server = await startServer({ presenceGrace: 1500 });
    const client = clientFor(server);
    try {
      const room = client.room('grace');
      await until(() => room.status === 'live');
      const t0 = Date.now();
      await postWebhook(server, 'peer:joined', peerJoined('grace', 'p1', t0));
      await postWebhook(server, 'peer:left', peerLeft('grace', 'p1', t0 + 1));
      await until(() => room.state?.departed.p1 !== undefined);
      assert.equal(room.state?.presenceGrace, 1500, 'the server tells the grace in the state');
      assert.equal(room.state?.peers.p1, undefined);
      assert.equal(room.state?.reconnecting?.p1?.leftAt, t0 + 1);
      // Nothing else happens in the room: the client's own timer ends the grace.
      await until(() => room.state?.reconnecting === undefined, 6000, 'the grace to run out');
      assert.equal(room.state?.departed.p1, t0 + 1);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('backoff', () => {
  test('reconnect attempts follow the backoff under fake timers, 1012 included', async (t) => {
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
    t.after(() => client.close());
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
    assert.equal(client.state, 'reconnecting');
    nextCloseCode = 1012; // server restart: still backing off, but capped at 5 s (restartDelay)
    t.mock.timers.tick(20_000);
    await flush();
    const afterRestart = attempts.length;
    t.mock.timers.tick(4999);
    await flush();
    assert.equal(attempts.length, afterRestart, 'a 1012 close waits out its backoff too');
    t.mock.timers.tick(1);
    await flush();
    assert.equal(attempts.length, afterRestart + 1, 'at most 5 s once an outage began with 1012');
    client.close();
  });

  test('after a 1012 on a live link: the first try spread over 2 s, then backoff capped at 5 s', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    t.mock.method(Math, 'random', () => 1); // the top of each jitter range, so delays are exact
    let attempts = 0;
    let opens = true;
    /** The first socket opens, is accepted and is closed with 1012; the next ones are refused. */
    class RestartingServer {
      readyState = 0;
      onopen?: () => void;
      onmessage?: (message: { data: string }) => void;
      onclose?: (event: { code: number }) => void;
      constructor() {
        attempts++;
        const accepted = opens;
        opens = false;
        queueMicrotask(() => {
          if (!accepted) return this.onclose?.({ code: 1006 });
          this.readyState = 1;
          this.onopen?.();
          this.onmessage?.({ data: JSON.stringify({ type: 'heartbeat', interval: 25_000 }) });
          queueMicrotask(() => this.onclose?.({ code: 1012 }));
        });
      }
      send() {}
      close() {}
    }
    const flush = async () => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    const changes: StateChange[] = [];
    const client = createClient({
      url: 'http://127.0.0.1:9',
      token: 'token',
      transport: 'websocket',
      WebSocket: RestartingServer as unknown as typeof globalThis.WebSocket,
    });
    client.on('state', (change) => changes.push(change));
    client.room('r');
    await flush();
    assert.equal(attempts, 1);
    assert.deepEqual(
      changes.map(({ state, code }) => [state, code]),
      [
        ['connecting', undefined],
        ['connected', undefined],
        ['reconnecting', 'SERVICE_RESTART'],
      ],
    );
    // RESTART_SPREAD (2 s) for the first, then 1, 2, 4 s and the 5 s cap (not 8, 16, 20 s).
    for (const delay of [2000, 1000, 2000, 4000, 5000, 5000]) {
      t.mock.timers.tick(delay - 1);
      await flush();
      const before: number = attempts;
      t.mock.timers.tick(1);
      await flush();
      assert.equal(attempts, before + 1, `an attempt exactly ${delay} ms later`);
    }
    client.close();
  });

  test('restartDelay: the first try anywhere in [0, 2 s), later ones full jitter up to 5 s', () => {
    assert.equal(
      restartDelay(0, () => 0),
      0,
    );
    assert.equal(
      restartDelay(0, () => 0.5),
      RESTART_SPREAD / 2,
    );
    assert.equal(
      restartDelay(2, () => 1),
      2000,
    );
    assert.equal(
      restartDelay(9, () => 1),
      RESTART_MAX_DELAY,
    );
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
      // Cut every HTTP connection: the stream reconnects with its Last-Event-ID.
      server.app.server.closeAllConnections();
      await sleep(100); // let the test's own keep-alive connection notice it was cut too
      await postWebhook(server, 'peer:joined', peerJoined('s-a', 'x2'));
      await postWebhook(server, 'peer:joined', peerJoined('s-b', 'y2'));
      await until(() => got.length === 4, 10_000, 'the events sent during the cut');
      // Later events are the probe: a duplicate of an earlier one would arrive before them.
      await postWebhook(server, 'meeting:started', meetingStarted('s-a'));
      await postWebhook(server, 'meeting:started', meetingStarted('s-b'));
      await until(() => got.length === 6, 5000, 'the probes');
      assert.deepEqual(got.sort(), ['s-a:1', 's-a:2', 's-a:3', 's-b:1', 's-b:2', 's-b:3']);
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

/** Records a client's state changes as `state` or `state:code`. */
function recordStates(client: ReturnType<typeof createClient>) {
  const seen: string[] = [];
  const changes: StateChange[] = [];
  const stop = client.on('state', (change) => {
    changes.push(change);
    seen.push(change.code ? `${change.state}:${change.code}` : change.state);
  });
  return { seen, changes, stop };
}

describe('connection state', () => {
  test('idle → connecting → connected; on(state) gives previous and transport; unsubscribe', async () => {
    const server = await startServer();
    const { counter, WebSocket: Counting } = countingWebSocket();
    const client = clientFor(server, { WebSocket: Counting });
    try {
      assert.equal(client.state, 'idle');
      const { seen, changes, stop } = recordStates(client);
      const room = client.room('st-basic');
      const second = client.room('st-basic-2'); // while the socket is still connecting
      await until(() => room.status === 'live' && second.status === 'live');
      assert.equal(counter.opened, 1, 'one socket for both rooms');
      second.close();
      assert.deepEqual(seen, ['connecting', 'connected']);
      assert.deepEqual(changes[1], {
        state: 'connected',
        previous: 'connecting',
        code: undefined,
        reason: undefined,
        transport: 'websocket',
      });
      // A cut: reconnecting (with why), then connected again.
      cutWebSockets(server);
      await until(() => seen.length === 4, 8000, 'reconnected');
      assert.deepEqual(seen.slice(2), ['reconnecting:NETWORK', 'connected']);
      stop();
      room.close();
      await until(() => client.state === 'idle', 2000, 'idle after the last room');
      assert.equal(seen.length, 4, 'no change heard after the unsubscribe');
    } finally {
      client.close();
      assert.equal(client.state, 'closed');
      await server.close();
    }
  });

  for (const transport of ['websocket', 'sse'] as const) {
    test(`${transport}: a refused token fails with UNAUTHORIZED and makes no more attempts; setToken leaves failed`, async () => {
      const server = await startServer();
      const { counter, WebSocket: Counting } = countingWebSocket();
      let streams = 0;
      const client = clientFor(server, {
        token: 'not.a.jwt',
        transport,
        WebSocket: Counting,
        sseLink: (...args) => (streams++, openSseLink(...args)),
      });
      try {
        const { seen } = recordStates(client);
        const room = client.room('st-refused');
        await until(() => client.state === 'failed', 5000, 'failed');
        assert.deepEqual(seen, ['connecting', 'failed:UNAUTHORIZED']);
        const attempts = counter.opened + streams;
        await sleep(1500);
        assert.equal(counter.opened + streams, attempts, 'no attempt after failed');
        assert.equal(attempts, 1);
        client.setToken(server.token);
        await until(() => room.status === 'live', 5000, 'live with the new token');
        assert.deepEqual(seen.slice(2), ['connecting', 'connected']);
      } finally {
        client.close();
        await server.close();
      }
    });

    test(`${transport}: an expired token without getToken fails with TOKEN_EXPIRED; with getToken one refresh is tried`, async () => {
      const server = await startServer();
      const expired = await testToken(['*'], -10);
      const alone = clientFor(server, { token: expired, transport });
      let fetched = 0;
      const refreshing = createClient({
        url: server.url,
        transport,
        ...nodeTransports,
        getToken: () => (fetched++, expired), // refreshed, but still expired
      });
      try {
        const a = recordStates(alone);
        const b = recordStates(refreshing);
        alone.room('st-expired');
        refreshing.room('st-expired');
        await until(() => alone.state === 'failed' && refreshing.state === 'failed', 8000);
        assert.deepEqual(a.seen, ['connecting', 'failed:TOKEN_EXPIRED']);
        assert.equal(b.seen.at(-1), 'failed:TOKEN_EXPIRED');
        assert.equal(fetched, 2, 'the first token, then one refresh, then no more');
        await sleep(1000);
        assert.equal(fetched, 2);
        refreshing.reconnect(); // leaves failed: a new attempt (a new token from getToken)
        await until(() => fetched === 3 && refreshing.state === 'failed', 5000);
      } finally {
        alone.close();
        refreshing.close();
        await server.close();
      }
    });

    test(`${transport}: a room the token does not grant is closed with FORBIDDEN; the others carry on`, async () => {
      const server = await startServer();
      const client = clientFor(server, { token: await testToken(['st-ok']), transport });
      try {
        const ok = client.room('st-ok');
        const denied = client.room('st-denied');
        const errors: string[] = [];
        denied.on('error', (error) => errors.push(error.code));
        await until(() => ok.status === 'live' && denied.status === 'closed', 5000);
        assert.deepEqual(errors, ['FORBIDDEN']);
        assert.equal(client.get('st-denied'), undefined, 'the refused room is gone');
        const seqs: number[] = [];
        ok.on('*', (event) => seqs.push(event.meta.seq));
        await postWebhook(server, 'peer:joined', peerJoined('st-ok', 'p'));
        await until(() => seqs.length === 1);
        assert.equal(client.state, 'connected');
      } finally {
        client.close();
        await server.close();
      }
    });

    test(`${transport}: a token granting none of the rooms closes each with FORBIDDEN`, async () => {
      const server = await startServer();
      const client = clientFor(server, { token: await testToken(['other']), transport });
      try {
        const room = client.room('st-none');
        const errors: string[] = [];
        room.on('error', (error) => errors.push(error.code));
        await until(() => room.status === 'closed', 5000);
        assert.deepEqual(errors, ['FORBIDDEN']);
        await until(() => client.state === 'idle', 2000);
      } finally {
        client.close();
        await server.close();
      }
    });
  }

  test('eventSourceLink: SSE through EventSource where streaming fetch is missing', async () => {
    const server = await startServer();
    const client = clientFor(server, {
      transport: 'sse',
      sseLink: eventSourceLink(EventSource as unknown as typeof globalThis.EventSource),
    });
    try {
      const room = client.room('st-es', { occupancy: true });
      const seqs: number[] = [];
      room.on('*', (event) => seqs.push(event.meta.seq));
      await until(() => room.status === 'live' && client.state === 'connected');
      await postWebhook(server, 'peer:joined', peerJoined('st-es', 'p'));
      await until(() => seqs.length === 1);
      assert.deepEqual(seqs, [1]);
      assert.equal(client.transport, 'sse');
      assert.deepEqual(Object.keys(room.state?.peers ?? {}), ['p'], 'the event is in the state');
      await until(() => room.occupancy === 1, 8000, 'the occupancy frame');
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('history', () => {
  test('room.history({limit}) gives the last events, newest last, with the token rules of the snapshot', async (t) => {
    const server = await startServer();
    const client = clientFor(server);
    try {
      for (let i = 0; i < 5; i++)
        await postWebhook(server, 'peer:joined', peerJoined('h-room', `p${i}`));
      const page = await client.room('h-room').history({ limit: 3 });
      assert.equal(page.roomId, 'h-room');
      assert.deepEqual(
        page.events.map((event) => event.seq),
        [3, 4, 5],
      );
      assert.ok(page.events.every((event) => event.type === 'event' && event.epoch === page.epoch));
      const denied = clientFor(server, { token: await testToken(['other']) });
      t.after(() => denied.close());
      await assert.rejects(denied.room('h-room').history(), { code: 'FORBIDDEN' });
      denied.close();
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('dead links', () => {
  for (const transport of ['websocket', 'sse'] as const) {
    test(`${transport}: a black-holed link is dropped within 2× the heartbeat, then resumed without loss or duplicate`, async () => {
      const heartbeat = 300;
      const server = await startServer({ pingInterval: heartbeat, sseHeartbeat: heartbeat });
      const proxy = await startTcpProxy(server.url);
      const client = createClient({
        url: proxy.url,
        token: server.token,
        transport,
        ...nodeTransports,
      });
      try {
        const { changes } = recordStates(client);
        const room = client.room(`dead-${transport}`);
        const seqs: number[] = [];
        room.on('*', (event) => seqs.push(event.meta.seq));
        await until(() => room.status === 'live');
        await postWebhook(server, 'peer:joined', peerJoined(room.id, 'before'));
        await until(() => seqs.length === 1);
        await sleep(heartbeat); // a heartbeat or two went through: the client knows the interval
        const cutAt = Date.now();
        proxy.blackhole();
        await postWebhook(server, 'peer:joined', peerJoined(room.id, 'during'));
        await until(() => client.state === 'reconnecting', 4 * heartbeat + 2000, 'noticed');
        const noticed = Date.now() - cutAt;
        const lost = changes.at(-1)!;
        assert.equal(lost.code, 'HEARTBEAT_TIMEOUT');
        await until(() => client.state === 'connected' && room.status === 'live', 5000, 'resumed');
        await postWebhook(server, 'peer:joined', peerJoined(room.id, 'after'));
        await until(() => seqs.length === 3);
        // A later event is the probe: a duplicate of an earlier one would arrive before it.
        await postWebhook(server, 'meeting:started', meetingStarted(room.id));
        await until(() => seqs.length === 4, 5000, 'the probe');
        assert.deepEqual(seqs, [1, 2, 3, 4], 'each event once, in order');
        assert.equal(room.recovered, true, 'resumed, no snapshot');
        console.log(
          `${transport}: black hole noticed after ${noticed} ms (heartbeat ${heartbeat} ms)`,
        );
        // 2× the heartbeat after the last byte, which came at most one heartbeat before the
        // black hole, plus timer slack.
        assert.ok(noticed <= 3 * heartbeat + 500, `noticed after ${noticed} ms`);
      } finally {
        client.close();
        await proxy.close();
        await server.close();
      }
    });
  }
});

describe('WebSocket again after an SSE fallback', () => {
  test('auto: WebSocket is retried later and takes the rooms over when it connects', async () => {
    const server = await startServer();
    const target = new URL(server.url);
    let refuse = true;
    // Forwards HTTP, and WebSocket upgrades only once `refuse` is false.
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
    proxy.on('upgrade', (incoming, socket, head) => {
      if (refuse) return socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      const upstream = netConnect(Number(target.port), target.hostname, () => {
        const lines = [`${incoming.method} ${incoming.url} HTTP/1.1`];
        for (let i = 0; i < incoming.rawHeaders.length; i += 2)
          lines.push(`${incoming.rawHeaders[i]}: ${incoming.rawHeaders[i + 1]}`);
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
        upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const client = createClient({
      url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
      token: server.token,
      retryWebSocketAfter: 300,
      ...nodeTransports,
    });
    try {
      const { seen } = recordStates(client);
      const room = client.room('ws-again');
      const seqs: number[] = [];
      room.on('*', (event) => seqs.push(event.meta.seq));
      await until(
        () => room.status === 'live' && client.transport === 'sse',
        8000,
        'live over SSE',
      );
      await postWebhook(server, 'peer:joined', peerJoined('ws-again', 'p1'));
      await until(() => seqs.length === 1);
      await sleep(700); // a retry or two, refused: still on SSE, nothing lost
      assert.equal(client.transport, 'sse');
      refuse = false;
      await until(() => client.transport === 'websocket', 5000, 'back on WebSocket');
      await until(() => server.app.websocketServer.clients.size === 1, 2000);
      await postWebhook(server, 'peer:joined', peerJoined('ws-again', 'p2'));
      await until(() => seqs.length === 2);
      // A later event is the probe: a duplicate of an earlier one would arrive before it.
      await postWebhook(server, 'meeting:started', meetingStarted('ws-again'));
      await until(() => seqs.length === 3, 5000, 'the probe');
      assert.deepEqual(seqs, [1, 2, 3]);
      assert.deepEqual(seen, ['connecting', 'connected'], 'the move is not a reconnect');
      assert.equal(room.status, 'live');
    } finally {
      client.close();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      await server.close();
    }
  });
});
