/**
 * Shutdown of the WebSocket side: every subscriber is told 1012 (service restart) in one pass,
 * and the close handshakes get a short grace, not ws's 30 s close timeout. A node restarted under
 * 10,000 subscribers otherwise waited for the slowest client to answer its close frame (11.6 s in
 * the avalanche benchmark, past `ROOMCAST_SHUTDOWN_TIMEOUT`'s 10 s): a client that has not
 * answered within the grace has the close frame in hand or is gone, and its TCP connection is
 * ended instead.
 */
import type { WebSocketServer } from 'ws';

/** How long the close handshakes may take before the remaining sockets are ended, ms. */
export const CLOSE_HANDSHAKE_GRACE_MS = 2000;

/**
 * Sends `code` to every client of `server` at once, then calls `done` when they are all closed,
 * at most `graceMs` later (the rest are terminated).
 */
export function closeAllWebSockets(
  server: WebSocketServer,
  code: number,
  reason: string,
  done: () => void,
  graceMs = CLOSE_HANDSHAKE_GRACE_MS,
): void {
  for (const client of server.clients) client.close(code, reason);
  const timer = setTimeout(() => {
    for (const client of server.clients) client.terminate();
  }, graceMs);
  timer.unref();
  server.close(() => {
    clearTimeout(timer);
    done();
  });
}
