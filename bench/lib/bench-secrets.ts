/**
 * The fixed secrets and names every benchmark process agrees on (nothing here protects anything:
 * the servers under test listen on 127.0.0.1 for a few seconds).
 */
import { createHmac } from 'node:crypto';

/** Huddle01 API key that signs every benchmark webhook. */
export const BENCH_API_KEY = 'bench_api_key_not_a_secret';
/** HS256 secret of subscriber tokens, in case the server under test checks them. */
export const BENCH_TOKEN_SECRET = 'bench_token_secret_not_a_secret_0123456789';
/** The one room every fan-out subscriber joins. */
export const BENCH_ROOM = 'bench-room';

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * A subscriber token for every room (`rooms: ["*"]`), valid one day. Sent on every connection so
 * the suite keeps working once roomcast enforces tokens; ignored while it does not. Built with
 * node:crypto because the bench has no dependency of its own.
 */
export function benchToken(now = Date.now()): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({
      rooms: ['*'],
      iat: Math.floor(now / 1000),
      exp: Math.floor(now / 1000) + 86_400,
    }),
  );
  const signature = createHmac('sha256', BENCH_TOKEN_SECRET)
    .update(`${header}.${claims}`)
    .digest('base64url');
  return `${header}.${claims}.${signature}`;
}
