/**
 * The WebSocket fan-out floor: a `ws` server on node:http, GET /ws. A client sends
 * `{"type":"subscribe",...}` and is answered `{"type":"subscribed"}` (so "subscribed" means the
 * same as with roomcast); a broadcast is `for (socket of room) socket.send(sameString)`, the room
 * read from the frame (one JSON.parse per event, not per delivery).
 * No heartbeat, no per-socket state: the least a server can do.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { publishHandler } from './publish-endpoint.ts';
import type { RunningServer } from './running-server.ts';

/** Starts the floor server. */
export async function startBareWs(): Promise<RunningServer> {
  const rooms = new Map<string, Set<WebSocket>>();
  const server = createServer(
    publishHandler((frame) => {
      const { room } = JSON.parse(frame) as { room: string };
      for (const socket of rooms.get(room) ?? []) socket.send(frame);
    }),
  );
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const { room } = JSON.parse(String(data)) as { room: string };
      let members = rooms.get(room);
      if (!members) rooms.set(room, (members = new Set()));
      members.add(socket);
      socket.send('{"type":"subscribed"}');
      socket.on('close', () => members.delete(socket));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close();
        server.close(() => resolve());
      }),
    stats: () => ({ connections: wss.clients.size }),
  };
}
