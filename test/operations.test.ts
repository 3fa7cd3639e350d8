/**
 * Operations: metrics after known traffic, readiness while draining, graceful shutdown of a
 * real `roomcast serve` with 1,000 WS and 100 SSE subscribers, config sources, the AsyncAPI
 * document, and the tail / simulate commands against a real server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { emptyRoomState, reduceRoom } from '../shared/src/index.ts';
import type { RoomEvent, RoomState } from '../shared/src/index.ts';
import { asyncApiDocument } from '../server/src/asyncapi.ts';
import { loadServeConfig } from '../server/src/config-sources.ts';
import { connect } from './helpers/ws-client.ts';
import { TestEventSource } from './helpers/sse-client.ts';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { parseMetrics, sample } from './helpers/metrics.ts';
import { TEST_KEY, TEST_SECRET, postWebhook, startServer, testToken } from './helpers/server.ts';
import { startNode } from './helpers/node-process.ts';
import { until } from './helpers/wait.ts';

const BIN = fileURLToPath(new URL('../server/bin/roomcast.js', import.meta.url));

describe('metrics', () => {
  test('each counter moves by what the traffic did', async (t) => {
    const server = await startServer({ historySize: 5, maxConnectionsPerIp: 4 });
    try {
      const scrape = async () => parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
      const before = await scrape();
      const ws = await connect(server.wsUrl);
      t.after(() => ws.close());
      ws.send({ type: 'subscribe', room: 'm' });
      await ws.subscribed('m');
      const sse = new TestEventSource(server.authed('/rooms/m/events'));
      t.after(() => sse.close());
      await sse.until((messages) => messages.some((m) => m.type === 'subscribed'));
      await postWebhook(server, 'meeting:started', meetingStarted('m'), { id: 'metrics-dup' });
      await postWebhook(server, 'meeting:started', meetingStarted('m'), { id: 'metrics-dup' });
      await postWebhook(server, 'peer:joined', peerJoined('m', 'p1'));
      await postWebhook(server, 'room:unknown', {});
      await postWebhook(server, 'peer:joined', peerJoined('m', 'p2'), { key: 'wrong' });
      await ws.until((frames) => frames.filter((f) => f.type === 'event').length === 2);
      await sse.until(() => sse.events().length === 2);
      // A resume inside history and one outside it.
      const resumed = await connect(server.wsUrl);
      t.after(() => resumed.close());
      const epoch = String(ws.frames[0]!.epoch);
      resumed.send({ type: 'subscribe', room: 'm', since: `${epoch}:1` });
      resumed.send({ type: 'subscribe', room: 'm2', since: 'otherEpoch:3' });
      await resumed.subscribed('m');
      await resumed.subscribed('m2');
      // Two more connections hit the per-IP limit of 4 (ws, sse, resumed, + 1 allowed).
      const extra = await connect(server.wsUrl);
      t.after(() => extra.close());
      await connect(server.wsUrl).catch(() => undefined);

      const after = await scrape();
      const delta = (name: string, labels?: Record<string, string>) =>
        sample(after, name, labels) - sample(before, name, labels);
      assert.equal(
        delta('roomcast_webhooks_total', { event: 'meeting:started', outcome: 'appended' }),
        1,
      );
      assert.equal(
        delta('roomcast_webhooks_total', { event: 'meeting:started', outcome: 'duplicate' }),
        1,
      );
      assert.equal(
        delta('roomcast_webhooks_total', { event: 'peer:joined', outcome: 'appended' }),
        1,
      );
      assert.equal(
        delta('roomcast_webhooks_total', { event: 'unknown', outcome: 'dead-letter' }),
        1,
      );
      assert.equal(delta('roomcast_webhooks_total', { event: 'unknown', outcome: 'refused' }), 1);
      assert.equal(
        delta('roomcast_verification_failures_total', { reason: 'SIGNATURE_INVALID' }),
        1,
      );
      assert.equal(sample(after, 'roomcast_connections', { transport: 'ws' }), 3);
      assert.equal(sample(after, 'roomcast_connections', { transport: 'sse' }), 1);
      assert.equal(sample(after, 'roomcast_subscriptions'), 4);
      assert.equal(sample(after, 'roomcast_active_rooms'), 2);
      assert.equal(delta('roomcast_deliveries_total'), 2 + 2 + 1); // ws, sse, and the resumed replay of seq 2
      assert.equal(delta('roomcast_resumes_total', { outcome: 'recovered' }), 1);
      assert.equal(delta('roomcast_resumes_total', { outcome: 'snapshot' }), 1);
      assert.equal(delta('roomcast_drops_total', { reason: 'limit_ip' }), 1);
      assert.equal(delta('roomcast_fanout_latency_seconds_count'), 2);
      assert.ok(after.has('process_resident_memory_bytes'), 'default process metrics');
      assert.ok(
        [...after.keys()].some((key) => key.startsWith('nodejs_eventloop_lag')),
        'event-loop metrics',
      );
      for (const client of [ws, resumed, extra]) client.close();
      sse.close();
    } finally {
      await server.close();
    }
  });
});

describe('readiness and draining', () => {
  test('drain: readyz fails at once, new subscribers get 503, open ones stay until close', async (t) => {
    const server = await startServer();
    try {
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      const open = await connect(server.wsUrl);
      t.after(() => open.close());
      server.app.roomcast.drain();
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { reason: string }).reason, 'draining');
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'still alive');
      const refused = await fetch(server.authed('/rooms/x/events'));
      assert.equal(refused.status, 503);
      assert.equal(
        ((await refused.json()) as { error: { code: string } }).error.code,
        'SHUTTING_DOWN',
      );
      open.send({ type: 'subscribe', room: 'x' });
      await open.subscribed('x');
      open.close();
    } finally {
      await server.close();
    }
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM with 1,000 WS and 100 SSE subscribers: every one told, exit inside the timeout', async (t) => {
    const node = await startNode({ LOG_LEVEL: 'info', ROOMCAST_SHUTDOWN_TIMEOUT: '10s' });
    t.after(() => node.kill());
    const port = Number(new URL(node.url).port);
    const token = await testToken();
    const sockets = [];
    for (let batch = 0; batch < 10; batch++) {
      sockets.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, () => connect(`ws://127.0.0.1:${port}/ws?token=${token}`)),
        )),
      );
    }
    for (const [index, socket] of sockets.entries())
      socket.send({ type: 'subscribe', room: `r${index % 20}` });
    await Promise.all(sockets.map((socket, index) => socket.subscribed(`r${index % 20}`)));
    // Each stream resolves (once open) to a promise of its end; wrapped, since resolving with a
    // promise would wait for that promise instead.
    const streams = await Promise.all(
      Array.from(
        { length: 100 },
        (_, index) =>
          new Promise<{ ended: Promise<void> }>((resolve, reject) => {
            const path = `/rooms/s${index % 10}/events?token=${token}`;
            const req = request({ host: '127.0.0.1', port, path }, (res) => {
              const ended = new Promise<void>((done) =>
                res.on('end', done).on('error', done).on('close', done),
              );
              res.once('data', () => resolve({ ended }));
            });
            req.on('error', reject);
            req.end();
          }),
      ),
    );
    const started = Date.now();
    node.child.kill('SIGTERM');
    const codes = await Promise.all(sockets.map((socket) => socket.closed));
    await Promise.all(streams.map((stream) => stream.ended));
    assert.equal(await node.exited, 0, node.output().slice(-2000));
    const took = Date.now() - started;
    assert.ok(took < 10_000, `shutdown took ${took} ms`);
    assert.deepEqual([...new Set(codes)], [1012]);
    assert.match(node.output(), /"msg":"shut down"/);
  });
});

describe('config sources', () => {
  test('flags over env over file; errors name where the value came from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roomcast-config-'));
    const file = join(dir, 'roomcast.json');
    writeFileSync(file, JSON.stringify({ historySize: 50, port: 4000, host: '0.0.0.0' }));
    const loaded = loadServeConfig(['--config', file, '--port', '5000'], {
      PORT: '4500',
      HOST: '127.0.0.2',
    });
    assert.equal(loaded.help, false);
    if (loaded.help) return;
    assert.equal(loaded.config.port, 5000);
    assert.equal(loaded.config.host, '127.0.0.2');
    assert.equal(loaded.config.historySize, 50);
    assert.throws(
      () => loadServeConfig(['--history-ttl', 'soon'], {}),
      /--history-ttl: expected a duration/,
    );
    assert.throws(
      () => loadServeConfig([], { ROOMCAST_MAX_BUFFERED: 'lots' }),
      /ROOMCAST_MAX_BUFFERED: expected a size/,
    );
    writeFileSync(file, JSON.stringify({ historySize: 0 }));
    assert.throws(() => loadServeConfig(['--config', file], {}), /historySize in .*roomcast\.json/);
    writeFileSync(file, JSON.stringify({ histroySize: 5 }));
    assert.throws(() => loadServeConfig(['--config', file], {}), /unknown option "histroySize"/);
    assert.throws(
      () => loadServeConfig(['--nope'], {}),
      /^ConfigError: unknown option --nope \(see roomcast serve --help\)$/,
    );
  });

  test('serve --help lists every option with its flag, env name and default', () => {
    const loaded = loadServeConfig(['--help'], {});
    assert.equal(loaded.help, true);
    if (!loaded.help) return;
    assert.match(loaded.text, /--history-size <number>\s+ROOMCAST_HISTORY_SIZE\s+1000/);
    assert.match(loaded.text, /--webhook-tolerance <duration>\s+ROOMCAST_WEBHOOK_TOLERANCE\s+5m/);
    assert.match(loaded.text, /--max-buffered <size>\s+ROOMCAST_MAX_BUFFERED\s+1MiB/);
    assert.match(loaded.text, /--shutdown-timeout <duration>\s+ROOMCAST_SHUTDOWN_TIMEOUT\s+10s/);
  });
});

describe('AsyncAPI', () => {
  test('the document validates with the AsyncAPI parser and docs/asyncapi.json is current', async () => {
    const document = asyncApiDocument();
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    const errors = diagnostics.filter((d) => d.severity === 0);
    assert.deepEqual(
      errors.map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`),
      [],
    );
    assert.ok(parsed);
    assert.equal(parsed.channels().length, 5);
    const written = JSON.parse(
      readFileSync(new URL('../docs/asyncapi.json', import.meta.url), 'utf8'),
    );
    assert.deepEqual(
      written,
      document,
      'docs/asyncapi.json is stale: run `npx roomcast asyncapi > docs/asyncapi.json`',
    );
  });

  test('served at /asyncapi.json', async () => {
    const server = await startServer();
    try {
      const body = (await (await fetch(`${server.url}/asyncapi.json`)).json()) as {
        asyncapi: string;
      };
      assert.equal(body.asyncapi, '3.0.0');
    } finally {
      await server.close();
    }
  });
});

function runCli(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return { child, done, output: () => ({ stdout, stderr }) };
}

describe('tail and simulate', () => {
  test('tail prints the event that send fires', async () => {
    const server = await startServer();
    try {
      const tail = runCli(['tail', '--room', 'tail-room', '--url', server.url, '--count', '1'], {
        ROOMCAST_TOKEN_SECRET: TEST_SECRET,
      });
      await until(() => tail.output().stderr.includes('connected'), {
        timeoutMs: 10_000,
        what: 'tail to connect',
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const send = runCli(
        [
          'send',
          'peer:joined',
          '--room',
          'tail-room',
          '--peer',
          'peerId--tail',
          '--url',
          server.url,
        ],
        { HUDDLE01_API_KEY: TEST_KEY },
      );
      assert.equal(await send.done, 0);
      assert.equal(await tail.done, 0);
      const { stdout } = tail.output();
      assert.match(stdout, /tail-room snapshot at #0/);
      assert.match(
        stdout,
        /tail-room #1 peer:joined Ada Lovelace \(peerId--tail\) joined — host, Chrome on desktop/,
      );
    } finally {
      await server.close();
    }
  });

  test('tail runs on the client: a server restart is a reconnect and resume, a refused token ends it', async () => {
    const server = await startServer();
    try {
      const tail = runCli(['tail', '--room', 'tail-resume', '--url', server.url, '--count', '2'], {
        ROOMCAST_TOKEN_SECRET: TEST_SECRET,
      });
      await until(() => tail.output().stdout.includes('snapshot at #0'), {
        timeoutMs: 10_000,
        what: `the snapshot line; tail wrote ${JSON.stringify(tail.output())}`,
      });
      await postWebhook(server, 'peer:joined', peerJoined('tail-resume', 'p1'));
      await until(() => tail.output().stdout.includes('#1 peer:joined'), {
        timeoutMs: 10_000,
        what: `the first event line; tail wrote ${JSON.stringify(tail.output())}`,
      });
      for (const socket of server.app.websocketServer.clients) socket.terminate();
      await until(() => tail.output().stdout.includes('resumed at #1'), {
        timeoutMs: 10_000,
        what: `the resume line; tail wrote ${JSON.stringify(tail.output())}`,
      });
      await postWebhook(server, 'peer:joined', peerJoined('tail-resume', 'p2'));
      assert.equal(await tail.done, 0);
      const { stdout, stderr } = tail.output();
      assert.match(stderr, /disconnected \(NETWORK\); reconnecting/);
      assert.match(stdout, /tail-resume #2 peer:joined/);
      assert.equal(stdout.match(/#1 peer:joined/g)?.length, 1, 'no event twice');

      const refused = runCli(
        ['tail', '--room', 'r', '--url', server.url, '--token', 'not.a.jwt'],
        {},
      );
      assert.equal(await refused.done, 1);
      assert.match(refused.output().stderr, /refused the connection: UNAUTHORIZED/);
    } finally {
      await server.close();
    }
  });

  test('simulate plays meetings whose final state equals the reducer over the log', async (t) => {
    const server = await startServer();
    try {
      const events: Record<string, RoomEvent[]> = {};
      const client = await connect(server.wsUrl);
      t.after(() => client.close());
      for (const room of ['simt-1', 'simt-2']) client.send({ type: 'subscribe', room });
      await client.subscribed('simt-1');
      await client.subscribed('simt-2');
      const simulate = runCli(
        [
          'simulate',
          '--rooms',
          '2',
          '--peers',
          '6',
          '--duration',
          '3s',
          '--seed',
          '42',
          '--prefix',
          'simt',
          '--url',
          server.url,
        ],
        { HUDDLE01_API_KEY: TEST_KEY },
      );
      assert.equal(await simulate.done, 0, simulate.output().stderr);
      assert.match(simulate.output().stderr, /webhooks (\d+)\/\1/);
      for (const room of ['simt-1', 'simt-2']) {
        const snapshot = (await (await server.get(`/rooms/${room}`)).json()) as {
          seq: number;
          state: RoomState;
        };
        await client.until(
          (frames) =>
            frames.filter((f) => f.type === 'event' && f.room === room).length === snapshot.seq,
        );
        events[room] = client.frames
          .filter((f) => f.type === 'event' && f.room === room)
          .map((f) => ({ event: f.event, payload: f.payload }) as RoomEvent);
        let state = emptyRoomState(room);
        for (const event of events[room]!) state = reduceRoom(state, event);
        assert.deepEqual(state.peers, snapshot.state.peers);
        assert.deepEqual(state.meeting, snapshot.state.meeting);
        assert.equal(snapshot.state.meeting.active, false, 'every simulated meeting ends');
        assert.deepEqual(snapshot.state.peers, {}, 'meeting:ended clears the peers');
        assert.ok(events[room]!.some((e) => e.event === 'peer:trackPublished'));
      }
      client.close();
    } finally {
      await server.close();
    }
  });
});
