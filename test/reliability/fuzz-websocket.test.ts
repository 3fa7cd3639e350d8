/**
 * Hostile input on GET /ws (fast-check, bounded runs) against a server child process: frames
 * written byte by byte (binary, oversized, invalid UTF-8, fragmented, reserved opcodes and
 * bits, unmasked, lying lengths, prototype-polluting JSON), rapid subscribe / unsubscribe over
 * a thousand rooms, and a thousand rooms on one connection. Every reply is a documented frame
 * or close code; the server stays up, keeps no subscription of a closed connection, and its
 * memory stays bounded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { CloseCode, ErrorCode } from '../../shared/src/index.ts';
import { sample } from '../helpers/metrics.ts';
import { peerJoined } from '../helpers/payloads.ts';
import { postWebhook, testToken } from '../helpers/server.ts';
import { connect, eventSeqs } from '../helpers/ws-client.ts';
import { startProbeServer } from './probe-client.ts';
import type { ProbeServer } from './probe-client.ts';
import { openRawWebSocket } from './raw-websocket.ts';
import type { RawFrame } from './raw-websocket.ts';

const ROOMS = 1000;
const MiB = 2 ** 20;
const SERVER_FRAME_TYPES = new Set(['snapshot', 'event', 'subscribed', 'error', 'heartbeat']);
const ERROR_CODES = new Set<string>(Object.values(ErrorCode));
const CLOSE_CODES = new Set<number>(Object.values(CloseCode));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const text = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const roomArb = fc.integer({ min: 0, max: ROOMS - 1 }).map((i) => `fz-${i}`);
/** Payloads: client frames good and bad, polluting JSON, binary noise, invalid UTF-8, oversize. */
const payloadArb = fc.oneof(
  roomArb.map((room) => text({ type: 'subscribe', room })),
  roomArb.map((room) => text({ type: 'unsubscribe', room })),
  fc.tuple(roomArb, fc.string()).map(([room, since]) => text({ type: 'subscribe', room, since })),
  fc.constantFrom(
    text('{"type":"subscribe","room":"__proto__","__proto__":{"polluted":"yes"}}'),
    text(
      '{"type":"subscribe","room":"constructor","constructor":{"prototype":{"polluted":"yes"}}}',
    ),
    text({ type: 'auth', token: 'not-a-jwt' }),
    text({ type: 'auth', token: '' }),
    text({ type: '__proto__' }),
    text('null'),
    text('[]'),
    text('{'),
  ),
  fc.json({ maxDepth: 3 }).map(text),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc
    .uint8Array({ minLength: 1, maxLength: 8 })
    .map((bytes) => Buffer.from(bytes.map((b) => b | 0x80))),
  fc
    .integer({ min: 4000, max: 9000 })
    .map((size) => text({ type: 'subscribe', room: 'x'.repeat(size) })),
);
const frameArb: fc.Arbitrary<RawFrame> = fc.record({
  fin: fc.boolean(),
  opcode: fc.oneof(fc.constantFrom(0, 1, 1, 1, 2, 8, 9, 10), fc.integer({ min: 0, max: 15 })),
  rsv: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 7 })),
  masked: fc.oneof(fc.constant(true), fc.boolean()),
  payload: payloadArb,
});
/** Mostly well-formed frames, so that deeper states are reached before something breaks. */
const wellFormedArb: fc.Arbitrary<RawFrame> = payloadArb.map((payload) => ({
  fin: true,
  opcode: 1,
  payload,
}));

describe('fuzz: the WebSocket', () => {
  let server: ProbeServer;
  let token: string;
  before(async () => {
    server = await startProbeServer({ ROOMCAST_MAX_SUBSCRIPTIONS: String(ROOMS) });
    token = await testToken();
  });
  after(() => server.kill());

  const gauges = async () => {
    const metrics = await server.metrics();
    return {
      ws: sample(metrics, 'roomcast_connections', { transport: 'ws' }),
      subscriptions: sample(metrics, 'roomcast_subscriptions'),
    };
  };

  test('raw frames of every shape: documented replies and close codes, nothing left behind', async () => {
    const before = await server.probe();
    let closes = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof({ weight: 3, arbitrary: wellFormedArb }, { weight: 1, arbitrary: frameArb }),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        async (frames) => {
          const ws = await openRawWebSocket(`${server.url}/ws?token=${token}`);
          for (const frame of frames) ws.write(frame);
          const session = await ws.settle();
          ws.destroy();
          for (const reply of session.texts) {
            const frame = JSON.parse(reply) as { type: string; code?: string };
            assert.ok(SERVER_FRAME_TYPES.has(frame.type), reply);
            if (frame.type === 'error') assert.ok(ERROR_CODES.has(String(frame.code)), reply);
          }
          if (session.closeCode !== undefined) {
            closes++;
            assert.ok(CLOSE_CODES.has(session.closeCode), `close code ${session.closeCode}`);
          }
        },
      ),
      { numRuns: 250 },
    );
    // Every connection is gone, and none of its subscriptions survived it.
    for (let i = 0; i < 100; i++) {
      const { ws, subscriptions } = await gauges();
      if (ws === 0 && subscriptions === 0) break;
      await sleep(100);
    }
    assert.deepEqual(await gauges(), { ws: 0, subscriptions: 0 });
    const after = await server.probe();
    assert.equal(after.polluted, false, `Object.prototype gained ${after.extraPrototypeKeys}`);
    assert.ok(after.heapUsed - before.heapUsed < 32 * MiB, 'heap bounded');
    assert.ok(closes > 0, 'some cases were closed by the server');
  });

  test('rapid subscribe / unsubscribe over a thousand rooms: the server holds exactly what was asked', async (t) => {
    const opArb = fc.tuple(fc.boolean(), roomArb);
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 300 }), async (ops) => {
        const client = await connect(`${server.url.replace('http', 'ws')}/ws?token=${token}`);
        t.after(() => client.close());
        const model = new Set<string>();
        for (const [subscribe, room] of ops) {
          client.send({ type: subscribe ? 'subscribe' : 'unsubscribe', room });
          if (subscribe) model.add(room);
          else model.delete(room);
        }
        // Frames are handled in order: once this marker is live, so is everything before it.
        client.send({ type: 'subscribe', room: 'marker' });
        await client.subscribed('marker');
        assert.equal((await gauges()).subscriptions, model.size + 1);
        await client.until(
          (frames) =>
            [...model].every((room) =>
              frames.some((f) => f.type === 'subscribed' && f.room === room),
            ),
          10_000,
          'every room of the model subscribed',
        );
        client.close();
        await client.closed;
        for (let i = 0; i < 50 && (await gauges()).subscriptions > 0; i++) await sleep(50);
        assert.equal((await gauges()).subscriptions, 0);
      }),
      { numRuns: 25 },
    );
  });

  test('a thousand rooms on one connection: all live; past the limit, refused then closed 1008', async (t) => {
    const client = await connect(`${server.url.replace('http', 'ws')}/ws?token=${token}`);
    t.after(() => client.close());
    for (let i = 0; i < ROOMS; i++) client.send({ type: 'subscribe', room: `k-${i}` });
    await client.until(
      (frames) => frames.filter((f) => f.type === 'subscribed').length === ROOMS,
      30_000,
    );
    const picked = [0, 1, 499, 998, 999].map((i) => `k-${i}`);
    for (const room of picked) await postWebhook(server, 'peer:joined', peerJoined(room, 'p'));
    await client.until((frames) => picked.every((room) => eventSeqs(frames, room).length === 1));
    // One more than the limit, ten times: each refused, then the connection is closed.
    for (let i = 0; i < 10; i++) client.send({ type: 'subscribe', room: `over-${i}` });
    assert.equal(await client.closed, CloseCode.POLICY);
    const refusals = client.frames.filter((f) => f.type === 'error');
    assert.equal(refusals.length, 10);
    assert.ok(refusals.every((f) => f.code === ErrorCode.TOO_MANY_SUBSCRIPTIONS));
  });
});
