/**
 * Subscriber tokens: JWT HS256 (jose) signed with ROOMCAST_TOKEN_SECRET, claim `rooms: string[]`
 * (`["*"]` = every room), `exp` required, `nbf` and `sub` honoured. Several secrets: sign with
 * the first, accept any (zero-downtime rotation).
 */
import { SignJWT, errors, jwtVerify } from 'jose';
import { ErrorCode } from '@roomcast/shared';
import { formatDuration, parseDuration } from '../units.ts';

/** The wildcard room: a token with it reads every room (the moderator console). */
export const ALL_ROOMS = '*';

/** What a verified token grants. */
export interface SubscriberClaims {
  rooms: string[];
  /** Expiry, seconds since the epoch. */
  exp: number;
  sub?: string;
}

/** The outcome of verifying a token. */
export type TokenCheck =
  | { ok: true; claims: SubscriberClaims }
  | {
      ok: false;
      code: typeof ErrorCode.UNAUTHORIZED | typeof ErrorCode.TOKEN_EXPIRED;
      message: string;
    };

/** Options of `createSubscriberToken`. */
export interface CreateTokenOptions {
  /** Rooms the token grants; `['*']` for every room. */
  rooms: string[];
  /**
   * Lifetime: seconds (a number or digits: 900, "900"), or a duration like "15m"; a text must
   * come to at least 1 s. Default 1 h.
   */
  ttl?: number | string;
  /** Subject (your user id), logged with the connection. */
  sub?: string;
  /** Not valid before this time (seconds since the epoch). */
  nbf?: number;
  /** Signing secret. Default: the first of ROOMCAST_TOKEN_SECRET (comma-separated) from the environment. */
  secret?: string;
}

const encoder = new TextEncoder();

/**
 * A token lifetime in seconds. A number is taken as it is (≤ 0 mints an expired token, which
 * tests of expiry want). A text of digits is seconds ("900"), any other text a duration ("15m",
 * "1h"); a text must come to at least a second (`exp` is in whole seconds: a shorter token
 * would be expired when minted) and anything else throws. Default 1 h.
 */
export function tokenTtlSeconds(ttl: number | string | undefined): number {
  if (ttl === undefined) return 3600;
  if (typeof ttl === 'number') {
    if (!Number.isFinite(ttl)) throw new Error(`invalid ttl ${ttl}: a number of seconds`);
    return ttl;
  }
  const text = ttl.trim();
  const seconds = /^[0-9]+$/.test(text) ? Number(text) : (parseDuration(text) ?? Number.NaN) / 1000;
  if (!(seconds >= 1))
    throw new Error(
      `invalid ttl ${JSON.stringify(ttl)}: use seconds (at least 1) or a duration like 15m, 1h`,
    );
  return Math.round(seconds);
}

/**
 * Creates a subscriber token for your app backend to hand a logged-in user, e.g.
 * `createSubscriberToken({ rooms: [roomId], ttl: '15m', sub: user.id })`.
 */
export async function createSubscriberToken(options: CreateTokenOptions): Promise<string> {
  const secret = options.secret ?? process.env.ROOMCAST_TOKEN_SECRET?.split(',')[0]?.trim();
  if (!secret) throw new Error('no token secret: pass { secret } or set ROOMCAST_TOKEN_SECRET');
  if (
    !Array.isArray(options.rooms) ||
    options.rooms.length === 0 ||
    options.rooms.some((r) => typeof r !== 'string' || r === '')
  ) {
    throw new Error('rooms must be a non-empty list of room ids (or ["*"])');
  }
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ rooms: options.rooms })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + tokenTtlSeconds(options.ttl));
  if (options.sub !== undefined) jwt.setSubject(options.sub);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(encoder.encode(secret));
}

/** A verifier bound to the configured secrets (encoded once). */
export interface TokenVerifier {
  verify(token: string): Promise<TokenCheck>;
}

/** Options of the verifier. */
export interface TokenVerifierOptions {
  /**
   * Longest lifetime accepted, ms: a token whose `exp` is further than this from its `iat`, or
   * from now, is refused. Default 24 h (ROOMCAST_MAX_TOKEN_TTL).
   */
  maxTtl?: number;
}

/** Default longest token lifetime, ms. */
export const DEFAULT_MAX_TOKEN_TTL = 86_400_000;

/** Creates the verifier for ROOMCAST_TOKEN_SECRET's value(s). */
export function createTokenVerifier(
  secrets: readonly string[],
  { maxTtl = DEFAULT_MAX_TOKEN_TTL }: TokenVerifierOptions = {},
): TokenVerifier {
  const maxTtlSeconds = maxTtl / 1000;
  // Imported once: handed raw bytes, jose imports a WebCrypto key on every verify, which tripled
  // its cost (~100 µs → ~35 µs of CPU): felt when a restarted node's subscribers all sign in here.
  let imported: Promise<CryptoKey[]> | undefined;
  const keysOnce = () =>
    (imported ??= Promise.all(
      secrets.map((secret) =>
        crypto.subtle.importKey(
          'raw',
          encoder.encode(secret),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['verify'],
        ),
      ),
    ));
  const unauthorized = (message: string): TokenCheck => ({
    ok: false,
    code: ErrorCode.UNAUTHORIZED,
    message,
  });
  return {
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 8192)
        return unauthorized('token missing or too long');
      for (const key of await keysOnce()) {
        try {
          // Only HS256: `alg: none` and every other algorithm are refused by jose here.
          const { payload } = await jwtVerify(token, key, {
            algorithms: ['HS256'],
            requiredClaims: ['exp'],
          });
          const rooms = payload.rooms;
          if (
            !Array.isArray(rooms) ||
            rooms.length === 0 ||
            !rooms.every((room) => typeof room === 'string')
          ) {
            return unauthorized('token has no rooms claim (a list of room ids)');
          }
          const now = Date.now() / 1000;
          const lifetime = Math.max(payload.exp! - now, payload.exp! - (payload.iat ?? now));
          if (lifetime > maxTtlSeconds) {
            return unauthorized(
              `token lives longer than ${formatDuration(maxTtl)} (ROOMCAST_MAX_TOKEN_TTL): issue shorter ones`,
            );
          }
          return {
            ok: true,
            claims: { rooms: rooms as string[], exp: payload.exp!, sub: payload.sub },
          };
        } catch (error) {
          if (error instanceof errors.JWSSignatureVerificationFailed) continue; // maybe the next secret
          if (error instanceof errors.JWTExpired)
            return { ok: false, code: ErrorCode.TOKEN_EXPIRED, message: 'token expired' };
          if (error instanceof errors.JWTClaimValidationFailed)
            return unauthorized(`token ${error.claim} claim invalid: ${error.reason}`);
          return unauthorized('token invalid');
        }
      }
      return unauthorized('token signature invalid');
    },
  };
}

/** True when the claims grant `roomId`. */
export function grantsRoom(claims: SubscriberClaims, roomId: string): boolean {
  return claims.rooms.includes(ALL_ROOMS) || claims.rooms.includes(roomId);
}

/** The token of a request: `Authorization: Bearer …`, else `?token=`. */
export function tokenOf(
  headers: Record<string, string | string[] | undefined>,
  query: unknown,
): string | undefined {
  const header = headers.authorization;
  if (typeof header === 'string' && /^bearer\s+/i.test(header))
    return header.replace(/^bearer\s+/i, '').trim();
  const token = (query as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' && token !== '' ? token : undefined;
}
