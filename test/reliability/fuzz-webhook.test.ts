/**
 * Hostile input on POST /webhooks/huddle01 (fast-check, bounded runs) against a server child
 * process: random bytes and text, invalid UTF-8, every content type and encoding, signatures
 * right and wrong, huge numbers, deep nesting, oversize bodies, and authentic webhooks whose
 * payloads are full of `__proto__` / `constructor` keys and hostile ids. Every answer must be
 * one the docs list, with its documented code; the server stays up, its prototypes clean, its
 * memory bounded; and the rooms the authentic ones landed in hold exactly the reducer's fold.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { EVENT_NAME_LIST } from '../../shared/src/index.ts';
import { signRawWebhook } from '../../server/src/webhooks/sign-webhook.ts';
import { TEST_KEY, testToken } from '../helpers/server.ts';
import { createInvariantChecker } from './invariant-checker.ts';
import { createLoadDriver } from './load-driver.ts';
import type { LoadDriver } from './load-driver.ts';
import { startProbeServer } from './probe-client.ts';
import type { ProbeServer } from './probe-client.ts';
import { closeRawPool, rawRequest } from './raw-http.ts';
import type { RawAnswer } from './raw-http.ts';
import { settleAndVerify } from './room-heads.ts';

/** Error answers of the webhook route: status → the codes it may carry. */
const DOCUMENTED_ERRORS: Record<number, string[]> = {
  400: ['INVALID_BODY', 'BAD_REQUEST'],
  401: ['SIGNATURE_MISSING', 'SIGNATURE_INVALID', 'TIMESTAMP_INVALID'],
  413: ['BODY_TOO_LARGE'],
};
const MAX_BYTES = 64 * 1024;
/** Room ids that are valid but name things every JS object has. */
const HOSTILE_ROOMS = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'ÿ😀-room',
];
const HOSTILE_IDS = [
  ...HOSTILE_ROOMS,
  'valueOf',
  '__defineGetter__',
  '0',
  '-1',
  'a'.repeat(300),
  '\u0000',
  '‮',
];
const MiB = 2 ** 20;

/** Answers seen, by status, for the test's figures. */
const tally: Record<number, number> = {};

/** Checks that an answer is one of the documented ones; returns its JSON body. */
function assertDocumented(answer: RawAnswer): Record<string, unknown> {
  tally[answer.status] = (tally[answer.status] ?? 0) + 1;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    assert.fail(`${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}`);
  }
  if (answer.status === 200) {
    assert.ok(
      (body.ok === true && typeof body.seq === 'number' && typeof body.roomId === 'string') ||
        (body.ok === true && body.duplicate === true),
      JSON.stringify(body),
    );
  } else if (answer.status === 202) {
    assert.ok(
      body.ok === true &&
        (body.held === true || ['UNKNOWN_EVENT', 'INVALID_PAYLOAD'].includes(String(body.reason))),
      JSON.stringify(body),
    );
  } else {
    const code = (body.error as { code?: string } | undefined)?.code;
    assert.ok(
      DOCUMENTED_ERRORS[answer.status]?.includes(String(code)),
      `${answer.status} ${JSON.stringify(body).slice(0, 300)}`,
    );
  }
  return body;
}

/** A signature header: right for the text when it can be signed, else a plausible wrong one. */
function signature(kind: string, text: string, id: string): string | undefined {
  const now = Date.now();
  switch (kind) {
    case 'valid':
      try {
        return signRawWebhook(text, id, TEST_KEY);
      } catch {
        return `t=${now},sha256=${'0'.repeat(64)}`; // the body cannot be signed (not JSON)
      }
    case 'wrong-key':
      try {
        return signRawWebhook(text, id, 'another-key');
      } catch {
        return `t=${now},sha256=${'f'.repeat(64)}`;
      }
    case 'stale':
      return `t=${now - 3_600_000},sha256=${'a'.repeat(64)}`;
    case 'missing':
      return undefined;
    default:
      return kind; // a literal malformed header
  }
}

const deepArb = fc
  .tuple(fc.integer({ min: 1, max: 5000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => {
    const close = open === '[' ? ']' : '}';
    return `{"id":"deep-${depth}","event":"peer:joined","payload":${open.repeat(depth)}${open === '[' ? '' : '1'}${close.repeat(depth)}}`;
  });
const hugeNumberArb = fc
  .constantFrom(
    '1e999999',
    '-1e999999',
    '123456789012345678901234567890',
    '-0',
    '0.000000000000000000001',
    '1e308',
  )
  .chain((number) =>
    fc.constantFrom(
      `{"id":${number},"event":"meeting:started","payload":{"sessionId":"s","roomId":"r-num","createdAt":1}}`,
      `{"id":"n-${number}","event":"meeting:started","payload":{"sessionId":"s","roomId":"r-num","createdAt":${number}}}`,
    ),
  );
const rawBodyArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
  fc.json({ maxDepth: 4 }),
  deepArb,
  hugeNumberArb,
  fc
    .integer({ min: MAX_BYTES - 100, max: MAX_BYTES + 5000 })
    .map(
      (size) =>
        `{"id":"big-${size}","event":"meeting:started","payload":{"pad":"${'x'.repeat(size)}"}}`,
    ),
  // Valid UTF-8 text with invalid bytes spliced in.
  fc
    .tuple(fc.json({ maxDepth: 2 }), fc.uint8Array({ minLength: 1, maxLength: 4 }))
    .map(([json, bytes]) =>
      Buffer.concat([
        Buffer.from(json.slice(0, json.length / 2)),
        Buffer.from(bytes.map((b) => b | 0x80)),
        Buffer.from(json.slice(json.length / 2)),
      ]),
    ),
);
const headersArb = fc.record({
  signature: fc.constantFrom(
    'valid',
    'valid',
    'wrong-key',
    'stale',
    'missing',
    't=abc,sha256=',
    'garbage',
    't=1',
    ',,,,',
    't=1,sha1=00',
  ),
  contentType: fc.constantFrom(
    undefined,
    'text/plain',
    'application/json',
    'application/json; charset=utf-16',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    'text/plain; charset=latin1',
    ';;;',
  ),
  contentEncoding: fc.constantFrom(undefined, 'gzip', 'br', 'deflate', 'identity', 'x-unknown'),
});

/** An authentic webhook of a known event with hostile contents. */
const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE_IDS),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
);
const hostileNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -0, 0, 1_790_000_000_000),
);
const pollutingExtra = fc.constantFrom(
  '{}',
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"__proto__":{"__proto__":{"polluted":"yes"}},"prototype":{"polluted":"yes"}}',
);
const authenticArb = fc
  .record({
    event: fc.constantFrom(...EVENT_NAME_LIST, 'room:unknown'),
    roomId: fc.oneof(
      fc.constantFrom(...HOSTILE_ROOMS),
      fc.constantFrom('with space', 'tab\there', 'x'.repeat(201)),
    ),
    peer: hostileString,
    session: fc.constantFrom('s1', '__proto__', 'constructor'),
    at: hostileNumber,
    extra: pollutingExtra,
    metadata: fc.oneof(
      fc.constant(undefined),
      fc.constantFrom('{"__proto__":{"polluted":"yes"}}', '[[[[]]]]', 'not json'),
    ),
  })
  .map(({ event, roomId, peer, session, at, extra, metadata }) => {
    const payload: Record<string, unknown> = {
      ...JSON.parse(extra),
      id: peer,
      roomId,
      sessionId: session,
      createdAt: at,
      endedAt: at,
      joinedAt: at,
      leftAt: at,
      duration: at,
      participants: 1,
      maxParticipants: 1,
      audioMinutes: 0,
      videoMinutes: 0,
      browser: JSON.parse(extra),
      device: JSON.parse(extra),
      track: peer,
      files: [],
      streams: [],
      ...(metadata === undefined ? {} : { metadata }),
    };
    return { event, payload };
  });

describe('fuzz: the webhook route', () => {
  let server: ProbeServer;
  let driver: LoadDriver;
  const checker = createInvariantChecker();
  let token: string;
  before(async () => {
    server = await startProbeServer({
      ROOMCAST_WEBHOOK_MAX_BYTES: String(MAX_BYTES),
      ROOMCAST_TRACK_HOLD: '200ms',
      // Hundreds of refused webhooks from one address: the refusal limit would answer 429.
      ROOMCAST_WEBHOOK_REFUSAL_LIMIT: '0',
    });
    token = await testToken();
    // Someone watches every hostile room from the start, so their logs can be checked whole.
    driver = createLoadDriver({
      checker,
      urls: [server.url],
      token,
      rooms: HOSTILE_ROOMS,
      ws: HOSTILE_ROOMS.length,
      sse: 0,
      multiRoomShare: 0,
    });
    await driver.open();
  });
  after(async () => {
    await driver.close();
    closeRawPool();
    await server.kill();
  });

  test('any bytes, headers and signature: only documented answers, never a 5xx', async (t) => {
    const before = await server.probe();
    await fc.assert(
      fc.asyncProperty(rawBodyArb, headersArb, async (body, headers) => {
        const text = typeof body === 'string' ? body : body.toString('utf8');
        let id = 'x';
        try {
          id = String((JSON.parse(text) as { id?: unknown }).id);
        } catch {
          // not JSON: any id will do, the signature cannot be right anyway
        }
        const sig = signature(headers.signature, text, id);
        const answer = await rawRequest(server.url, {
          method: 'POST',
          path: '/webhooks/huddle01',
          headers: {
            ...(sig === undefined ? {} : { 'huddle01-signature': sig }),
            ...(headers.contentType === undefined ? {} : { 'content-type': headers.contentType }),
            ...(headers.contentEncoding === undefined
              ? {}
              : { 'content-encoding': headers.contentEncoding }),
          },
          body,
        });
        assertDocumented(answer);
      }),
      { numRuns: 400 },
    );
    t.diagnostic(`answers by status: ${JSON.stringify(tally)}`);
    const after = await server.probe();
    assert.equal(after.polluted, false, `Object.prototype gained ${after.extraPrototypeKeys}`);
    assert.ok(after.heapUsed - before.heapUsed < 32 * MiB, 'heap bounded');
  });

  test('authentic webhooks full of __proto__ and hostile ids: documented answers, readable rooms, no pollution', async (t) => {
    for (const status of Object.keys(tally)) delete tally[Number(status)];
    await fc.assert(
      fc.asyncProperty(authenticArb, async ({ event, payload }) => {
        const id = `fz-${Math.random().toString(36).slice(2)}`;
        const text = JSON.stringify({ id, event, payload });
        const answer = await rawRequest(server.url, {
          method: 'POST',
          path: '/webhooks/huddle01',
          headers: {
            'content-type': 'text/plain',
            'huddle01-signature': signRawWebhook(text, id, TEST_KEY),
          },
          body: text,
        });
        const body = assertDocumented(answer);
        assert.notEqual(answer.status, 400, `authentic webhook refused: ${answer.body}`);
        if (answer.status === 200 && typeof body.seq === 'number') {
          checker.acknowledged({ roomId: String(body.roomId), seq: body.seq, id, event, payload });
          // An acknowledged event must be deliverable: its room can be read.
          const room = await rawRequest(server.url, {
            path: `/rooms/${encodeURIComponent(String(body.roomId))}`,
            headers: { authorization: `Bearer ${token}` },
          });
          assert.equal(
            room.status,
            200,
            `room ${JSON.stringify(body.roomId)} of an accepted webhook: ${room.body}`,
          );
        }
      }),
      { numRuns: 300 },
    );
    t.diagnostic(`answers by status: ${JSON.stringify(tally)}`);
    const probe = await server.probe();
    assert.equal(probe.polluted, false, `Object.prototype gained ${probe.extraPrototypeKeys}`);
    // Every hostile room holds exactly the fold of what its subscriber received.
    const summary = await settleAndVerify({
      url: server.url,
      token,
      rooms: HOSTILE_ROOMS,
      driver,
      checker,
    });
    t.diagnostic(`acknowledged ${summary.acknowledged}, events checked ${summary.eventsDelivered}`);
    assert.deepEqual(summary.violations, []);
    assert.equal((await rawRequest(server.url, { path: '/healthz' })).status, 200);
  });
});
