/**
 * Helpers for the attack tests (test/hardening*.test.ts): the server's gauges, a WebSocket
 * client that stops reading, raw HTTP requests written by hand, and the check that the server
 * still serves a normal subscriber after an attack.
 */
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect } from './ws-client.ts';
import type { TestSocket } from './ws-client.ts';
import { parseMetrics, sample } from './metrics.ts';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The gauges that must come back to zero after every attack. */
export interface Gauges {
  ws: number;
  sse: number;
  subscriptions: number;
  activeRooms: number;
}

/** Reads the gauges from /metrics (`headers` for a guarded endpoint). */
export async function gauges(url: string, headers: Record<string, string> = {}): Promise<Gauges> {
  const samples = parseMetrics(await (await fetch(`${url}/metrics`, { headers })).text());
  return {
    ws: sample(samples, 'roomcast_connections', { transport: 'ws' }),
    sse: sample(samples, 'roomcast_connections', { transport: 'sse' }),
    subscriptions: sample(samples, 'roomcast_subscriptions'),
    activeRooms: sample(samples, 'roomcast_active_rooms'),
  };
}

/** Waits until every gauge reads zero; fails with the last reading after `timeoutMs`. */
export async function gaugesBackToZero(url: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Gauges;
  for (;;) {
    last = await gauges(url);
    if (Object.values(last).every((value) => value === 0)) return;
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  assert.deepEqual(last, { ws: 0, sse: 0, subscriptions: 0, activeRooms: 0 }, 'gauges at rest');
}

/** A normal subscriber still gets a snapshot and `subscribed` (the server keeps serving). */
export async function stillServes(wsUrl: string, room = 'still-serving'): Promise<void> {
  const client = await connect(wsUrl);
  try {
    client.send({ type: 'subscribe', room });
    await client.subscribed(room);
    assert.equal(client.of(room, 'snapshot').length, 1);
  } finally {
    client.close();
    await client.closed;
  }
}

/** The raw TCP socket under a `ws` client. */
export function rawSocketOf(client: TestSocket): Socket {
  return (client.socket as unknown as { _socket: Socket })._socket;
}

/** Opens a TCP connection to `url`'s host and port. */
export function tcp(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.on('error', reject);
  });
}

/**
 * Writes `head` on a fresh connection and resolves with what came back until the server closed,
 * `waitMs` passed, or (`firstAnswer`) the first bytes of an answer came.
 */
export async function rawExchange(
  url: string,
  head: string,
  {
    waitMs = 2000,
    hangUpAfterMs,
    firstAnswer = false,
  }: { waitMs?: number; hangUpAfterMs?: number; firstAnswer?: boolean } = {},
): Promise<string> {
  const socket = await tcp(url);
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk));
  socket.on('error', () => undefined);
  socket.write(head);
  if (hangUpAfterMs !== undefined) {
    // 0: in the same tick as the request, so the server reads request and reset together.
    if (hangUpAfterMs > 0) await sleep(hangUpAfterMs);
    socket.resetAndDestroy(); // a reset, as a client that crashed or lost its network sends
    return answer;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    socket.on('close', done);
    // The answer's head (and what came with it): enough when the server keeps the connection.
    if (firstAnswer) socket.once('data', () => setTimeout(done, 20));
  });
  socket.destroy();
  return answer;
}
