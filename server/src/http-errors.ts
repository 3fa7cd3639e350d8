/**
 * JSON error answers `{error:{code,message}}` with codes from the one table in @roomcast/shared.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ErrorCode } from '@roomcast/shared';

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** Sends `{error:{code,message}}` with `status`. */
export function sendError(reply: FastifyReply, status: number, code: ErrorCode, message: string) {
  return reply.code(status).send({ error: { code, message } } satisfies ErrorBody);
}

/** Maps fastify's own errors (body limit, bad content) and unexpected ones to stable codes. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(reply, 413, ErrorCode.BODY_TOO_LARGE, error.message);
    }
    const status = error.statusCode ?? 500;
    // Errors raised with one of our codes (e.g. the rate limiter's) keep it.
    if (status < 500 && Object.hasOwn(ErrorCode, String(error.code))) {
      return sendError(reply, status, error.code as ErrorCode, error.message);
    }
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return sendError(reply, status, ErrorCode.INTERNAL, 'internal error');
    }
    return sendError(reply, status, ErrorCode.BAD_REQUEST, error.message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      404,
      ErrorCode.NOT_FOUND,
      `no route ${request.method} ${request.url.split('?')[0]}`,
    ),
  );
}
