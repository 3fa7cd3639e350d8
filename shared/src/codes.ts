/**
 * The two code tables of the public contract. Codes are stable: never reuse or rename one.
 */

/** Error codes: in HTTP error bodies `{error:{code,message}}` and in WS `error` frames. */
export const ErrorCode = {
  /** The webhook body is not JSON, has no `id`, or nests deeper than 64 levels. HTTP 400. */
  INVALID_BODY: 'INVALID_BODY',
  /** The webhook body is larger than the limit (256 KiB by default). HTTP 413. */
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  /** The `huddle01-signature` header is missing or malformed. HTTP 401. */
  SIGNATURE_MISSING: 'SIGNATURE_MISSING',
  /** The signature does not match the body under any configured API key. HTTP 401. */
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  /** The signature timestamp is not a number, or outside the freshness window. HTTP 401. */
  TIMESTAMP_INVALID: 'TIMESTAMP_INVALID',
  /** The engine could not append the event; Huddle01 should retry. HTTP 503. */
  ENGINE_UNAVAILABLE: 'ENGINE_UNAVAILABLE',
  /** A request parameter (room id, query, Last-Event-ID) is malformed. HTTP 400. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** No such route. HTTP 404. */
  NOT_FOUND: 'NOT_FOUND',
  /** A client frame is not valid JSON, too large, or not a known frame. WS error frame. */
  INVALID_FRAME: 'INVALID_FRAME',
  /** A subscribe frame names an invalid room id or `since`. WS error frame. */
  INVALID_ROOM: 'INVALID_ROOM',
  /** The connection already holds the maximum number of subscriptions. WS error frame. */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /** The subscriber token is missing or invalid. HTTP 401 / WS close 1008. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** The token does not grant this room. HTTP 403 / WS error frame. */
  FORBIDDEN: 'FORBIDDEN',
  /** The subscriber token expired. HTTP 401 / WS error frame, then close 4001. */
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  /** The request's Origin is not allowed (cross-site WebSocket hijacking guard). HTTP 403. */
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  /** Connection limit reached (process, per IP, or attempts per second). HTTP 429 (WS: at the upgrade). */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  /** Webhook rate limit reached. HTTP 429. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The server is shutting down; connect elsewhere. HTTP 503. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** The moderator console's assets could not be built (see the server log). HTTP 503. */
  CONSOLE_UNAVAILABLE: 'CONSOLE_UNAVAILABLE',
  /** Publishing app events is off: no `ROOMCAST_PUBLISH_KEY` is configured. HTTP 404. */
  PUBLISH_DISABLED: 'PUBLISH_DISABLED',
  /** A published event's name is not `app:` and 1–64 of `A-Z a-z 0-9 _ . : -`. HTTP 400. */
  INVALID_EVENT_NAME: 'INVALID_EVENT_NAME',
  /** A published event's payload is over 64 KiB of JSON. HTTP 413. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /**
   * A paged list's `?limit=` is not a whole number in range, or its `?cursor=` is not one the
   * server handed out (`GET /rooms`; the WS `rooms` frame). HTTP 400 / WS error frame.
   */
  INVALID_PAGE: 'INVALID_PAGE',
  /** Something unexpected failed inside the server. HTTP 500. */
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes used by roomcast. */
export const CloseCode = {
  /** Normal closure. */
  NORMAL: 1000,
  /** The client broke the WebSocket protocol (reserved bits or opcodes, unmasked or bad fragments). Sent by the ws library. */
  PROTOCOL_ERROR: 1002,
  /** A text frame that is not valid UTF-8. Sent by the ws library. */
  INVALID_PAYLOAD: 1007,
  /** Policy violation: bad auth, bad origin or repeated protocol abuse. Do not retry as is. */
  POLICY: 1008,
  /** A client frame over `ROOMCAST_MAX_FRAME_BYTES`. */
  MESSAGE_TOO_BIG: 1009,
  /** The server is restarting or shutting down: reconnect (elsewhere) and resume. */
  SERVICE_RESTART: 1012,
  /** Try again later (too many connections). */
  TRY_AGAIN_LATER: 1013,
  /** The subscriber token expired and was not refreshed in time. */
  TOKEN_EXPIRED: 4001,
  /** The subscriber read too slowly; its backlog passed the limit. Reconnect and resume. */
  SLOW_CONSUMER: 4008,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Where an error code travels: its HTTP status, and its WebSocket side. */
export interface ErrorSpec {
  /** The HTTP status of an answer `{error:{code,message}}` with this code. */
  readonly status?: number;
  /** The close code that ends a WebSocket for it (after its `error` frame). */
  readonly close?: CloseCode;
  /** Sent as an `error` frame (WebSocket, and SSE where the stream is open). */
  readonly frame?: true;
}

/**
 * The error table: each code with its HTTP status and WebSocket close code, as fastify's
 * `createError` binds a status to a code. Call sites name only the code (server/src/http-errors.ts
 * reads the status here); docs/protocol.md's table is checked against this one by a test.
 */
export const ERRORS = {
  INVALID_BODY: { status: 400 },
  BODY_TOO_LARGE: { status: 413 },
  SIGNATURE_MISSING: { status: 401 },
  SIGNATURE_INVALID: { status: 401 },
  TIMESTAMP_INVALID: { status: 401 },
  ENGINE_UNAVAILABLE: { status: 503, frame: true },
  BAD_REQUEST: { status: 400 },
  NOT_FOUND: { status: 404 },
  INVALID_FRAME: { frame: true },
  INVALID_ROOM: { frame: true },
  TOO_MANY_SUBSCRIPTIONS: { status: 400, frame: true },
  UNAUTHORIZED: { status: 401, close: CloseCode.POLICY, frame: true },
  FORBIDDEN: { status: 403, frame: true },
  TOKEN_EXPIRED: { status: 401, close: CloseCode.TOKEN_EXPIRED, frame: true },
  ORIGIN_NOT_ALLOWED: { status: 403 },
  TOO_MANY_CONNECTIONS: { status: 429 },
  RATE_LIMITED: { status: 429, frame: true },
  SHUTTING_DOWN: { status: 503 },
  CONSOLE_UNAVAILABLE: { status: 503 },
  PUBLISH_DISABLED: { status: 404 },
  INVALID_EVENT_NAME: { status: 400 },
  PAYLOAD_TOO_LARGE: { status: 413 },
  INVALID_PAGE: { status: 400, frame: true },
  INTERNAL: { status: 500 },
} as const satisfies { readonly [K in ErrorCode]: ErrorSpec };

/** The codes an HTTP answer can carry (those with a status in `ERRORS`). */
export type HttpErrorCode = {
  [K in ErrorCode]: (typeof ERRORS)[K] extends { status: number } ? K : never;
}[ErrorCode];

/** The codes that end a WebSocket (those with a close code in `ERRORS`). */
export type ClosingErrorCode = {
  [K in ErrorCode]: (typeof ERRORS)[K] extends { close: number } ? K : never;
}[ErrorCode];
