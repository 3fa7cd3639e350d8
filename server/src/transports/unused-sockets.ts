/**
 * Connections that never sent a byte, ended when the app closes. Browsers open spare
 * connections ahead of need (Chromium's preconnect, or a reconnect racing the shutdown), and
 * Node's `server.close()` leaves them open: it ends idle keep-alive connections, but not one that
 * never carried a request, so `app.close()` waited for the browser to give up on it (up to two
 * minutes). Such a connection holds nothing in flight, so ending it loses nothing.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Follows `server`'s connections; `endUnused()` ends those that have read nothing yet. */
export function trackUnusedSockets(server: Server): { endUnused(): void } {
  const open = new Set<Socket>();
  const forget = function (this: Socket) {
    open.delete(this);
  };
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', forget);
  });
  return {
    endUnused() {
      for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
    },
  };
}
