/**
 * Hostile input on the SSE routes (fast-check, bounded runs) against a server child process:
 * random room ids and query strings (repeated, comma-joined, empty, too many, polluting keys),
 * tokens right, narrow and wrong, and Last-Event-IDs of every shape (valid, foreign, ahead of
 * the log, huge, composite, garbage). Every answer is documented: an error with its code, or a
 * stream that opens with a snapshot or an exact replay whose ids match its frames. The server
 * stays up, keeps no stream of a closed connection, its prototypes clean, its memory bounded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode, formatPosition, parsePosition } from '../../shared/src/index.ts';
import { parseMultiRoomId } from '../../server/src/transports/sse-position.ts';
import { sample } from '../helpers/metrics.ts';
import { peerJoined } from '../helpers/payloads.ts';
import { postWebhook, testToken } from '../helpers/server.ts';
import { startProbeServer } from './probe-client.ts';
import type { ProbeServer } from './probe-client.ts';
import { openSseStream } from './sse-stream.ts';
import type { SseMessage } from './sse-stream.ts';

const MiB = 2 ** 20;
const KNOWN_ROOMS = ['sse-a', 'sse-b', '__proto__'];
/** Error answers of the SSE routes: status → the codes it may carry. */
const DOCUMENTED_ERRORS: Record<number, string[]> = {
  400: [ErrorCode.BAD_REQUEST, ErrorCode.TOO_MANY_SUBSCRIPTIONS],
  401: [ErrorCode.UNAUTHORIZED, ErrorCode.TOKEN_EXPIRED],
  403: [ErrorCode.FORBIDDEN, ErrorCode.ORIGIN_NOT_ALLOWED],
  404: [ErrorCode.NOT_FOUND],
  429: [ErrorCode.TOO_MANY_CONNECTIONS],
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Text a header may carry (node refuses the rest before sending). */
const headerSafe = (text: string) => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');

interface Tokens {
  all: string;
  onlyA: string;
  expired: string;
}

/** Reads a 200 stream until every room is subscribed, checking each message on the way. */
async function checkStream(
  url: string,
  headers: Record<string, string>,
  rooms: string[],
  multi: boolean,
) {
  const messages: SseMessage[] = [];
  const subscribed = new Set<string>();
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const stream = openSseStream(url, {
    headers,
    onMessage(message) {
      messages.push(message);
      const frame = JSON.parse(message.data) as { type: string; room?: string; code?: string };
      // A room the token does not grant is refused in the stream (FORBIDDEN), the others served.
      const refused = frame.type === 'error' && frame.code === ErrorCode.FORBIDDEN;
      if ((frame.type === 'subscribed' || refused) && frame.room) subscribed.add(frame.room);
      if (rooms.every((room) => subscribed.has(room))) resolveDone();
    },
    onEnd: () => resolveDone(),
  });
  const { status, body } = await stream.opened;
  if (status !== 200) {
    stream.close();
    return { status, body };
  }
  await Promise.race([done, sleep(10_000)]);
  stream.close();
  for (const room of rooms) {
    const own = messages
      .map((message) => ({ message, frame: JSON.parse(message.data) as Record<string, unknown> }))
      .filter(({ frame }) => frame.room === room);
    const kinds = own.map(({ frame }) => frame.type);
    if (own.length === 1 && own[0]!.frame.code === ErrorCode.FORBIDDEN) continue;
    const last = kinds.lastIndexOf('subscribed');
    assert.ok(last >= 0, `${room}: no subscribed in ${JSON.stringify(kinds)}`);
    const opening = kinds.slice(0, last);
    const recovered = own[last]!.frame.recovered;
    // Either a snapshot, or an exact replay (events only) that the subscribed frame vouches for.
    if (recovered)
      assert.ok(
        opening.every((kind) => kind === 'event'),
        JSON.stringify(kinds),
      );
    else assert.deepEqual(opening, ['snapshot'], JSON.stringify(kinds));
    for (const { message, frame } of own) {
      const named = multi
        ? parseMultiRoomId(message.id ?? '').get(room)
        : parsePosition(message.id ?? '');
      const position = formatPosition({ epoch: String(frame.epoch), seq: Number(frame.seq) });
      assert.equal(
        named && formatPosition(named),
        position,
        `id ${message.id} on ${frame.type} ${position}`,
      );
    }
  }
  return { status, body: '' };
}

function assertDocumentedError(status: number, body: string): void {
  const code = (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  assert.ok(DOCUMENTED_ERRORS[status]?.includes(String(code)), `${status} ${body.slice(0, 300)}`);
}

describe('fuzz: the SSE routes', () => {
  let server: ProbeServer;
  let tokens: Tokens;
  let epochs: Map<string, string>;
  before(async () => {
    server = await startProbeServer({
      ROOMCAST_MAX_SUBSCRIPTIONS: '20',
      ROOMCAST_HISTORY_SIZE: '5',
    });
    tokens = {
      all: await testToken(),
      onlyA: await testToken(['sse-a']),
      expired: await testToken(['*'], -10),
    };
    for (const room of KNOWN_ROOMS) {
      for (let i = 0; i < 8; i++)
        await postWebhook(server, 'peer:joined', peerJoined(room, `p${i}`));
    }
    epochs = new Map();
    for (const room of KNOWN_ROOMS) {
      const response = await fetch(`${server.url}/rooms/${room}`, {
        headers: { authorization: `Bearer ${tokens.all}` },
      });
      epochs.set(room, ((await response.json()) as { epoch: string }).epoch);
    }
  });
  after(() => server.kill());

  const roomArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...KNOWN_ROOMS) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', ' ', 'a,b', 'constructor', 'x'.repeat(201), '%00', '..'),
    },
  );
  const lastIdArb = (rooms: string[]) =>
    fc.oneof(
      fc.constant(undefined),
      fc
        .tuple(fc.constantFrom(...KNOWN_ROOMS), fc.integer({ min: -2, max: 12 }))
        .map(([room, seq]) => `${epochs.get(room)}:${seq}`),
      fc
        .tuple(fc.constantFrom(...rooms, ...KNOWN_ROOMS), fc.integer({ min: 0, max: 12 }))
        .map(
          ([room, seq]) =>
            `${encodeURIComponent(room)}=${encodeURIComponent(`${epochs.get(room) ?? 'zz'}:${seq}`)}`,
        ),
      fc.constantFrom(
        '999999999999999999:1',
        'e:999999999999999',
        ':',
        '=',
        '&&&',
        '__proto__=x:1',
        'a'.repeat(3000),
      ),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
  const caseArb = fc
    .record({
      multi: fc.boolean(),
      rooms: fc.array(roomArb, { minLength: 0, maxLength: 25 }),
      comma: fc.boolean(),
      token: fc.constantFrom<keyof Tokens | 'garbage' | 'none'>(
        'all',
        'all',
        'all',
        'onlyA',
        'expired',
        'garbage',
        'none',
      ),
      tokenIn: fc.constantFrom('query', 'header', 'both'),
      extra: fc.constantFrom(
        '',
        '__proto__[polluted]=yes',
        'constructor[prototype][polluted]=yes',
        'room[]=x',
        'token=a&token=b',
        'lastEventId=&lastEventId=x',
      ),
      idIn: fc.constantFrom('header', 'query'),
    })
    .chain((base) => lastIdArb(base.rooms).map((lastId) => ({ ...base, lastId })));

  test('query strings, tokens and Last-Event-IDs of every shape: documented answers and streams', async (t) => {
    const before = await server.probe();
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const token =
          c.token === 'none' ? undefined : c.token === 'garbage' ? 'not.a.jwt' : tokens[c.token];
        const params: string[] = [];
        if (c.multi) {
          if (c.comma) params.push(`room=${c.rooms.map(encodeURIComponent).join(',')}`);
          else params.push(...c.rooms.map((room) => `room=${encodeURIComponent(room)}`));
        }
        if (token && c.tokenIn !== 'header') params.push(`token=${encodeURIComponent(token)}`);
        if (c.lastId !== undefined && c.idIn === 'query')
          params.push(`lastEventId=${encodeURIComponent(c.lastId)}`);
        if (c.extra) params.push(c.extra);
        const room = c.rooms[0] ?? '';
        const path = c.multi ? '/events' : `/rooms/${encodeURIComponent(room)}/events`;
        const headers: Record<string, string> = {};
        if (token && c.tokenIn !== 'query') headers.authorization = `Bearer ${token}`;
        if (c.lastId !== undefined && c.idIn === 'header')
          headers['last-event-id'] = headerSafe(c.lastId);
        const rooms = c.multi ? [...new Set(c.rooms.flatMap((r) => r.split(',')))] : [room];
        const { status, body } = await checkStream(
          `${server.url}${path}?${params.join('&')}`,
          headers,
          rooms,
          c.multi,
        );
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status !== 200) assertDocumentedError(status, body);
      }),
      { numRuns: 300 },
    );
    t.diagnostic(`answers by status: ${JSON.stringify(statuses)}`);
    for (let i = 0; i < 100; i++) {
      if (sample(await server.metrics(), 'roomcast_connections', { transport: 'sse' }) === 0) break;
      await sleep(100);
    }
    const metrics = await server.metrics();
    assert.equal(sample(metrics, 'roomcast_connections', { transport: 'sse' }), 0);
    assert.equal(sample(metrics, 'roomcast_subscriptions'), 0);
    const after = await server.probe();
    assert.equal(after.polluted, false, `Object.prototype gained ${after.extraPrototypeKeys}`);
    assert.ok(after.heapUsed - before.heapUsed < 32 * MiB, 'heap bounded');
    assert.ok((statuses[200] ?? 0) > 30, 'enough cases reached a stream');
  });
});
