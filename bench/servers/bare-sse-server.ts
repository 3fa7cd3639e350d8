/**
 * The SSE fan-out floor: node:http, GET /rooms/:room/events answers text/event-stream, writes a
 * `subscribed` message and keeps the response in a set; a broadcast builds one message string
 * (`id:` / `event:` / `data:` like roomcast's) and writes that same string to every response of
 * the frame's room.
 */
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import { publishHandler } from './publish-endpoint.ts';
import type { RunningServer } from './running-server.ts';

const SSE_PATH = /^\/rooms\/([^/?]+)\/events(\?|$)/;

/** Starts the floor server. */
export async function startBareSse(): Promise<RunningServer> {
  const rooms = new Map<string, Set<ServerResponse>>();
  const server = createServer(
    publishHandler(
      (frame) => {
        const { room, epoch, seq, event } = JSON.parse(frame) as {
          room: string;
          epoch: string;
          seq: number;
          event: string;
        };
        const message = `id: ${epoch}:${seq}\nevent: ${event}\ndata: ${frame}\n\n`;
        for (const response of rooms.get(room) ?? []) response.write(message);
      },
      (req, res) => {
        const room = req.method === 'GET' ? SSE_PATH.exec(req.url ?? '')?.[1] : undefined;
        if (room === undefined) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        res.write('retry: 2000\n\nevent: subscribed\ndata: {"type":"subscribed"}\n\n');
        const name = decodeURIComponent(room);
        let members = rooms.get(name);
        if (!members) rooms.set(name, (members = new Set()));
        members.add(res);
        res.on('close', () => members.delete(res));
      },
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const members of rooms.values()) for (const response of members) response.destroy();
        server.close(() => resolve());
      }),
    stats: () => ({
      connections: [...rooms.values()].reduce((sum, members) => sum + members.size, 0),
    }),
  };
}
