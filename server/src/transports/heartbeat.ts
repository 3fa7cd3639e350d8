/**
 * WebSocket liveness on a timer wheel (`timer-wheel.ts`): each socket is pinged once per
 * `interval` (the pings of all sockets spread over it) and terminated when its pong is `timeout`
 * late. The ping is sent by `pulse(socket)`, which may send more with it: the app-level
 * heartbeat frame, because a browser never sees protocol pings and needs bytes of its own to
 * tell a dead link.
 */
import type { WebSocket } from 'ws';
import { createTimerWheel, tickOf } from './timer-wheel.ts';

/** Liveness tracking of a set of sockets. */
export interface Heartbeat {
  add(socket: WebSocket): void;
  delete(socket: WebSocket): void;
  stop(): void;
}

/**
 * Starts the pings; `onTimeout` is told of each socket terminated for want of a pong. `pulse`
 * sends a socket's ping (and whatever goes with it); by default `socket.ping()`.
 */
export function createHeartbeat(
  interval: number,
  timeout: number,
  onTimeout?: (socket: WebSocket) => void,
  pulse: (socket: WebSocket) => void = (socket) => socket.ping(),
): Heartbeat {
  // A slot pinged at one tick is checked `lag` ticks later, at least `timeout` after its ping.
  const tickMs = tickOf(interval);
  const lag = Math.ceil(timeout / tickMs);
  /** When each socket's unanswered ping was sent; 0 once the last one was answered. */
  const pingedAt = new Map<WebSocket, number>();
  const markAlive = function (this: WebSocket) {
    if (pingedAt.has(this)) pingedAt.set(this, 0);
  };

  function forget(socket: WebSocket): void {
    wheel.delete(socket);
    pingedAt.delete(socket);
  }

  function expire(sockets: ReadonlySet<WebSocket>, now: number): void {
    for (const socket of sockets) {
      const sent = pingedAt.get(socket)!;
      // Half a tick of slack: timers fire late by a few ms, and not always by the same amount.
      if (sent === 0 || now - sent < timeout - tickMs / 2) continue;
      forget(socket);
      onTimeout?.(socket);
      socket.terminate();
    }
  }

  function ping(sockets: ReadonlySet<WebSocket>, now: number): void {
    for (const socket of sockets) {
      // Still waiting for the last pong (a timeout longer than the interval): no second ping.
      if (pingedAt.get(socket) !== 0) continue;
      pingedAt.set(socket, now);
      pulse(socket);
    }
  }

  const wheel = createTimerWheel<WebSocket>(interval, (slots, now) => {
    // Checked before pinging: with a timeout that is a multiple of the interval, the slot to
    // check is the one about to be pinged.
    expire(slots.slot(lag), now);
    ping(slots.slot(0), now);
  });

  return {
    add(socket) {
      pingedAt.set(socket, 0);
      wheel.add(socket);
      socket.on('pong', markAlive);
    },
    delete: forget,
    stop: () => wheel.stop(),
  };
}
