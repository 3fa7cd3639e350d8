/**
 * JSON error answers `{error:{code,message}}` with codes from the one table in @roomcast/shared:
 * a call site names the code, the table (`ERRORS`) gives its status.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ERRORS, ErrorCode } from '@roomcast/shared';
import type { HttpErrorCode } from '@roomcast/shared';

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

function send(reply: FastifyReply, status: number, code: ErrorCode, message: string) {
  return reply.code(status).send({ error: { code, message } } satisfies ErrorBody);
}

/** Sends `{error:{code,message}}` with the code's status from `ERRORS`. */
export function httpError(reply: FastifyReply, code: HttpErrorCode, message: string) {
  return send(reply, ERRORS[code].status, code, message);
}

const hasStatus = (code: string): code is HttpErrorCode =>
  Object.hasOwn(ERRORS, code) && 'status' in ERRORS[code as ErrorCode];

/** Maps fastify's own errors (body limit, bad content) and unexpected ones to stable codes. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return httpError(reply, ErrorCode.BODY_TOO_LARGE, error.message);
    }
    const status = error.statusCode ?? 500;
    // Errors raised with one of our codes (e.g. the rate limiter's) keep it.
    if (status < 500 && hasStatus(String(error.code))) {
      return httpError(reply, error.code as HttpErrorCode, error.message);
    }
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return send(reply, status, ErrorCode.INTERNAL, 'internal error');
    }
    // fastify's own 4xx (unsupported media type, bad JSON…) keep fastify's status.
    return send(reply, status, ErrorCode.BAD_REQUEST, error.message);
  });
  app.setNotFoundHandler((request, reply) =>
    httpError(
      reply,
      ErrorCode.NOT_FOUND,
      `no route ${request.method} ${request.url.split('?')[0]}`,
    ),
  );
}
