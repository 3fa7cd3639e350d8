/**
 * GET /ws: one WebSocket carries any number of room subscriptions (JSON text frames of the
 * public contract). The upgrade checks origin, limits and a token if one is given; a token may
 * also come as the first frame `{type:"auth"}` and be refreshed the same way. Each socket's
 * session state lives in its `WebSocketConnection` (websocket-connection.ts), behind methods;
 * this file speaks the protocol with it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { CloseCode, ErrorCode } from '@roomcast/shared';
import type { Position } from '@roomcast/shared';
import type { Access } from '../auth/access.ts';
import { ALL_ROOMS, grantsRoom, tokenOf } from '../auth/tokens.ts';
import type { SubscriberClaims } from '../auth/tokens.ts';
import type { RoomcastConfig } from '../config.ts';
import { errorFrame, heartbeatFrame } from '../hub/frames.ts';
import type { Hub } from '../hub/hub.ts';
import { httpError } from '../http-errors.ts';
import type { Engine, RoomListQuery } from '../engine/engine.ts';
import { createRoomsFeed } from '../rooms/rooms-feed.ts';
import { parseClientFrame } from './client-frames.ts';
import type { ParsedClientFrame } from './client-frames.ts';
import type { ExpirySweep } from './expiry-sweep.ts';
import { createHeartbeat } from './heartbeat.ts';
import { WebSocketConnection, createWebSocketRules } from './websocket-connection.ts';
import type { TransportStats } from '../metrics.ts';

/**
 * Lets the upgrade's request, reply and response be collected: @fastify/websocket leaves the
 * raw socket pointing at the HTTP response (and so at the whole request graph, ~6 KiB) and an
 * error listener holding request and reply, for the socket's whole life.
 */
function releaseUpgradeRequest(
  request: FastifyRequest,
  socket: WebSocket,
  errorListeners: ReturnType<WebSocket['listeners']>,
): void {
  const raw = request.raw.socket as
    (typeof request.raw.socket & { _httpMessage?: ServerResponse }) | null;
  raw?._httpMessage?.detachSocket(raw);
  for (const listener of errorListeners) socket.removeListener('error', listener as () => void);
}

/** The config options the WebSocket route reads. */
export const WEBSOCKET_CONFIG_KEYS = [
  'maxBufferedBytes',
  'roomIdleTtl',
  'pingInterval',
  'pongTimeout',
  'tokenGrace',
  'authTimeout',
  'maxSubscriptions',
  'subscribeRate',
  'maxFrameBytes',
] as const;

/** The slice of the config the WebSocket route is given. */
export type WebSocketConfig = Pick<RoomcastConfig, (typeof WEBSOCKET_CONFIG_KEYS)[number]>;

/** Options of the WebSocket route. */
export interface WebSocketRouteOptions {
  hub: Hub;
  config: WebSocketConfig;
  access: Access;
  /** Open connection counts (read by the metrics). */
  stats: TransportStats;
  /** Read by the rooms feed (`{type:"rooms"}`, rooms/rooms-feed.ts). */
  engine: Engine;
  /** The token-expiry sweep both transports share (auth deadline, expiry, grace). */
  expiry: ExpirySweep;
}

/** Registers GET /ws. */
export async function websocketRoutes(
  app: FastifyInstance,
  { hub, config, access, stats, engine, expiry }: WebSocketRouteOptions,
) {
  const feed = createRoomsFeed({
    engine,
    occupancy: hub.occupancy,
    log: app.log,
    maxBufferedBytes: config.maxBufferedBytes,
    roomIdleTtl: config.roomIdleTtl,
  });
  const beatFrame = heartbeatFrame(config.pingInterval);
  const rules = createWebSocketRules(config);
  const bySocket = new WeakMap<WebSocket, WebSocketConnection>();
  // A dead network path (no FIN, no RST) is only found here: counted and logged. Each ping
  // goes with an app-level heartbeat frame to authenticated connections (the browser's side
  // of liveness: it cannot see pings), in one write.
  const heartbeat = createHeartbeat(
    config.pingInterval,
    config.pongTimeout,
    () => {
      stats.heartbeatTimeouts++;
      app.log.warn({ reason: 'heartbeat_timeout' }, 'subscriber dropped: no pong in time');
    },
    (socket) => {
      const connection = bySocket.get(socket);
      if (connection?.admitted) connection.pulse(beatFrame);
      else socket.ping();
    },
  );
  const connections = new Set<WebSocketConnection>();
  /** Claims verified at the upgrade, handed to the socket handler. */
  const upgradeClaims = new WeakMap<FastifyRequest, SubscriberClaims>();

  app.addHook('onClose', async () => {
    heartbeat.stop();
    feed.close();
    for (const connection of connections) {
      connection.socket.close(CloseCode.SERVICE_RESTART, 'server shutting down');
    }
  });

  /** An invalid frame: its error, and a strike (too many close the connection). */
  function refuse(
    connection: WebSocketConnection,
    code: ErrorCode,
    message: string,
    room?: string,
  ) {
    connection.send(errorFrame(code, message, room));
    connection.strike();
  }

  async function authenticate(connection: WebSocketConnection, token: string) {
    const check = await access.verifier.verify(token);
    if (!connection.open) return;
    if (!check.ok) {
      connection.send(errorFrame(check.code, check.message));
      // A refresh that fails leaves the valid token in force until it expires.
      if (!connection.claims) connection.closeFor(ErrorCode.UNAUTHORIZED, 'unauthorized');
      return;
    }
    // The first heartbeat tells the client its token was accepted, and the interval.
    const first = connection.authenticate(check.claims);
    // Its deadlines moved: the auth deadline is gone, the expiry is the new token's.
    expiry.reschedule(connection);
    if (first) connection.send(beatFrame);
    for (const room of connection.subscribedRooms()) {
      if (grantsRoom(check.claims, room)) continue;
      hub.unsubscribe(connection.removeSubscription(room)!);
      connection.send(
        errorFrame(ErrorCode.FORBIDDEN, 'the new token does not grant this room', room),
      );
    }
    if (inFeed.has(connection) && !grantsRoom(check.claims, ALL_ROOMS)) {
      leaveFeed(connection);
      const message = 'the new token does not grant every room: the rooms feed stopped';
      connection.send(errorFrame(ErrorCode.FORBIDDEN, message, ALL_ROOMS));
    }
  }

  /** Connections in the rooms feed (so a token refresh and a close know to take them out). */
  const inFeed = new WeakSet<WebSocketConnection>();
  function leaveFeed(connection: WebSocketConnection) {
    inFeed.delete(connection);
    feed.leave(connection);
  }

  /** `{type:"rooms"}`: a `*` token (or the host's authorize for "*") joins the rooms feed. */
  function joinFeed(connection: WebSocketConnection, query: RoomListQuery) {
    const { claims } = connection;
    if (connection.tokenExpired(Date.now())) {
      const message = 'token expired; send {type:"auth"} with a fresh one first';
      return connection.send(errorFrame(ErrorCode.TOKEN_EXPIRED, message, ALL_ROOMS));
    }
    // A first page costs a page of reads: it spends the subscribe budget like a subscribe.
    if (connection.admitted && !connection.allowSubscribe()) {
      const message = `at most ${config.subscribeRate} subscribe or rooms frames a second`;
      return refuse(connection, ErrorCode.RATE_LIMITED, message, ALL_ROOMS);
    }
    const join = () => {
      if (!connection.open) return;
      inFeed.add(connection);
      feed.join(connection, query).catch((error: unknown) => {
        app.log.warn({ err: error }, 'rooms feed: could not read the first page');
        leaveFeed(connection);
        const message = 'the room list cannot be read now; send {type:"rooms"} again later';
        connection.send(errorFrame(ErrorCode.ENGINE_UNAVAILABLE, message, ALL_ROOMS));
      });
    };
    const forbid = () =>
      connection.send(
        errorFrame(ErrorCode.FORBIDDEN, 'the rooms feed needs a "*" token', ALL_ROOMS),
      );
    if (claims) return grantsRoom(claims, ALL_ROOMS) ? join() : forbid();
    const verdict = connection.hostAllows(ALL_ROOMS);
    if (verdict !== undefined) {
      if (typeof verdict === 'boolean') return verdict ? join() : forbid();
      return exclusive(
        connection,
        verdict.then(
          (allowed) => (allowed ? join() : forbid()),
          () => forbid(),
        ),
      );
    }
    connection.send(errorFrame(ErrorCode.UNAUTHORIZED, 'send {type:"auth", token} first'));
    connection.closeFor(ErrorCode.UNAUTHORIZED, 'unauthorized');
  }

  function onMessage(connection: WebSocketConnection, data: Buffer, isBinary: boolean) {
    if (connection.hold(data, isBinary)) return;
    if (isBinary) {
      return refuse(connection, ErrorCode.INVALID_FRAME, 'binary frames are not accepted');
    }
    // ws enforces maxPayload when roomcast registered it; a host's own registration may not.
    if (data.length > config.maxFrameBytes) {
      return connection.socket.close(CloseCode.MESSAGE_TOO_BIG, 'frame too large');
    }
    const frame = parseClientFrame(data.toString('utf8'));
    if ('error' in frame) {
      return refuse(connection, frame.error.code, frame.error.message, frame.error.room);
    }
    handleFrame(connection, frame);
  }

  /** Rooms whose last subscribe frame asked for occupancy frames, per connection. */
  const askedOccupancy = new WeakMap<WebSocketConnection, Set<string>>();
  function occupancyOf(connection: WebSocketConnection): Set<string> {
    let rooms = askedOccupancy.get(connection);
    if (!rooms) askedOccupancy.set(connection, (rooms = new Set()));
    return rooms;
  }

  function handleFrame(connection: WebSocketConnection, frame: ParsedClientFrame) {
    switch (frame.type) {
      case 'auth':
        return exclusive(connection, authenticate(connection, frame.token));
      case 'subscribe':
        occupancyOf(connection)[frame.occupancy ? 'add' : 'delete'](frame.room);
        return permit(connection, frame.room, frame.since);
      case 'rooms':
        return joinFeed(connection, frame.query);
      case 'unsubscribe': {
        if (frame.room === ALL_ROOMS && inFeed.has(connection)) leaveFeed(connection);
        const existing = connection.removeSubscription(frame.room);
        if (existing) hub.unsubscribe(existing);
        return;
      }
    }
  }

  /** Holds the connection's next frames until `work` settles, then handles them in order. */
  function exclusive(connection: WebSocketConnection, work: Promise<unknown>) {
    connection.holdWhile(work, onMessage);
  }

  /** Checks the room against the token (or the host's authorize), then subscribes. */
  function permit(connection: WebSocketConnection, room: string, since: Position | undefined) {
    // An expired token may only be refreshed during its grace, not used for more rooms.
    if (connection.tokenExpired(Date.now())) {
      const message = 'token expired; send {type:"auth"} with a fresh one first';
      return connection.send(errorFrame(ErrorCode.TOKEN_EXPIRED, message, room));
    }
    if (connection.claims) {
      if (grantsRoom(connection.claims, room)) return subscribe(connection, room, since);
      return connection.send(
        errorFrame(ErrorCode.FORBIDDEN, 'the token does not grant this room', room),
      );
    }
    const verdict = connection.hostAllows(room);
    if (verdict !== undefined) {
      if (typeof verdict === 'boolean') return permitted(connection, verdict, room, since);
      return exclusive(
        connection,
        verdict.then(
          (allowed) => permitted(connection, allowed, room, since),
          () => permitted(connection, false, room, since),
        ),
      );
    }
    connection.send(errorFrame(ErrorCode.UNAUTHORIZED, 'send {type:"auth", token} first', room));
    connection.closeFor(ErrorCode.UNAUTHORIZED, 'unauthorized');
  }

  function permitted(
    connection: WebSocketConnection,
    allowed: boolean,
    room: string,
    since: Position | undefined,
  ) {
    if (!connection.open) return;
    if (allowed) return subscribe(connection, room, since);
    connection.send(errorFrame(ErrorCode.FORBIDDEN, 'not allowed to read this room', room));
  }

  function subscribe(connection: WebSocketConnection, room: string, since: Position | undefined) {
    const existing = connection.subscriptionOf(room);
    if (!existing && connection.subscriptionCount >= config.maxSubscriptions) {
      const message = `at most ${config.maxSubscriptions} rooms per connection`;
      return refuse(connection, ErrorCode.TOO_MANY_SUBSCRIPTIONS, message, room);
    }
    // Each subscribe reads and queues a snapshot or a replay: a flood of them is refused (and,
    // as invalid frames, ends the connection after a few).
    if (!connection.allowSubscribe()) {
      const message = `at most ${config.subscribeRate} subscribe frames a second (ROOMCAST_SUBSCRIBE_RATE)`;
      return refuse(connection, ErrorCode.RATE_LIMITED, message, room);
    }
    // Subscribing again restarts the room (a client's way to force a resync).
    if (existing) hub.unsubscribe(existing);
    const occupancy = occupancyOf(connection).has(room);
    connection.addSubscription(room, hub.subscribe(connection, room, since, { occupancy }));
  }

  async function checkUpgrade(request: FastifyRequest, reply: FastifyReply) {
    if (!access.checkOrigin(request, reply)) return reply;
    // The slot is taken (and bound to the socket's close) before anything is awaited.
    const ticket = access.admit(request, reply);
    if (!ticket) return reply;
    const token = tokenOf(request.headers, request.query);
    if (token !== undefined) {
      const check = await access.verifier.verify(token);
      if (ticket.released) return reply.hijack(); // the client hung up meanwhile
      if (!check.ok) return httpError(reply, check.code, check.message);
      upgradeClaims.set(request, check.claims);
    }
  }

  app.get('/ws', { websocket: true, preValidation: checkUpgrade }, (socket, request) => {
    const claims = upgradeClaims.get(request);
    const connection = new WebSocketConnection(socket, request.ip, batchingOf(request), rules, {
      claims,
      hostCheck: claims ? undefined : hostCheckOf(request),
      authDeadline: Date.now() + config.authTimeout,
    });
    const upgradeErrorListeners = socket.listeners('error');
    open(connection, socket);
    // After `open` added its own: removing the upgrade's then leaves a listener in place instead
    // of deleting the key, which turns the socket's listener table into a ~280-byte dictionary.
    releaseUpgradeRequest(request, socket, upgradeErrorListeners);
  });

  /**
   * Only with the host's `authorize` (no token) is the request kept: the host's check reads its
   * cookies. Built here, not in the route's handler, so that the socket's listeners (made in
   * `open`) do not share a closure scope with the request and keep it, with its headers, for
   * the socket's whole life.
   */
  function hostCheckOf(request: FastifyRequest) {
    const authorize = access.authorize;
    return authorize && ((room: string) => authorize(request, room));
  }

  /** Tracks a new connection and listens to its socket. */
  function open(connection: WebSocketConnection, socket: WebSocket) {
    connections.add(connection);
    expiry.add(connection);
    bySocket.set(socket, connection);
    stats.ws++;
    heartbeat.add(socket);
    if (connection.admitted) connection.send(beatFrame);
    socket.on('error', () => socket.terminate());
    socket.on('message', (data: Buffer, isBinary: boolean) =>
      onMessage(connection, data, isBinary),
    );
    socket.on('close', () => {
      connections.delete(connection);
      expiry.delete(connection);
      stats.ws--;
      heartbeat.delete(socket);
      if (inFeed.has(connection)) leaveFeed(connection);
      for (const subscription of connection.removeSubscriptions()) hub.unsubscribe(subscription);
    });
  }
}

function batchingOf(request: FastifyRequest): boolean {
  return (request.query as Record<string, unknown>).batch === '1';
}
