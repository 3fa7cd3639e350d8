/**
 * GET /ws: one WebSocket carries any number of room subscriptions (JSON text frames of the
 * public contract). Frames are parsed here and turned into Hub calls.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { CloseCode, ErrorCode } from '@roomcast/shared';
import type { RoomcastConfig } from '../config.ts';
import type { Connection, OutgoingFrame } from '../hub/connection.ts';
import { errorFrame } from '../hub/hub.ts';
import type { Hub, Subscription } from '../hub/hub.ts';
import { parseClientFrame } from './client-frames.ts';
import { createHeartbeat } from './heartbeat.ts';

/** Invalid frames tolerated before the connection is closed with 1008. */
const MAX_STRIKES = 10;
const TEXT = { binary: false } as const;
const OPEN = 1;

/** A subscriber on a WebSocket. */
class WebSocketConnection implements Connection {
  readonly transport = 'ws' as const;
  readonly subscriptions = new Map<string, Subscription>();
  strikes = 0;

  constructor(readonly socket: WebSocket) {}

  send(frame: OutgoingFrame): void {
    if (this.socket.readyState !== OPEN) return;
    // Bytes are made once per frame and shared by every subscriber of the room.
    this.socket.send((frame.bytes ??= Buffer.from(frame.json)), TEXT);
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  dropSlow(): void {
    this.socket.close(CloseCode.SLOW_CONSUMER, 'slow consumer: reconnect and resume');
  }
}

/** Options of the WebSocket route. */
export interface WebSocketRouteOptions {
  hub: Hub;
  config: RoomcastConfig;
}

/** Registers GET /ws. */
export async function websocketRoutes(
  app: FastifyInstance,
  { hub, config }: WebSocketRouteOptions,
) {
  const heartbeat = createHeartbeat(config.pingInterval, config.pongTimeout);
  const connections = new Set<WebSocketConnection>();
  app.addHook('onClose', async () => {
    heartbeat.stop();
    for (const connection of connections)
      connection.socket.close(CloseCode.SERVICE_RESTART, 'server shutting down');
  });

  function refuse(connection: WebSocketConnection, code: string, message: string, room?: string) {
    connection.send(errorFrame(code, message, room));
    if (++connection.strikes >= MAX_STRIKES)
      connection.socket.close(CloseCode.POLICY, 'too many invalid frames');
  }

  function onMessage(connection: WebSocketConnection, data: Buffer, isBinary: boolean) {
    if (isBinary)
      return refuse(connection, ErrorCode.INVALID_FRAME, 'binary frames are not accepted');
    const frame = parseClientFrame(data.toString('utf8'));
    if ('error' in frame)
      return refuse(connection, frame.error.code, frame.error.message, frame.error.room);
    switch (frame.type) {
      case 'subscribe': {
        const existing = connection.subscriptions.get(frame.room);
        if (!existing && connection.subscriptions.size >= config.maxSubscriptions) {
          return refuse(
            connection,
            ErrorCode.TOO_MANY_SUBSCRIPTIONS,
            `at most ${config.maxSubscriptions} rooms per connection`,
            frame.room,
          );
        }
        // Subscribing again restarts the room (a client's way to force a resync).
        if (existing) hub.unsubscribe(existing);
        connection.subscriptions.set(
          frame.room,
          hub.subscribe(connection, frame.room, frame.since),
        );
        return;
      }
      case 'unsubscribe': {
        const existing = connection.subscriptions.get(frame.room);
        if (existing) {
          hub.unsubscribe(existing);
          connection.subscriptions.delete(frame.room);
        }
        return;
      }
      case 'auth':
        return; // Tokens are checked from the auth issue on; accepted and ignored until then.
    }
  }

  app.get('/ws', { websocket: true }, (socket) => {
    // Only the socket is kept: holding the request would cost memory per connection.
    const connection = new WebSocketConnection(socket);
    connections.add(connection);
    heartbeat.add(socket);
    socket.on('message', (data: Buffer, isBinary: boolean) =>
      onMessage(connection, data, isBinary),
    );
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      connections.delete(connection);
      heartbeat.delete(socket);
      for (const subscription of connection.subscriptions.values()) hub.unsubscribe(subscription);
      connection.subscriptions.clear();
    });
  });
}
