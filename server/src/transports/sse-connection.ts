/**
 * A subscriber on a Server-Sent Events stream, as the Hub sees it: one room (every subscriber of
 * the room gets the same prebuilt message bytes) or several (each message's `id:` carries every
 * room's position). The stream ends when its token expires (the expiry sweep visits it).
 */
import type { ServerResponse } from 'node:http';
import { ErrorCode } from '@roomcast/shared';
import type { Position } from '@roomcast/shared';
import { nextDrain } from '../hub/connection.ts';
import type { Connection } from '../hub/connection.ts';
import { errorFrame } from '../hub/frames.ts';
import type { OutgoingFrame } from '../hub/frames.ts';
import type { Subscription } from '../hub/hub.ts';
import type { Expiring } from './expiry-sweep.ts';
import { formatMultiRoomId } from './sse-position.ts';
import { sseMessageOf, writeSseMessage } from './sse-wire.ts';

/** What a stream gets when its token expires (one frame, shared by every stream). */
const TOKEN_EXPIRED = errorFrame(
  ErrorCode.TOKEN_EXPIRED,
  'token expired; reconnect with a fresh token',
);

/** A subscriber on an SSE stream (one or several rooms). */
export class SseConnection implements Connection, Expiring {
  readonly transport = 'sse' as const;
  readonly subscriptions: Subscription[] = [];
  /** Every room's position, for the multi-room id; undefined on a single-room stream. */
  readonly positions: Map<string, Position> | undefined;
  ended = false;

  constructor(
    readonly response: ServerResponse,
    multiRoom: boolean,
    /** The token's expiry (ms): the stream ends then. */
    readonly expiresAt: number,
  ) {
    this.positions = multiRoom ? new Map() : undefined;
  }

  send(frame: OutgoingFrame): void {
    if (this.ended) return;
    // A frame without a position (an error) carries no id: an empty `id:` would make the
    // browser forget its resume point.
    if (!this.positions) {
      // Every single-room subscriber of a room gets the same bytes: built once per frame.
      const { message, chunk } = sseMessageOf(frame);
      writeSseMessage(this.response, message, chunk);
      return;
    }
    let id = '';
    if (frame.position) {
      this.positions.set(frame.room, frame.position);
      id = `id: ${formatMultiRoomId(this.positions)}\n`;
    }
    this.response.write(`${id}event: ${frame.name}\ndata: ${frame.json}\n\n`);
  }

  bufferedBytes(): number {
    return this.response.writableLength;
  }

  /** One wait for the socket's drain, shared by every subscription waiting on it. */
  private draining: Promise<void> | undefined;

  drained(): Promise<void> {
    return (this.draining ??= nextDrain(this.response.socket).finally(
      () => (this.draining = undefined),
    ));
  }

  dropSlow(): void {
    // A stream that is not read cannot be ended politely: cut it; the client resumes by id. A
    // reset, not a FIN: a FIN waits behind the unread bytes (the client never sees it) and the
    // kernel keeps those bytes meanwhile.
    this.end();
    const socket = this.response.socket;
    if (socket) socket.resetAndDestroy();
    else this.response.destroy();
  }

  end(): void {
    this.ended = true;
  }

  /** The token's expiry; none once the stream has ended. */
  nextExpiryCheck(): number {
    return this.ended ? Infinity : this.expiresAt;
  }

  /** The token expired: the stream ends with TOKEN_EXPIRED; the client reconnects with a fresh one. */
  checkExpiry(now: number): void {
    if (this.ended || now < this.expiresAt) return;
    this.send(TOKEN_EXPIRED);
    this.end();
    this.response.end();
  }
}
