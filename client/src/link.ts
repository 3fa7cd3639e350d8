/**
 * A link: one live connection to the server (a WebSocket, or one SSE stream), as the client's
 * state machine sees it. A link reports bytes, frames, that it is up (the server's first
 * heartbeat) and, once, that it is down with why; it never reconnects by itself.
 */
import type { ClientFrame, ServerFrame } from '@roomcast/shared/frames';

/** Why a link went down. */
export interface LinkDown {
  /** The server's error code (`UNAUTHORIZED`, `TOKEN_EXPIRED`, `ORIGIN_NOT_ALLOWED`…), if it said one. */
  code?: string | undefined;
  /** The server's message, or the close reason. */
  reason?: string | undefined;
  /** The WebSocket close code, when there was one. */
  close?: number;
  /** False when the link never opened (a WebSocket refused or blocked, a stream never answered). */
  opened: boolean;
}

/** What a link tells the client. */
export interface LinkHandlers {
  /** Bytes arrived (heartbeats included): the link is alive. */
  alive(): void;
  /** One frame. */
  frame(frame: ServerFrame): void;
  /** The link ended (once). */
  down(why: LinkDown): void;
}

/** An open or opening link. */
export interface Link {
  /** Sends a frame (WebSocket only; an SSE link ignores it). */
  send(frame: ClientFrame): void;
  /** Ends the link at once without reporting `down` (the client already knows). */
  close(): void;
}

/** What an SSE link is opened for: the rooms, and the multi-room resume id. */
export interface StreamRequest {
  rooms: string[];
  /** `Last-Event-ID` of a multi-room stream (`room=<epoch>:<seq>&…`); empty when nothing is held. */
  positions: string;
  /** Ask for occupancy messages (some room wants them). */
  occupancy?: boolean;
}

/** Opens an SSE link to the server at `url` (streaming fetch by default; see `ClientOptions.sseLink`). */
export type SseLinkOpener = (
  url: string,
  token: string,
  request: StreamRequest,
  on: LinkHandlers,
) => Link;
