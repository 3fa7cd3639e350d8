/**
 * Subscriber auth and transport security: every refusal path over WS, SSE and REST, refresh and
 * expiry, secret rotation, origins, connection limits, the webhook rate limit and log redaction.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import WebSocket from 'ws';
import { createSubscriberToken, createTokenVerifier } from '../server/src/auth/tokens.ts';
import { connect, eventSeqs } from './helpers/ws-client.ts';
import { peerJoined } from './helpers/payloads.ts';
import { TestEventSource } from './helpers/sse-client.ts';
import {
  TEST_KEY,
  TEST_SECRET,
  postWebhook,
  startLoggedServer,
  startServer,
  testToken,
} from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';

const secretBytes = new TextEncoder().encode(TEST_SECRET);
const now = () => Math.floor(Date.now() / 1000);

/** The HTTP status of a refused WebSocket upgrade, or 101 when it opens. */
function upgradeStatus(url: string, options: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.on('open', () => {
      socket.terminate();
      resolve(101);
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
    });
    socket.on('error', reject);
  });
}

describe('tokens: what is refused', () => {
  const verifier = createTokenVerifier([TEST_SECRET]);
  const cases: Array<[string, () => Promise<string>]> = [
    [
      'alg none',
      async () => new UnsecuredJWT({ rooms: ['*'] }).setExpirationTime(now() + 60).encode(),
    ],
    [
      'another algorithm (HS512)',
      () =>
        new SignJWT({ rooms: ['*'] })
          .setProtectedHeader({ alg: 'HS512' })
          .setExpirationTime(now() + 60)
          .sign(new Uint8Array(64).fill(7)),
    ],
    [
      'HS512 with the right secret',
      () =>
        new SignJWT({ rooms: ['*'] })
          .setProtectedHeader({ alg: 'HS512' })
          .setExpirationTime(now() + 60)
          .sign(secretBytes),
    ],
    [
      'wrong secret',
      () =>
        createSubscriberToken({ secret: 'another-secret-of-enough-length-000000', rooms: ['*'] }),
    ],
    [
      'expired',
      () =>
        new SignJWT({ rooms: ['*'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime(now() - 10)
          .sign(secretBytes),
    ],
    [
      'not yet valid',
      () => createSubscriberToken({ secret: TEST_SECRET, rooms: ['*'], nbf: now() + 600 }),
    ],
    [
      'no exp',
      () => new SignJWT({ rooms: ['*'] }).setProtectedHeader({ alg: 'HS256' }).sign(secretBytes),
    ],
    [
      'no rooms claim',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime(now() + 60)
          .sign(secretBytes),
    ],
    [
      'rooms not a list of strings',
      () =>
        new SignJWT({ rooms: 'a' })
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime(now() + 60)
          .sign(secretBytes),
    ],
    ['garbage', async () => 'not.a.jwt'],
  ];
  for (const [name, make] of cases) {
    test(`refuses: ${name}`, async () => {
      const check = await verifier.verify(await make());
      assert.equal(check.ok, false);
      if (!check.ok)
        assert.equal(check.code, name === 'expired' ? 'TOKEN_EXPIRED' : 'UNAUTHORIZED');
    });
  }
  test('accepts a valid token, with sub', async () => {
    const check = await verifier.verify(await testToken(['a', 'b'], 60, 'user-1'));
    assert.equal(check.ok, true);
    if (check.ok) {
      assert.deepEqual(check.claims.rooms, ['a', 'b']);
      assert.equal(check.claims.sub, 'user-1');
    }
  });
  test('rotation: sign with the first secret, accept any', async () => {
    const rotated = createTokenVerifier(['new-secret-000000000000000000000000', TEST_SECRET]);
    assert.equal((await rotated.verify(await testToken())).ok, true);
    const fresh = await createSubscriberToken({
      secret: 'new-secret-000000000000000000000000',
      rooms: ['*'],
    });
    assert.equal((await rotated.verify(fresh)).ok, true);
  });
});

describe('auth over WS, SSE and REST', () => {
  let server: TestServer;
  let roomA: string;
  before(async () => {
    server = await startServer({ authTimeout: 300 });
    roomA = await testToken(['room-a']);
  });
  after(() => server.close());

  test('WS: an invalid token at the upgrade is refused with 401', async () => {
    assert.equal(await upgradeStatus(`${server.bareWsUrl}?token=nope`), 401);
    assert.equal(
      await upgradeStatus(server.bareWsUrl, { headers: { authorization: 'Bearer nope' } }),
      401,
    );
    assert.equal(
      await upgradeStatus(server.bareWsUrl, { headers: { authorization: `Bearer ${roomA}` } }),
      101,
    );
  });

  test('WS: the token may come as the first frame', async (t) => {
    const client = await connect(server.bareWsUrl);
    t.after(() => client.close());
    client.send({ type: 'auth', token: roomA });
    client.send({ type: 'subscribe', room: 'room-a' });
    await client.subscribed('room-a');
    client.close();
  });

  test('WS: subscribing without a token, or a bad auth frame, closes with 1008', async (t) => {
    const noAuth = await connect(server.bareWsUrl);
    t.after(() => noAuth.close());
    noAuth.send({ type: 'subscribe', room: 'room-a' });
    assert.equal(await noAuth.closed, 1008);
    assert.equal(noAuth.frames[0]?.code, 'UNAUTHORIZED');
    const badAuth = await connect(server.bareWsUrl);
    t.after(() => badAuth.close());
    badAuth.send({ type: 'auth', token: 'bad' });
    assert.equal(await badAuth.closed, 1008);
  });

  test('WS: no auth frame within the auth timeout closes with 1008', async (t) => {
    const idle = await connect(server.bareWsUrl);
    t.after(() => idle.close());
    assert.equal(await idle.closed, 1008);
  });

  test('WS: a room outside the token is FORBIDDEN; the connection and its rooms carry on', async (t) => {
    const client = await connect(`${server.bareWsUrl}?token=${roomA}`);
    t.after(() => client.close());
    client.send({ type: 'subscribe', room: 'room-a' });
    client.send({ type: 'subscribe', room: 'room-b' });
    await client.until((f) => f.some((x) => x.type === 'error'));
    await client.subscribed('room-a');
    const error = client.frames.find((f) => f.type === 'error')!;
    assert.equal(error.code, 'FORBIDDEN');
    assert.equal(error.room, 'room-b');
    await postWebhook(server, 'peer:joined', peerJoined('room-a', 'p1'));
    await client.until((f) => eventSeqs(f, 'room-a').length === 1);
    client.close();
  });

  test('SSE: no token 401, room not in token 403, granted room 200', async (t) => {
    assert.equal((await fetch(`${server.url}/rooms/room-a/events`)).status, 401);
    assert.equal((await fetch(server.authed('/rooms/room-b/events', roomA))).status, 403);
    assert.equal((await fetch(server.authed('/events?room=room-b', roomA))).status, 403);
    // A multi-room stream serves the granted rooms and refuses the others in the stream, as
    // the WebSocket does.
    const mixed = new TestEventSource(server.authed('/events?room=room-a&room=room-b', roomA));
    try {
      const messages = await mixed.until((m) => m.some((x) => x.data.type === 'subscribed'));
      const error = messages.find((m) => m.data.type === 'error')!;
      assert.equal(error.data.code, 'FORBIDDEN');
      assert.equal(error.data.room, 'room-b');
      assert.ok(!messages.some((m) => m.data.room === 'room-b' && m.data.type !== 'error'));
    } finally {
      mixed.close();
    }
    const controller = new AbortController();
    t.after(() => controller.abort());
    const ok = await fetch(server.authed('/rooms/room-a/events', roomA), {
      signal: controller.signal,
    });
    assert.equal(ok.status, 200);
    controller.abort();
  });

  test('REST: no token 401, room not in token 403; /rooms and /admin need *', async () => {
    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    const noToken = await fetch(`${server.url}/rooms/room-a`);
    assert.equal(noToken.status, 401);
    assert.equal(
      ((await noToken.json()) as { error: { code: string } }).error.code,
      'UNAUTHORIZED',
    );
    assert.equal((await fetch(`${server.url}/rooms/room-b`, bearer(roomA))).status, 403);
    assert.equal((await fetch(`${server.url}/rooms/room-a`, bearer(roomA))).status, 200);
    assert.equal((await fetch(`${server.url}/rooms`, bearer(roomA))).status, 403);
    assert.equal((await fetch(`${server.url}/admin/dead-letters`, bearer(roomA))).status, 403);
    assert.equal((await server.get('/rooms')).status, 200);
    assert.equal((await server.get('/admin/dead-letters')).status, 200);
  });
});

describe('expiry and refresh', () => {
  test('a WS refresh keeps every subscription and a gap-free stream', async (t) => {
    const server = await startServer({ tokenGrace: 5000 });
    try {
      const client = await connect(`${server.bareWsUrl}?token=${await testToken(['r1', 'r2'], 2)}`);
      t.after(() => client.close());
      client.send({ type: 'subscribe', room: 'r1' });
      client.send({ type: 'subscribe', room: 'r2' });
      await client.subscribed('r1');
      await client.subscribed('r2');
      for (let i = 0; i < 5; i++)
        await postWebhook(server, 'peer:joined', peerJoined('r1', `a${i}`));
      client.send({ type: 'auth', token: await testToken(['r1', 'r2'], 3600) });
      for (let i = 5; i < 10; i++)
        await postWebhook(server, 'peer:joined', peerJoined('r1', `a${i}`));
      await postWebhook(server, 'peer:joined', peerJoined('r2', 'b'));
      // Past the first token's expiry: nothing is closed, nothing is missed.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await postWebhook(server, 'peer:joined', peerJoined('r1', 'late'));
      await client.until(
        (f) => eventSeqs(f, 'r1').length === 11 && eventSeqs(f, 'r2').length === 1,
      );
      assert.deepEqual(
        eventSeqs(client.frames, 'r1'),
        Array.from({ length: 11 }, (_, i) => i + 1),
      );
      assert.equal(
        client.frames.some((f) => f.type === 'error'),
        false,
      );
      assert.equal(client.closeCode, undefined);
      client.close();
    } finally {
      await server.close();
    }
  });

  test('an expired WS token gets TOKEN_EXPIRED, then close 4001 after the grace', async (t) => {
    const server = await startServer({ tokenGrace: 500 });
    try {
      // 2 s, not 1: exp is in whole seconds, so a 1 s token may be over before it is used.
      const client = await connect(`${server.bareWsUrl}?token=${await testToken(['*'], 2)}`);
      t.after(() => client.close());
      client.send({ type: 'subscribe', room: 'x' });
      await client.subscribed('x');
      assert.equal(await client.closed, 4001);
      assert.equal(client.frames.find((f) => f.type === 'error')?.code, 'TOKEN_EXPIRED');
    } finally {
      await server.close();
    }
  });

  test('a WS refresh to a shorter-lived token expires at the new token’s time, not the old', async (t) => {
    const server = await startServer({ tokenGrace: 300 });
    try {
      const client = await connect(`${server.bareWsUrl}?token=${await testToken(['*'], 3600)}`);
      t.after(() => client.close());
      client.send({ type: 'subscribe', room: 'x' });
      await client.subscribed('x');
      const refreshedAt = Date.now();
      client.send({ type: 'auth', token: await testToken(['*'], 2) });
      assert.equal(await client.closed, 4001);
      // The sweep files a connection under its next deadline: the refresh moved it earlier.
      assert.ok(Date.now() - refreshedAt < 4000, 'closed long after the new token expired');
      assert.equal(client.frames.find((f) => f.type === 'error')?.code, 'TOKEN_EXPIRED');
    } finally {
      await server.close();
    }
  });

  test('an SSE stream ends at its token expiry', async () => {
    const server = await startServer();
    try {
      const response = await fetch(server.authed('/rooms/x/events', await testToken(['x'], 2)));
      const text = await response.text(); // resolves when the server ends the stream
      assert.match(
        text,
        /\n\nevent: error\ndata: /,
        'the error carries no id (the resume point stays)',
      );
      assert.match(text, /TOKEN_EXPIRED/);
    } finally {
      await server.close();
    }
  });
});

describe('origins, CORS and security headers', () => {
  test('dev default: localhost origins pass, foreign ones are refused (WS and SSE)', async () => {
    const server = await startServer();
    try {
      assert.equal(await upgradeStatus(server.wsUrl, { origin: 'http://localhost:5173' }), 101);
      assert.equal(await upgradeStatus(server.wsUrl, { origin: 'https://evil.example' }), 403);
      assert.equal(
        (
          await fetch(server.authed('/rooms/x/events'), {
            headers: { origin: 'https://evil.example' },
          })
        ).status,
        403,
      );
      const cors = await fetch(server.authed('/rooms/x'), {
        headers: { origin: 'http://127.0.0.1:8080' },
      });
      assert.equal(cors.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8080');
      const foreign = await fetch(server.authed('/rooms/x'), {
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(foreign.headers.get('access-control-allow-origin'), null);
      assert.equal(cors.headers.get('x-content-type-options'), 'nosniff');
    } finally {
      await server.close();
    }
  });

  test('an explicit ROOMCAST_ALLOWED_ORIGINS list is the only thing allowed', async () => {
    const server = await startServer({ allowedOrigins: 'https://app.example' });
    try {
      assert.equal(await upgradeStatus(server.wsUrl, { origin: 'https://app.example' }), 101);
      assert.equal(await upgradeStatus(server.wsUrl, { origin: 'http://localhost:3000' }), 403);
      // Clients without an Origin (servers, CLIs) pass the origin check; they still need a token.
      assert.equal(await upgradeStatus(server.wsUrl), 101);
    } finally {
      await server.close();
    }
  });

  test('production without a list: same origin only', async () => {
    const server = await startServer({ production: true });
    try {
      const host = new URL(server.url).host;
      assert.equal(await upgradeStatus(server.wsUrl, { origin: `http://${host}` }), 101);
      assert.equal(await upgradeStatus(server.wsUrl, { origin: 'http://localhost:1' }), 403);
    } finally {
      await server.close();
    }
  });
});

describe('limits', () => {
  test('connections per IP are capped while another IP still connects', async (t) => {
    const server = await startServer({ maxConnectionsPerIp: 3 });
    try {
      const open = await Promise.all([1, 2, 3].map(() => connect(server.wsUrl)));
      t.after(() => {
        for (const client of open) client.close();
      });
      assert.equal(await upgradeStatus(server.wsUrl), 429);
      assert.equal(await upgradeStatus(server.wsUrl, { localAddress: '127.0.0.2' }), 101);
      open[0]!.close();
      await open[0]!.closed;
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await upgradeStatus(server.wsUrl), 101);
      for (const client of open) client.close();
    } finally {
      await server.close();
    }
  });

  test('connection attempts per IP per second are capped (429)', async () => {
    const server = await startServer({ connectRatePerIp: 5 });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 12 }, () => upgradeStatus(server.wsUrl)),
      );
      assert.ok(statuses.filter((s) => s === 429).length >= 1, String(statuses));
      assert.ok(statuses.filter((s) => s === 101).length <= 10, String(statuses));
    } finally {
      await server.close();
    }
  });

  test('webhook rate limit answers 429 RATE_LIMITED', async () => {
    const server = await startServer({ webhookRateLimit: 3 });
    try {
      const answers = [];
      for (let i = 0; i < 4; i++)
        answers.push(await postWebhook(server, 'peer:joined', peerJoined('rl', `p${i}`)));
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 429],
      );
      assert.equal(answers[3]?.body.error?.code, 'RATE_LIMITED');
    } finally {
      await server.close();
    }
  });
});

describe('no secret in logs', () => {
  test('tokens (query, header, frame) and signatures never reach a log line', async (t) => {
    const server = await startLoggedServer({ logLevel: 'debug' });
    try {
      const base = server.url;
      const token = await testToken();
      await fetch(`${base}/rooms/x?token=${token}`);
      await fetch(`${base}/rooms/x`, { headers: { authorization: `Bearer ${token}` } });
      const answer = await postWebhook({ url: base }, 'peer:joined', peerJoined('logs', 'p'));
      assert.equal(answer.status, 200);
      const client = await connect(`${base.replace('http', 'ws')}/ws`);
      t.after(() => client.close());
      client.send({ type: 'auth', token });
      client.send({ type: 'subscribe', room: 'x' });
      await client.subscribed('x');
      client.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const log = server.logs();
      assert.ok(log.includes('[REDACTED]'), 'redaction happened');
      assert.ok(log.includes('/rooms/x'), 'requests were logged');
      for (const secret of [token, token.split('.')[2]!, TEST_SECRET, TEST_KEY]) {
        assert.equal(log.includes(secret), false, `a secret leaked: ${secret.slice(0, 12)}…`);
      }
      assert.equal(/sha256=[0-9a-f]{64}/.test(log), false, 'a signature leaked');
    } finally {
      await server.close();
    }
  });
});

describe('roomcast token', () => {
  const bin = fileURLToPath(new URL('../server/bin/roomcast.js', import.meta.url));
  /** Runs `roomcast token <args>` with the test secret in the environment. */
  const roomcastToken = (args: string[]) =>
    spawnSync(process.execPath, [bin, 'token', ...args], {
      env: { ...process.env, ROOMCAST_TOKEN_SECRET: TEST_SECRET },
      encoding: 'utf8',
    });

  test('prints a token the server accepts for exactly those rooms', async () => {
    const result = roomcastToken(['--rooms', 'a,b', '--ttl', '1h', '--sub', 'u1']);
    assert.equal(result.status, 0, result.stderr);
    const check = await createTokenVerifier([TEST_SECRET]).verify(result.stdout.trim());
    assert.equal(check.ok, true);
    if (check.ok) {
      assert.deepEqual(check.claims.rooms, ['a', 'b']);
      assert.equal(check.claims.sub, 'u1');
      assert.ok(check.claims.exp - now() > 3500 && check.claims.exp - now() <= 3600);
    }
  });

  test('--ttl in bare seconds lives that many seconds; under a second is refused', () => {
    const mint = (ttl: string) => roomcastToken(['--rooms', '*', `--ttl=${ttl}`]);
    const claims = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
        iat: number;
        exp: number;
      };
    for (const [ttl, seconds] of [
      ['4', 4],
      ['90', 90],
      ['2m', 120],
    ] as const) {
      const result = mint(ttl);
      assert.equal(result.status, 0, result.stderr);
      const { iat, exp } = claims(result.stdout.trim());
      assert.equal(exp - iat, seconds, `--ttl ${ttl}`);
    }
    for (const ttl of ['0', '400ms', 'soon']) {
      const result = mint(ttl);
      assert.equal(result.status, 2, `--ttl ${ttl} was taken`);
      assert.match(result.stderr, /^roomcast token: --ttl must be seconds or a duration/);
    }
  });
});

describe('createSubscriberToken ttl', () => {
  test('digits are seconds, like a number; a duration text is a duration; a text under 1 s throws', async () => {
    const lifetime = async (ttl: number | string) => {
      const token = await createSubscriberToken({ secret: TEST_SECRET, rooms: ['*'], ttl });
      const check = await createTokenVerifier([TEST_SECRET]).verify(token);
      assert.ok(check.ok, `ttl ${ttl}: ${check.ok ? '' : check.message}`);
      return check.claims.exp - now();
    };
    for (const [ttl, seconds] of [
      [30, 30],
      ['30', 30],
      [' 30 ', 30],
      ['15m', 900],
      ['1h', 3600],
    ] as const) {
      const left = await lifetime(ttl);
      assert.ok(left > seconds - 2 && left <= seconds, `ttl ${JSON.stringify(ttl)}: ${left} s`);
    }
    for (const ttl of ['0', '400ms', '', 'soon']) {
      await assert.rejects(
        createSubscriberToken({ secret: TEST_SECRET, rooms: ['*'], ttl }),
        /invalid ttl .*: use seconds \(at least 1\) or a duration like 15m, 1h/,
        `ttl ${JSON.stringify(ttl)} was taken`,
      );
    }
    await assert.rejects(
      createSubscriberToken({ secret: TEST_SECRET, rooms: ['*'], ttl: Number.NaN }),
      /invalid ttl NaN/,
    );
    // A number is taken as it is: -10 mints a token expired 10 s ago (what tests of expiry use).
    const expired = await createSubscriberToken({ secret: TEST_SECRET, rooms: ['*'], ttl: -10 });
    const check = await createTokenVerifier([TEST_SECRET]).verify(expired);
    assert.equal(check.ok ? 'ok' : check.code, 'TOKEN_EXPIRED');
  });
});

describe('README example: a backend route that issues tokens', () => {
  test('a logged-in user gets a token for their room, which the server accepts', async () => {
    const { buildBackend } = await import('../docs/examples/token-route.ts');
    const previous = process.env.ROOMCAST_TOKEN_SECRET;
    process.env.ROOMCAST_TOKEN_SECRET = TEST_SECRET;
    const backend = buildBackend((cookie) =>
      cookie === 'session=ada' ? { id: 'ada', rooms: ['standup'] } : undefined,
    );
    const server = await startServer();
    try {
      const anonymous = await backend.inject({ url: '/api/roomcast-token' });
      assert.equal(anonymous.statusCode, 401);
      const answer = await backend.inject({
        url: '/api/roomcast-token',
        headers: { cookie: 'session=ada' },
      });
      const { token } = answer.json() as { token: string };
      assert.equal(
        (
          await fetch(`${server.url}/rooms/standup`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await fetch(`${server.url}/rooms/other`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).status,
        403,
      );
    } finally {
      if (previous === undefined) delete process.env.ROOMCAST_TOKEN_SECRET;
      else process.env.ROOMCAST_TOKEN_SECRET = previous;
      await server.close();
      await backend.close();
    }
  });
});
