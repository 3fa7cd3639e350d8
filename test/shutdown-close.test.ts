/**
 * Shutdown under subscribers that do not answer: every WebSocket is told 1012 at once, and
 * app.close() waits for the close handshakes only a short grace (close-all.ts), not ws's 30 s
 * close timeout per silent client. Real sockets on port 0.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { closeAllWebSockets } from '../server/src/transports/close-all.ts';
import { startServer } from './helpers/server.ts';

/** Opens a client, waits for its first frame (the server accepted it), then stops reading. */
async function silentClient(url: string, room?: string): Promise<{ ws: WebSocket; raw: Socket }> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined);
  const frames: string[] = [];
  let heard = () => {};
  ws.on('message', (data) => {
    frames.push(String(data));
    heard();
  });
  const until = (check: () => boolean) =>
    new Promise<void>((resolve) => {
      heard = () => check() && resolve();
      heard();
    });
  await until(() => frames.length > 0);
  if (room) {
    ws.send(JSON.stringify({ type: 'subscribe', room }));
    await until(() => frames.some((frame) => frame.includes('"subscribed"')));
  }
  const raw = (ws as unknown as { _socket: Socket })._socket;
  // Neither reads the close frame nor answers it: a client process that is far behind.
  raw.pause();
  return { ws, raw };
}

/** Lets a silent client read again: what it had been sent, then the end; its close code. */
async function closeCodeOf({ ws, raw }: { ws: WebSocket; raw: Socket }): Promise<number> {
  const closed = once(ws, 'close') as Promise<[number]>;
  raw.resume();
  return (await closed)[0];
}

describe('shutdown closes every WebSocket promptly', () => {
  test('closeAllWebSockets: 1012 to all at once, the silent ones ended after the grace', async () => {
    const http = createServer();
    const server = new WebSocketServer({ server: http });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    server.on('connection', (socket) => socket.send('hi'));
    const { port } = http.address() as AddressInfo;
    const clients = await Promise.all(
      Array.from({ length: 20 }, () => silentClient(`ws://127.0.0.1:${port}`)),
    );
    let left = -1;
    const done = new Promise<void>((resolve) =>
      closeAllWebSockets(server, 1012, 'restart', resolve, 200),
    ).then(() => (left = server.clients.size));
    assert.equal(server.clients.size, 20, 'nothing is ended before the grace');
    for (const socket of server.clients) assert.equal(socket.readyState, WebSocket.CLOSING);
    await done;
    assert.equal(left, 0, 'done once every client is gone');
    assert.deepEqual(new Set(await Promise.all(clients.map(closeCodeOf))), new Set([1012]));
    http.close();
  });

  test(
    'app.close() with 50 subscribers that never answer the close frame ends well before ws’s 30 s',
    { timeout: 20_000 },
    async () => {
      const server = await startServer();
      const clients = await Promise.all(
        Array.from({ length: 50 }, (_, i) => silentClient(server.wsUrl, `room-${i % 5}`)),
      );
      await server.close();
      assert.equal(server.app.websocketServer.clients.size, 0);
      // Each was told 1012 before its connection ended (it reads it once it reads again).
      assert.deepEqual(new Set(await Promise.all(clients.map(closeCodeOf))), new Set([1012]));
    },
  );
});
