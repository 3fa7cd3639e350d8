/**
 * One timer wheel for every WebSocket's liveness: each socket is pinged once per `interval` and
 * terminated when its pong is `timeout` late. The sockets are spread over the wheel's slots, and
 * each tick pings one slot: pinging 20,000 sockets in one round blocked the event loop for
 * ~100 ms (and their pongs arrived together), which every event in flight then waited for.
 * One timer for the whole process instead of two per connection.
 */
import type { WebSocket } from 'ws';

/** Liveness tracking of a set of sockets. */
export interface Heartbeat {
  add(socket: WebSocket): void;
  delete(socket: WebSocket): void;
  stop(): void;
}

/** Slots of the wheel, when the interval allows ticks of at least `MIN_TICK_MS`. */
const SLOTS = 100;
const MIN_TICK_MS = 10;

interface Liveness {
  slot: Set<WebSocket>;
  /** When the unanswered ping was sent; 0 when the last one was answered. */
  pingedAt: number;
}

/** Starts the wheel; `onTimeout` is told of each socket terminated for want of a pong. */
export function createHeartbeat(
  interval: number,
  timeout: number,
  onTimeout?: (socket: WebSocket) => void,
): Heartbeat {
  const tick = Math.max(MIN_TICK_MS, Math.floor(interval / SLOTS));
  const slots = Array.from({ length: Math.max(1, Math.round(interval / tick)) }, () => {
    return new Set<WebSocket>();
  });
  // A slot pinged at tick k is checked at tick k + lag, at least `timeout` later.
  const lag = Math.ceil(timeout / tick) % slots.length;
  const sockets = new Map<WebSocket, Liveness>();
  let cursor = 0;
  let placed = 0;
  const markAlive = function (this: WebSocket) {
    const liveness = sockets.get(this);
    if (liveness) liveness.pingedAt = 0;
  };

  function forget(socket: WebSocket): void {
    sockets.get(socket)?.slot.delete(socket);
    sockets.delete(socket);
  }

  function expire(slot: Set<WebSocket>, now: number): void {
    for (const socket of slot) {
      const { pingedAt } = sockets.get(socket)!;
      // Half a tick of slack: timers fire late by a few ms, and not always by the same amount.
      if (pingedAt === 0 || now - pingedAt < timeout - tick / 2) continue;
      forget(socket);
      onTimeout?.(socket);
      socket.terminate();
    }
  }

  function ping(slot: Set<WebSocket>, now: number): void {
    for (const socket of slot) {
      const liveness = sockets.get(socket)!;
      // Still waiting for the last pong (a timeout longer than the interval): no second ping.
      if (liveness.pingedAt !== 0) continue;
      liveness.pingedAt = now;
      socket.ping();
    }
  }

  const wheel = setInterval(() => {
    const now = Date.now();
    // Checked before pinging: with a timeout that is a multiple of the interval, the slot to
    // check is the one about to be pinged.
    expire(slots[(cursor - lag + slots.length) % slots.length]!, now);
    ping(slots[cursor]!, now);
    cursor = (cursor + 1) % slots.length;
  }, tick);
  wheel.unref();

  return {
    add(socket) {
      const slot = slots[placed++ % slots.length]!;
      slot.add(socket);
      sockets.set(socket, { slot, pingedAt: 0 });
      socket.on('pong', markAlive);
    },
    delete: forget,
    stop() {
      clearInterval(wheel);
    },
  };
}
