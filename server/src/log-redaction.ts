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

/** The URL with the value of every `token` query parameter replaced by `[REDACTED]`. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[REDACTED]');
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
