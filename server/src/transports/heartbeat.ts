/**
 * One timer wheel for every WebSocket's liveness: a ping round every `interval`, and one check
 * `timeout` later that terminates whoever has not answered. Two timers for the whole process
 * instead of two per connection.
 */
import type { WebSocket } from 'ws';

/** Liveness tracking of a set of sockets. */
export interface Heartbeat {
  add(socket: WebSocket): void;
  delete(socket: WebSocket): void;
  stop(): void;
}

/** Starts the ping rounds; `onTimeout` is told of each socket terminated for want of a pong. */
export function createHeartbeat(
  interval: number,
  timeout: number,
  onTimeout?: (socket: WebSocket) => void,
): Heartbeat {
  const awaitingPong = new Map<WebSocket, boolean>();
  const markAlive = function (this: WebSocket) {
    awaitingPong.set(this, false);
  };
  let check: NodeJS.Timeout | undefined;

  const round = setInterval(() => {
    for (const socket of awaitingPong.keys()) {
      awaitingPong.set(socket, true);
      socket.ping();
    }
    check = setTimeout(() => {
      for (const [socket, waiting] of awaitingPong) {
        if (!waiting) continue;
        onTimeout?.(socket);
        socket.terminate();
      }
    }, timeout);
    check.unref();
  }, interval);
  round.unref();

  return {
    add(socket) {
      awaitingPong.set(socket, false);
      socket.on('pong', markAlive);
    },
    delete(socket) {
      awaitingPong.delete(socket);
    },
    stop() {
      clearInterval(round);
      if (check) clearTimeout(check);
    },
  };
}
