/**
 * Server-Sent Events: GET /rooms/:roomId/events (one room) and GET /events?room=a&room=b
 * (several rooms on one connection, for dashboards). Every message carries `id:` (the resume
 * point), `event:` (the webhook event name, or snapshot / subscribed / error) and `data:` (the
 * same JSON frame as on the WebSocket). `Last-Event-ID` (or `?lastEventId=`) resumes. A stream
 * is an `SseConnection` (sse-connection.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, isValidRoomId, parsePosition } from '@roomcast/shared';
import type { Position } from '@roomcast/shared';
import type { RoomcastConfig } from '../config.ts';
import { errorFrame, heartbeatFrame } from '../hub/frames.ts';
import type { Hub } from '../hub/hub.ts';
import type { Access } from '../auth/access.ts';
import { httpError } from '../http-errors.ts';
import type { ExpirySweep } from './expiry-sweep.ts';
import { SseConnection } from './sse-connection.ts';
import { parseMultiRoomId } from './sse-position.ts';
import { createTimerWheel } from './timer-wheel.ts';
import type { TransportStats } from '../metrics.ts';

/** The headers of a stream. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/** The config options the SSE routes read. */
export const SSE_CONFIG_KEYS = ['sseHeartbeat', 'sseRetry', 'maxSubscriptions'] as const;

/** The slice of the config the SSE routes are given. */
export type SseConfig = Pick<RoomcastConfig, (typeof SSE_CONFIG_KEYS)[number]>;

/** Options of the SSE routes. */
export interface SseRouteOptions {
  hub: Hub;
  config: SseConfig;
  access: Access;
  /** Open connection counts (read by the metrics). */
  stats: TransportStats;
  /** The token-expiry sweep both transports share: a stream ends when its token expires. */
  expiry: ExpirySweep;
}

function lastEventIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') return header;
  const query = (request.query as Record<string, unknown>).lastEventId;
  return typeof query === 'string' && query !== '' ? query : undefined;
}

/** Registers the SSE routes. */
export async function sseRoutes(
  app: FastifyInstance,
  { hub, config, access, stats, expiry }: SseRouteOptions,
) {
  const streams = new Set<SseConnection>();
  const beatFrame = heartbeatFrame(config.sseHeartbeat);
  // Each stream gets a heartbeat message once per interval, the streams spread over it
  // (timer-wheel.ts). A message, not a comment: EventSource hides comments from the page, and
  // the client needs to see bytes to tell a dead link.
  const heartbeat = createTimerWheel<SseConnection>(config.sseHeartbeat, (slots) => {
    for (const stream of slots.slot(0)) stream.send(beatFrame);
  });
  // preClose, not onClose: the HTTP server cannot finish closing while streams are open.
  app.addHook('preClose', async () => {
    heartbeat.stop();
    for (const stream of streams) {
      stream.response.end(`retry: ${config.sseRetry}\n\n`);
      stream.end();
    }
  });

  /** Origin, limits and token for these rooms; on refusal the answer is sent and undefined returned. */
  async function admit(request: FastifyRequest, reply: FastifyReply, rooms: string[]) {
    if (!access.checkOrigin(request, reply)) return undefined;
    // The slot is taken (and bound to the response's close) before anything is awaited.
    const ticket = access.admit(request, reply);
    if (!ticket) return undefined;
    const claims = await access.authorizeRooms(request, reply, rooms);
    if (!claims) return undefined;
    // The client hung up during the check: nothing is opened for it (its slot is back already).
    if (ticket.released) {
      reply.hijack();
      return undefined;
    }
    return claims;
  }

  function open(
    request: FastifyRequest,
    reply: FastifyReply,
    rooms: Map<string, Position | undefined>,
    multiRoom: boolean,
    expiresAt: number,
  ) {
    const response = reply.raw;
    reply.hijack();
    response.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>), // CORS and security headers set by hooks
      ...SSE_HEADERS,
      connection: 'keep-alive',
    });
    response.write(`retry: ${config.sseRetry}\n\n`);
    const connection = new SseConnection(response, multiRoom, expiresAt);
    connection.send(beatFrame); // the first message tells the interval
    streams.add(connection);
    heartbeat.add(connection);
    expiry.add(connection);
    stats.sse++;
    // `?occupancy=1` (or `true`): occupancy messages for every room of the stream.
    const asked = String((request.query as Record<string, unknown>).occupancy ?? '');
    const occupancy = asked === '1' || asked === 'true';
    for (const [room, since] of rooms) {
      if (since && connection.positions) connection.positions.set(room, since);
      connection.subscriptions.push(hub.subscribe(connection, room, since, { occupancy }));
    }
    response.on('close', () => {
      stats.sse--;
      connection.end();
      streams.delete(connection);
      heartbeat.delete(connection);
      expiry.delete(connection);
      for (const subscription of connection.subscriptions) hub.unsubscribe(subscription);
    });
    return connection;
  }

  /** HEAD: what a GET would answer (checks included), headers only: no stream is opened. */
  function head(reply: FastifyReply) {
    return reply.code(200).headers(SSE_HEADERS).send();
  }

  app.get('/rooms/:roomId/events', async (request, reply) => {
    const { roomId } = request.params as { roomId: string };
    if (!isValidRoomId(roomId)) return httpError(reply, ErrorCode.BAD_REQUEST, 'invalid room id');
    const claims = await admit(request, reply, [roomId]);
    if (!claims) return reply;
    if (request.method === 'HEAD') return head(reply);
    const lastEventId = lastEventIdOf(request);
    // A malformed id cannot be trusted: the stream starts from a snapshot.
    const since = lastEventId === undefined ? undefined : parsePosition(lastEventId);
    open(request, reply, new Map([[roomId, since]]), false, claims.exp * 1000);
  });

  app.get('/events', async (request, reply) => {
    const raw = (request.query as Record<string, unknown>).room;
    const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((value) =>
      String(value).split(','),
    );
    const rooms = [...new Set(list)];
    if (rooms.length === 0)
      return httpError(reply, ErrorCode.BAD_REQUEST, 'name at least one ?room=');
    if (rooms.length > config.maxSubscriptions) {
      return httpError(
        reply,
        ErrorCode.TOO_MANY_SUBSCRIPTIONS,
        `at most ${config.maxSubscriptions} rooms`,
      );
    }
    const invalid = rooms.find((room) => !isValidRoomId(room));
    if (invalid !== undefined)
      return httpError(reply, ErrorCode.BAD_REQUEST, `invalid room id ${JSON.stringify(invalid)}`);
    if (!access.checkOrigin(request, reply)) return reply;
    // The slot is taken (and bound to the response's close) before anything is awaited.
    const ticket = access.admit(request, reply);
    if (!ticket) return reply;
    // A room the token does not grant is refused inside the stream (FORBIDDEN with its room,
    // as over WebSocket); the others are served.
    const granted = await access.authorizeSome(request, reply, rooms);
    if (!granted) return reply;
    // The client hung up during the check: nothing is opened for it (its slot is back already).
    if (ticket.released) {
      reply.hijack();
      return reply;
    }
    if (request.method === 'HEAD') return head(reply);
    const refused = new Set(granted.refused);
    const lastEventId = lastEventIdOf(request);
    const resume =
      lastEventId === undefined ? new Map<string, Position>() : parseMultiRoomId(lastEventId);
    const connection = open(
      request,
      reply,
      new Map(rooms.filter((room) => !refused.has(room)).map((room) => [room, resume.get(room)])),
      true,
      granted.claims.exp * 1000,
    );
    for (const room of refused) {
      connection.send(errorFrame(ErrorCode.FORBIDDEN, 'the token does not grant this room', room));
    }
  });
}
