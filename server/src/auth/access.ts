/**
 * Access control in one place for every subscriber route: tokens, the origin policy and the
 * connection limits, with the HTTP answer for each refusal.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '@roomcast/shared';
import type { RoomcastConfig } from '../config.ts';
import { httpError } from '../http-errors.ts';
import { createConnectionLimiter } from './connection-limits.ts';
import type { AdmissionTicket, ConnectionLimiter } from './connection-limits.ts';
import { createOriginPolicy } from './origins.ts';
import type { OriginPolicy } from './origins.ts';
import { ALL_ROOMS, createTokenVerifier, grantsRoom, tokenOf } from './tokens.ts';
import type { SubscriberClaims, TokenVerifier } from './tokens.ts';

/** A host app's own subscribe check (see the plugin's `authorize` option); `*` = the lists. */
export type Authorize = (request: FastifyRequest, roomId: string) => boolean | Promise<boolean>;

/** Claims of a request admitted by `authorize` (no token): no expiry of their own. */
const NO_EXPIRY = 8_640_000_000_000; // seconds: the last date JavaScript can represent

/** The gate every subscriber route passes. */
export interface Access {
  readonly verifier: TokenVerifier;
  readonly originAllowed: OriginPolicy;
  readonly limiter: ConnectionLimiter;
  /** The host app's check, when configured. */
  readonly authorize: Authorize | undefined;
  /** Verifies the request's token; on failure sends 401 and resolves undefined. */
  authenticate(request: FastifyRequest, reply: FastifyReply): Promise<SubscriberClaims | undefined>;
  /** authenticate + every room granted (403 otherwise). */
  authorizeRooms(
    request: FastifyRequest,
    reply: FastifyReply,
    rooms: readonly string[],
  ): Promise<SubscriberClaims | undefined>;
  /**
   * authenticate, then splits `rooms` into the granted and the refused ones (a multi-room
   * stream refuses a room with an in-stream FORBIDDEN, as the WebSocket does). On a bad token
   * sends 401; when every room is refused sends 403; either way resolves undefined.
   */
  authorizeSome(
    request: FastifyRequest,
    reply: FastifyReply,
    rooms: readonly string[],
  ): Promise<{ claims: SubscriberClaims; refused: string[] } | undefined>;
  /** Origin check; on failure sends 403 and returns false. */
  checkOrigin(request: FastifyRequest, reply: FastifyReply): boolean;
  /**
   * Connection limits; on refusal sends 429 (503 while draining) and returns undefined. The
   * ticket of an admitted request is already bound to its close: the end of its answer or of
   * its socket (an upgrade's socket outlives the HTTP exchange) gives the slot back, once. Call
   * it before awaiting anything, and look at `ticket.released` after each await.
   */
  admit(request: FastifyRequest, reply: FastifyReply): AdmissionTicket | undefined;
}

/** What the gate reports to and reads from the rest of the server. */
export interface AccessHooks {
  /** Counts a refused connection by reason (limit_ip, limit_process, limit_rate). */
  onRefused?: (reason: string) => void;
  /** True while the server drains for shutdown: new subscribers are refused with 503. */
  draining?: () => boolean;
}

/**
 * Releases `ticket` when the request is over: its answer ended or its connection closed (the
 * response's 'close' covers both), or, for an upgrade, when its socket closes (the response is
 * detached from an upgraded socket, which then carries the WebSocket).
 */
function bindToClose(
  request: FastifyRequest,
  reply: FastifyReply,
  ticket: AdmissionTicket,
): AdmissionTicket {
  const release = () => ticket.release();
  reply.raw.once('close', release);
  const socket = request.raw.socket;
  // Only an upgrade's socket: a keep-alive socket serves many requests (and listeners would pile up).
  // `on`, not `once` (release is idempotent): once's wrapper would live as long as the socket.
  if (request.headers.upgrade !== undefined) socket?.on('close', release);
  if (reply.raw.destroyed || !socket || socket.destroyed) release();
  return ticket;
}

/** The config options the gate reads. */
export const ACCESS_CONFIG_KEYS = [
  'tokenSecrets',
  'maxTokenTtl',
  'allowedOrigins',
  'production',
  'maxConnections',
  'maxConnectionsPerIp',
  'connectRatePerIp',
] as const;

/** The slice of the config the gate is given. */
export type AccessConfig = Pick<RoomcastConfig, (typeof ACCESS_CONFIG_KEYS)[number]>;

/** Builds the gate from its slice of the config. */
export function createAccess(
  config: AccessConfig,
  authorize?: Authorize,
  hooks: AccessHooks = {},
): Access {
  const verifier = createTokenVerifier(config.tokenSecrets, { maxTtl: config.maxTokenTtl });
  const originAllowed = createOriginPolicy(config.allowedOrigins, config.production);
  const limiter = createConnectionLimiter(config);

  async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    const token = tokenOf(request.headers, request.query);
    if (token === undefined) {
      await httpError(
        reply,
        ErrorCode.UNAUTHORIZED,
        'a subscriber token is required (Authorization: Bearer, or ?token=)',
      );
      return undefined;
    }
    const check = await verifier.verify(token);
    if (!check.ok) {
      await httpError(reply, check.code, check.message);
      return undefined;
    }
    return check.claims;
  }

  /** The host app's `authorize` for requests without a token. */
  async function authorizeByHost(
    request: FastifyRequest,
    reply: FastifyReply,
    rooms: readonly string[],
  ) {
    for (const room of rooms) {
      if (!(await authorize!(request, room))) {
        await httpError(
          reply,
          ErrorCode.FORBIDDEN,
          `not allowed to read ${room === ALL_ROOMS ? 'every room' : `room ${JSON.stringify(room)}`}`,
        );
        return undefined;
      }
    }
    return { rooms: [...rooms], exp: NO_EXPIRY } satisfies SubscriberClaims;
  }

  return {
    verifier,
    originAllowed,
    limiter,
    authorize,
    authenticate,
    async authorizeRooms(request, reply, rooms) {
      if (authorize && tokenOf(request.headers, request.query) === undefined) {
        return authorizeByHost(request, reply, rooms);
      }
      const claims = await authenticate(request, reply);
      if (!claims) return undefined;
      const refused = rooms.find((room) => !grantsRoom(claims, room));
      if (refused !== undefined) {
        const what =
          refused === ALL_ROOMS ? 'every room (a "*" token)' : `room ${JSON.stringify(refused)}`;
        await httpError(reply, ErrorCode.FORBIDDEN, `the token does not grant ${what}`);
        return undefined;
      }
      return claims;
    },
    async authorizeSome(request, reply, rooms) {
      const byHost = authorize && tokenOf(request.headers, request.query) === undefined;
      const claims = byHost
        ? ({ rooms: [], exp: NO_EXPIRY } satisfies SubscriberClaims)
        : await authenticate(request, reply);
      if (!claims) return undefined;
      const refused: string[] = [];
      for (const room of rooms) {
        const granted = byHost ? await authorize(request, room) : grantsRoom(claims, room);
        if (!granted) refused.push(room);
        else if (byHost) claims.rooms.push(room);
      }
      if (refused.length === rooms.length) {
        await httpError(reply, ErrorCode.FORBIDDEN, 'the token grants none of these rooms');
        return undefined;
      }
      return { claims, refused };
    },
    checkOrigin(request, reply) {
      const origin = request.headers.origin;
      if (originAllowed(origin, request.headers.host)) return true;
      void httpError(
        reply,
        ErrorCode.ORIGIN_NOT_ALLOWED,
        `origin ${origin} is not allowed (ROOMCAST_ALLOWED_ORIGINS)`,
      );
      return false;
    },
    admit(request, reply) {
      if (hooks.draining?.()) {
        void httpError(reply, ErrorCode.SHUTTING_DOWN, 'the server is shutting down; reconnect');
        return undefined;
      }
      const refusal = limiter.admit(request.ip);
      if (typeof refusal !== 'string') return bindToClose(request, reply, refusal);
      hooks.onRefused?.(`limit_${refusal}`);
      const why = {
        process: 'the server is full',
        ip: 'too many connections from this address',
        rate: 'too many connection attempts per second',
      }[refusal];
      void httpError(reply.header('retry-after', '1'), ErrorCode.TOO_MANY_CONNECTIONS, why);
      return undefined;
    },
  };
}
