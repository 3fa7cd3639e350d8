/**
 * The smaller holes found by attacking the server, through real sockets (docs/reliability.md,
 * "Attacks"): dead letters that grew with what was posted, token parameters logged in clear,
 * an expired WebSocket token still used, HEAD on a stream, tokens that live for ever, rooms
 * held unseen by the gauges, numeric webhook ids that collapse.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { configFromEnv } from '../server/src/config.ts';
import { roomcast } from '../server/src/plugin.ts';
import { signRawWebhook } from '../server/src/webhooks/sign-webhook.ts';
import { meetingStarted } from './helpers/payloads.ts';
import { connect } from './helpers/ws-client.ts';
import { parseMetrics, sample } from './helpers/metrics.ts';
import {
  TEST_KEY,
  TEST_SECRET,
  postWebhook,
  startServer,
  testToken,
  webhookId,
  startLoggedServer,
} from './helpers/server.ts';
import { gaugesBackToZero, stillServes } from './helpers/attack.ts';
import { until } from './helpers/wait.ts';

describe('attack: dead letters as a memory sink (item 7)', () => {
  test('each dead letter keeps its body only up to 1 KiB (and its size); the route is paged', async () => {
    const server = await startServer();
    try {
      const pad = 'x'.repeat(100_000);
      for (let i = 0; i < 12; i++) {
        const answer = await postWebhook(server, `room:unknown-${i}`, { roomId: 'x', pad });
        assert.equal(answer.status, 202);
      }
      const response = await server.get('/admin/dead-letters');
      const text = await response.text();
      assert.ok(
        text.length < 12 * 2048,
        `the list is ${text.length} bytes for 12 letters of 100 KB`,
      );
      const { deadLetters, next } = JSON.parse(text) as {
        deadLetters: Array<{
          body?: unknown;
          bodyExcerpt?: string;
          bodyBytes: number;
          event: string;
        }>;
        next?: number;
      };
      assert.equal(deadLetters.length, 12);
      assert.equal(next, undefined);
      assert.equal(deadLetters[0]!.event, 'room:unknown-11', 'newest first');
      assert.equal(deadLetters[0]!.body, undefined);
      assert.equal(deadLetters[0]!.bodyExcerpt!.length, 1024);
      assert.ok(deadLetters[0]!.bodyBytes > 100_000);
      // A small one is kept whole.
      await postWebhook(server, 'room:small', { roomId: 'x' });
      // Pages.
      const page = (await (await server.get('/admin/dead-letters?limit=5&offset=5')).json()) as {
        deadLetters: Array<{ event: string; body?: { event: string } }>;
        next?: number;
      };
      assert.deepEqual(
        page.deadLetters.map((letter) => letter.event),
        ['room:unknown-7', 'room:unknown-6', 'room:unknown-5', 'room:unknown-4', 'room:unknown-3'],
      );
      assert.equal(page.next, 10);
      const first = (await (await server.get('/admin/dead-letters?limit=1')).json()) as {
        deadLetters: Array<{ body?: { event: string } }>;
      };
      assert.equal(first.deadLetters[0]!.body?.event, 'room:small');
      assert.equal((await server.get('/admin/dead-letters?limit=5000')).status, 400);
      await stillServes(server.wsUrl);
    } finally {
      await server.close();
    }
  });
});

describe('smaller holes (item 8)', () => {
  test('percent-encoded token parameter names are redacted in the logs too', async () => {
    const server = await startLoggedServer();
    const { url } = server;
    try {
      const token = await testToken(['redact']);
      for (const name of ['%74oken', 'to%6Ben', 'TOKEN', 'token']) {
        const response = await fetch(`${url}/rooms/redact?${name}=${token}`);
        assert.equal(response.status, name === 'TOKEN' ? 401 : 200, name);
        await response.body?.cancel();
      }
      await until(() => server.logs().includes('[REDACTED]'), { what: 'a redacted log line' });
      assert.ok(!server.logs().includes(token), 'no token in the log lines');
    } finally {
      await server.close();
    }
  });

  test('a WebSocket whose token expired may only refresh during the grace, not subscribe', async (t) => {
    const server = await startServer({ tokenGrace: '10s' });
    try {
      const client = await connect(`${server.bareWsUrl}?token=${await testToken(['*'], 1)}`);
      t.after(() => client.close());
      client.send({ type: 'subscribe', room: 'before' });
      await client.subscribed('before');
      await client.until((frames) => frames.some((f) => f.code === 'TOKEN_EXPIRED'), 5000);
      client.send({ type: 'subscribe', room: 'after-expiry' });
      await client.until((frames) =>
        frames.some((f) => f.code === 'TOKEN_EXPIRED' && f.room === 'after-expiry'),
      );
      client.send({ type: 'auth', token: await testToken() });
      client.send({ type: 'subscribe', room: 'after-refresh' });
      await client.subscribed('after-refresh');
      // The later subscribe's answer is the probe: a snapshot of the refused room comes before it.
      assert.equal(client.of('after-expiry', 'snapshot').length, 0, 'no room for an expired token');
      assert.equal(
        client.of('after-expiry', 'subscribed').length,
        0,
        'no room for an expired token',
      );
      client.close();
      await client.closed;
      await gaugesBackToZero(server.url);
    } finally {
      await server.close();
    }
  });

  test('HEAD on the SSE routes answers at once, with the checks of a GET, and opens nothing', async () => {
    const server = await startServer();
    try {
      for (const path of ['/rooms/head/events', '/events?room=head&room=other']) {
        const response = await fetch(server.authed(path), {
          method: 'HEAD',
          signal: AbortSignal.timeout(2000),
        });
        assert.equal(response.status, 200, path);
        assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
        const refused = await fetch(`${server.url}${path}`, {
          method: 'HEAD',
          signal: AbortSignal.timeout(2000),
        });
        assert.equal(refused.status, 401);
      }
      await gaugesBackToZero(server.url);
    } finally {
      await server.close();
    }
  });

  test('ROOMCAST_MAX_TOKEN_TTL (default 24 h): a token living longer is refused', async () => {
    const server = await startServer();
    try {
      const long = await testToken(['*'], '25h');
      const sse = await fetch(server.authed('/rooms/ttl/events', long));
      assert.equal(sse.status, 401);
      assert.match(
        ((await sse.json()) as { error: { message: string } }).error.message,
        /ROOMCAST_MAX_TOKEN_TTL/,
      );
      await connect(`${server.bareWsUrl}?token=${long}`).then(
        () => assert.fail('upgrade accepted'),
        (error: Error) => assert.match(error.message, /401/),
      );
      const day = await fetch(server.authed('/rooms/ttl', await testToken(['*'], '24h')));
      assert.equal(day.status, 200);
      await day.body?.cancel();
    } finally {
      await server.close();
    }
    const shorter = await startServer({ maxTokenTtl: '1h' });
    try {
      assert.equal(
        (await fetch(shorter.authed('/rooms/ttl', await testToken(['*'], '2h')))).status,
        401,
      );
    } finally {
      await shorter.close();
    }
  });

  test('rooms held without subscribers show in roomcast_rooms_held; active rooms count subscribed ones', async (t) => {
    const server = await startServer();
    try {
      for (let i = 0; i < 200; i++)
        await postWebhook(server, 'meeting:started', meetingStarted(`held-${i}`));
      const client = await connect(server.wsUrl);
      t.after(() => client.close());
      client.send({ type: 'subscribe', room: 'held-0' });
      client.send({ type: 'subscribe', room: 'watched-only' });
      await client.subscribed('held-0');
      await client.subscribed('watched-only');
      const samples = parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
      assert.equal(sample(samples, 'roomcast_rooms_held'), 201);
      assert.equal(sample(samples, 'roomcast_active_rooms'), 2);
      client.close();
      await client.closed;
      await gaugesBackToZero(server.url);
    } finally {
      await server.close();
    }
  });

  test('numeric webhook ids past 2^53 are told apart: dedup on the id as written', async (t) => {
    const server = await startServer();
    try {
      const post = async (idText: string) => {
        const raw = `{"id":${idText},"event":"meeting:started","payload":${JSON.stringify(meetingStarted('big-ids'))}}`;
        const signed = `${JSON.parse(raw).id}`; // the SDK signs the parsed id
        return postWebhook(server, '', null, {
          raw,
          header: signRawWebhook(raw, signed, TEST_KEY),
        });
      };
      const first = await post('9007199254740993');
      const second = await post('9007199254740992');
      const again = await post('9007199254740993');
      assert.equal(first.status, 200);
      assert.equal(second.body.duplicate, undefined, 'another id, not a duplicate');
      assert.equal(second.body.seq, 2);
      assert.equal(again.body.duplicate, true, 'the same id again is one');
      const client = await connect(server.wsUrl);
      t.after(() => client.close());
      client.send({ type: 'subscribe', room: 'big-ids', since: 'x:0' });
      await client.subscribed('big-ids');
      const snapshot = await server.get('/rooms/big-ids');
      assert.equal(((await snapshot.json()) as { seq: number }).seq, 2);
      client.close();
      // A long id is refused: each id is kept for the dedup window.
      const long = await postWebhook(server, 'meeting:started', meetingStarted('x'), {
        id: 'i'.repeat(300),
      });
      assert.equal(long.status, 400);
      assert.equal(
        (await postWebhook(server, 'meeting:started', meetingStarted('x'), { id: webhookId() }))
          .status,
        200,
      );
    } finally {
      await server.close();
    }
  });
});

describe('embedding exposes only what is asked (item 9)', () => {
  async function embedded(options: Record<string, unknown>) {
    const app = Fastify();
    app.get('/', async () => 'the host app');
    await app.register(roomcast, {
      prefix: '/realtime',
      huddle01ApiKey: TEST_KEY,
      tokenSecret: TEST_SECRET,
      ...options,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
  }
  const status = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { headers });
    await response.body?.cancel();
    return response.status;
  };

  test('console, /metrics and /asyncapi.json can each be turned off', async () => {
    const { app, url } = await embedded({ console: false, metrics: false, asyncApi: false });
    try {
      assert.equal(await status(`${url}/realtime/`), 404);
      assert.equal(await status(`${url}/realtime/metrics`), 404);
      assert.equal(await status(`${url}/realtime/asyncapi.json`), 404);
      assert.equal(await status(`${url}/realtime/healthz`), 200, 'the rest is served');
      assert.equal(await status(`${url}/`), 200, "the host's own / is untouched");
    } finally {
      await app.close();
    }
  });

  test('/metrics behind a bearer key, as Prometheus scrapers send it', async () => {
    const { app, url } = await embedded({ console: false, metricsToken: 'scrape-key-0123456789' });
    try {
      assert.equal(await status(`${url}/realtime/metrics`), 401);
      assert.equal(await status(`${url}/realtime/metrics`, { authorization: 'Bearer wrong' }), 401);
      assert.equal(
        await status(`${url}/realtime/metrics`, { authorization: 'Bearer scrape-key-0123456789' }),
        200,
      );
    } finally {
      await app.close();
    }
  });

  test('the same from the environment: ROOMCAST_METRICS, ROOMCAST_METRICS_TOKEN, ROOMCAST_ASYNCAPI', () => {
    const config = configFromEnv({
      ROOMCAST_METRICS: 'false',
      ROOMCAST_ASYNCAPI: '0',
      ROOMCAST_METRICS_TOKEN: 'k',
    });
    assert.equal(config.metrics, false);
    assert.equal(config.asyncApi, false);
    assert.equal(config.metricsToken, 'k');
    const defaults = configFromEnv({});
    assert.deepEqual(
      [defaults.console, defaults.metrics, defaults.asyncApi, defaults.metricsToken],
      [true, true, true, undefined],
    );
  });
});
