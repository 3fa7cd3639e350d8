/**
 * Socket.IO 4 as commonly deployed for rooms: clients join with `socket.join(room)` (acked), a
 * broadcast is `io.to(room).emit('event', frame)`. WebSocket transport only (the subscribers use
 * it only), default options otherwise (per-message deflate is off by default in v4). With
 * `recovery`, connection-state recovery is on (Socket.IO ≥ 4.6): a client back within
 * `maxDisconnectionDuration` (2 min, the documented default) gets its id, rooms and the packets
 * it missed.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { publishHandler } from './publish-endpoint.ts';
import type { RunningServer } from './running-server.ts';

/** Starts the Socket.IO server, with connection-state recovery when `recovery`. */
export async function startSocketIo({ recovery = false } = {}): Promise<RunningServer> {
  const server = createServer();
  const io = new Server(server, {
    serveClient: false,
    transports: ['websocket'],
    ...(recovery
      ? { connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: true } }
      : {}),
  });
  // Socket.IO takes over the 'request' listeners and passes on what is not its own path.
  server.on(
    'request',
    publishHandler(
      (frame) => {
        const parsed = JSON.parse(frame) as { room: string };
        io.to(parsed.room).emit('event', parsed);
      },
      (req, res) => {
        // Socket.IO's own paths are answered by its listener.
        if (!req.url?.startsWith('/socket.io/')) res.writeHead(404).end();
      },
    ),
  );
  io.on('connection', (socket) => {
    socket.on('subscribe', (room: string, ack: (answer: string) => void) => {
      void socket.join(room);
      ack('subscribed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
    stats: () => ({ connections: io.engine.clientsCount }),
  };
}
