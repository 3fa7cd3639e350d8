/**
 * Server-Sent Events: GET /rooms/:roomId/events (one room) and GET /events?room=a&room=b
 * (several rooms on one connection, for dashboards). Every message carries `id:` (the resume
 * point), `event:` (the webhook event name, or snapshot / subscribed / error) and `data:` (the
 * same JSON frame as on the WebSocket). `Last-Event-ID` (or `?lastEventId=`) resumes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { ErrorCode, formatPosition, isValidRoomId, parsePosition } from '@roomcast/shared';
import type { Position } from '@roomcast/shared';
import type { RoomcastConfig } from '../config.ts';
import type { Connection, OutgoingFrame } from '../hub/connection.ts';
import type { Hub, Subscription } from '../hub/hub.ts';
import { sendError } from '../http-errors.ts';
import { formatMultiRoomId, parseMultiRoomId } from './sse-position.ts';

/** A subscriber on an SSE stream (one or several rooms). */
class SseConnection implements Connection {
  readonly transport = 'sse' as const;
  readonly subscriptions: Subscription[] = [];
  /** Every room's position, for the multi-room id; undefined on a single-room stream. */
  readonly positions: Map<string, Position> | undefined;
  ended = false;

  constructor(
    readonly response: ServerResponse,
    multiRoom: boolean,
  ) {
    this.positions = multiRoom ? new Map() : undefined;
  }

  send(frame: OutgoingFrame): void {
    if (this.ended) return;
    let id = '';
    if (frame.position) {
      if (this.positions) {
        this.positions.set(frame.room, frame.position);
        id = formatMultiRoomId(this.positions);
      } else id = formatPosition(frame.position);
    }
    this.response.write(`id: ${id}\nevent: ${frame.name}\ndata: ${frame.json}\n\n`);
  }

  bufferedBytes(): number {
    return this.response.writableLength;
  }

  dropSlow(): void {
    // A stream that is not read cannot be ended politely: cut it; the client resumes by id.
    this.end();
    this.response.destroy();
  }

  end(): void {
    this.ended = true;
  }
}

/** Options of the SSE routes. */
export interface SseRouteOptions {
  hub: Hub;
  config: RoomcastConfig;
}

function lastEventIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') return header;
  const query = (request.query as Record<string, unknown>).lastEventId;
  return typeof query === 'string' && query !== '' ? query : undefined;
}

/** Registers the SSE routes. */
export async function sseRoutes(app: FastifyInstance, { hub, config }: SseRouteOptions) {
  const streams = new Set<SseConnection>();
  const heartbeat = setInterval(() => {
    for (const stream of streams) if (!stream.ended) stream.response.write(': heartbeat\n\n');
  }, config.sseHeartbeat);
  heartbeat.unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    for (const stream of streams) {
      stream.response.end(`retry: ${config.sseRetry}\n\n`);
      stream.end();
    }
  });

  function open(reply: FastifyReply, rooms: Map<string, Position | undefined>, multiRoom: boolean) {
    const response = reply.raw;
    reply.hijack();
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    response.write(`retry: ${config.sseRetry}\n\n`);
    const connection = new SseConnection(response, multiRoom);
    streams.add(connection);
    for (const [room, since] of rooms) {
      if (since && connection.positions) connection.positions.set(room, since);
      connection.subscriptions.push(hub.subscribe(connection, room, since));
    }
    response.on('close', () => {
      connection.end();
      streams.delete(connection);
      for (const subscription of connection.subscriptions) hub.unsubscribe(subscription);
    });
  }

  app.get('/rooms/:roomId/events', async (request, reply) => {
    const { roomId } = request.params as { roomId: string };
    if (!isValidRoomId(roomId))
      return sendError(reply, 400, ErrorCode.BAD_REQUEST, 'invalid room id');
    const lastEventId = lastEventIdOf(request);
    // A malformed id cannot be trusted: the stream starts from a snapshot.
    const since = lastEventId === undefined ? undefined : parsePosition(lastEventId);
    open(reply, new Map([[roomId, since]]), false);
  });

  app.get('/events', async (request, reply) => {
    const raw = (request.query as Record<string, unknown>).room;
    const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((value) =>
      String(value).split(','),
    );
    const rooms = [...new Set(list)];
    if (rooms.length === 0)
      return sendError(reply, 400, ErrorCode.BAD_REQUEST, 'name at least one ?room=');
    if (rooms.length > config.maxSubscriptions) {
      return sendError(
        reply,
        400,
        ErrorCode.TOO_MANY_SUBSCRIPTIONS,
        `at most ${config.maxSubscriptions} rooms`,
      );
    }
    const invalid = rooms.find((room) => !isValidRoomId(room));
    if (invalid !== undefined)
      return sendError(
        reply,
        400,
        ErrorCode.BAD_REQUEST,
        `invalid room id ${JSON.stringify(invalid)}`,
      );
    const lastEventId = lastEventIdOf(request);
    const resume =
      lastEventId === undefined ? new Map<string, Position>() : parseMultiRoomId(lastEventId);
    open(reply, new Map(rooms.map((room) => [room, resume.get(room)])), true);
  });
}
