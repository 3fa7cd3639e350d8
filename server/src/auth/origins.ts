/**
 * Origin policy for the WebSocket upgrade and SSE (against cross-site WebSocket hijacking) and
 * for CORS. A request without Origin (a server, a CLI) passes here and still needs a token.
 */

/** Decides whether a browser origin may connect. */
export type OriginPolicy = (origin: string | undefined, host: string | undefined) => boolean;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function parseOrigin(origin: string): URL | undefined {
  try {
    return new URL(origin);
  } catch {
    return undefined;
  }
}

/**
 * The policy: an explicit list (exact origins, `*` for any) when given; otherwise, in
 * development any http(s) localhost / 127.0.0.1 origin, and in production the same origin only.
 */
export function createOriginPolicy(allowed: readonly string[], production: boolean): OriginPolicy {
  const exact = new Set(allowed.map((origin) => origin.toLowerCase().replace(/\/+$/, '')));
  return (origin, host) => {
    if (origin === undefined) return true;
    const url = parseOrigin(origin);
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return false;
    if (exact.size > 0) return exact.has('*') || exact.has(url.origin.toLowerCase());
    if (!production) return LOCAL_HOSTS.has(url.hostname);
    return host !== undefined && url.host.toLowerCase() === host.toLowerCase();
  };
}

/** The CORS answer for an origin: allowed only through the explicit list or dev's localhost. */
export function createCorsOriginCheck(allowed: readonly string[], production: boolean) {
  const policy = createOriginPolicy(allowed, production);
  // Same-origin requests need no CORS headers, so production without a list allows no other origin.
  return (origin: string | undefined): boolean =>
    origin !== undefined && (allowed.length > 0 || !production) && policy(origin, undefined);
}
