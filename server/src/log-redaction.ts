/**
 * Keeping secrets out of logs: subscriber tokens passed as `?token=`, and the headers that carry
 * tokens or signatures.
 */

/** Pino paths that may hold secrets; they never reach a log line. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers["huddle01-signature"]',
  'req.headers.cookie',
];

/** A query parameter's name as the query parser reads it (`%74oken` is `token`). */
function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/**
 * The URL with the value of every `token` query parameter replaced by `[REDACTED]`, its name
 * compared after percent-decoding (the query parser decodes names too, so `?%74oken=` is a
 * token).
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const hash = url.indexOf('#', start);
  const end = hash < 0 ? url.length : hash;
  const query = url
    .slice(start + 1, end)
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      if (equals < 0 || decodedName(part.slice(0, equals)) !== 'token') return part;
      return `${part.slice(0, equals)}=[REDACTED]`;
    });
  return `${url.slice(0, start + 1)}${query.join('&')}${url.slice(end)}`;
}

/** pino request serializer: what a request log line shows, tokens removed from the URL. */
export function serializeRequest(request: {
  method: string;
  url: string;
  ip?: string;
  id?: string | number;
}) {
  return {
    id: request.id,
    method: request.method,
    url: redactUrl(request.url),
    remoteAddress: request.ip,
  };
}
