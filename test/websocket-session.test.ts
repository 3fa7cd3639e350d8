/**
 * A WebSocket connection keeps its session itself (websocket-connection.ts): the auth deadline,
 * the token's expiry and grace, strikes, the subscribe budget, the frames held while a check
 * runs, the subscriptions. Checked on a stand-in socket that records what it is sent and told.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WebSocket } from 'ws';
import { CloseCode } from '@roomcast/shared';
import type { Subscription } from '../server/src/hub/hub.ts';
import {
  WebSocketConnection,
  createWebSocketRules,
} from '../server/src/transports/websocket-connection.ts';
import type { WebSocketStart } from '../server/src/transports/websocket-connection.ts';

/** A socket that is open until closed, and remembers frames and its close. */
function standInSocket() {
  const socket = {
    readyState: 1,
    bufferedAmount: 0,
    frames: [] as string[],
    closed: undefined as number | undefined,
    send(data: Buffer | string) {
      socket.frames.push(String(data));
    },
    close(code: number) {
      socket.closed ??= code;
      socket.readyState = 3;
    },
  };
  return socket;
}

const rules = createWebSocketRules({ tokenGrace: 1000, subscribeRate: 2, maxSubscriptions: 3 });

function connect(start: WebSocketStart) {
  const socket = standInSocket();
  const connection = new WebSocketConnection(
    socket as unknown as WebSocket,
    '127.0.0.1',
    false,
    rules,
    start,
  );
  return { socket, connection };
}

const codes = (frames: string[]) => frames.map((frame) => JSON.parse(frame).code as string);

describe('the WebSocket session', () => {
  test('no auth frame by the deadline: UNAUTHORIZED, then close 1008', () => {
    const { socket, connection } = connect({ authDeadline: 1000 });
    assert.equal(connection.admitted, false);
    connection.checkExpiry(1000);
    assert.equal(socket.closed, undefined);
    connection.checkExpiry(1001);
    assert.deepEqual(codes(socket.frames), ['UNAUTHORIZED']);
    assert.equal(socket.closed, CloseCode.POLICY);
  });

  test('a token being verified is not late; a verified one ends the deadline', async () => {
    const { socket, connection } = connect({ authDeadline: 1000 });
    let verified!: () => void;
    const replayed: string[] = [];
    connection.holdWhile(new Promise<void>((resolve) => (verified = resolve)), (_c, data) =>
      replayed.push(String(data)),
    );
    assert.ok(connection.hold(Buffer.from('next'), false));
    connection.checkExpiry(5000);
    assert.equal(socket.closed, undefined, 'held: a check is running');
    assert.equal(connection.authenticate({ rooms: ['a'], exp: 10 }), true);
    verified();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(replayed, ['next']);
    assert.equal(connection.hold(Buffer.from('later'), false), false);
    connection.checkExpiry(5000);
    assert.equal(socket.closed, undefined);
  });

  test('an expired token: TOKEN_EXPIRED once, a refresh within the grace keeps it, else 4001', () => {
    const { socket, connection } = connect({ claims: { rooms: ['a'], exp: 10 } });
    assert.equal(connection.tokenExpired(9999), false);
    connection.checkExpiry(10_000);
    connection.checkExpiry(10_500);
    assert.deepEqual(codes(socket.frames), ['TOKEN_EXPIRED']);
    assert.equal(connection.tokenExpired(10_500), true);
    assert.equal(connection.authenticate({ rooms: ['a'], exp: 20 }), false, 'a refresh');
    connection.checkExpiry(12_000);
    assert.equal(socket.closed, undefined);
    connection.checkExpiry(20_000);
    connection.checkExpiry(20_999);
    assert.equal(socket.closed, undefined, 'within the grace');
    connection.checkExpiry(21_000);
    assert.equal(socket.closed, CloseCode.TOKEN_EXPIRED);
  });

  test('the tenth strike closes with 1008; too many held frames too', () => {
    const struck = connect({ claims: { rooms: ['*'], exp: 1e10 } });
    for (let i = 0; i < 9; i++) struck.connection.strike();
    assert.equal(struck.socket.closed, undefined);
    struck.connection.strike();
    assert.equal(struck.socket.closed, CloseCode.POLICY);

    const flooding = connect({ claims: { rooms: ['*'], exp: 1e10 } });
    flooding.connection.holdWhile(new Promise(() => undefined), () => undefined);
    for (let i = 0; i < 100; i++) flooding.connection.hold(Buffer.from('x'), false);
    assert.equal(flooding.socket.closed, undefined);
    flooding.connection.hold(Buffer.from('x'), false);
    assert.equal(flooding.socket.closed, CloseCode.POLICY);
  });

  test('the subscribe budget: a burst of max(maxSubscriptions, rate), refilled at the rate', () => {
    const { connection } = connect({ claims: { rooms: ['*'], exp: 1e10 } });
    const allowed = (now: number, times: number) =>
      Array.from({ length: times }, () => connection.allowSubscribe(now)).filter(Boolean).length;
    assert.equal(allowed(1000, 5), 3);
    assert.equal(allowed(1500, 5), 1, 'half a second at 2 a second');
  });

  test('subscriptions are kept by room and handed back to be ended', () => {
    const { connection } = connect({ hostCheck: (room) => room === 'a' });
    assert.equal(connection.admitted, true);
    assert.equal(connection.hostAllows('a'), true);
    assert.equal(connection.hostAllows('b'), false);
    const a = { room: 'a' } as unknown as Subscription;
    const b = { room: 'b' } as unknown as Subscription;
    connection.addSubscription('a', a);
    connection.addSubscription('b', b);
    assert.equal(connection.subscriptionCount, 2);
    assert.equal(connection.subscriptionOf('a'), a);
    for (const room of connection.subscribedRooms()) {
      if (room === 'a') assert.equal(connection.removeSubscription(room), a);
    }
    assert.deepEqual(connection.removeSubscriptions(), [b]);
    assert.equal(connection.subscriptionCount, 0);
  });
});
