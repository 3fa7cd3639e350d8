/**
 * A subscriber on a WebSocket, as the Hub sees it: frames go out as prebuilt, shared wire bytes
 * (ws-wire.ts); a connection that asked for batches (`GET /ws?batch=1`) gets the frames that
 * reach it within one tick after the first as one message, a JSON array of frames.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { CloseCode } from '@roomcast/shared';
import type { SubscriberClaims } from '../auth/tokens.ts';
import { nextDrain } from '../hub/connection.ts';
import type { Connection } from '../hub/connection.ts';
import type { OutgoingFrame } from '../hub/frames.ts';
import type { Subscription } from '../hub/hub.ts';
import { currentTick, flushAtTickEnd } from './tick-batches.ts';
import type { TickFlushable } from './tick-batches.ts';
import { frameWriter, payloadOf, textFrame, wireOf } from './ws-wire.ts';
import type { FrameWriter } from './ws-wire.ts';

const OPEN = 1;

/** One batch message, shared by every connection that holds the same frames in a tick. */
interface Batch {
  frames: OutgoingFrame[];
  payload: Buffer;
  wire?: Buffer;
}

function sameFrames(a: OutgoingFrame[], b: OutgoingFrame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The batch message for `frames`, from `shared` when another connection built it this tick. */
function batchOf(frames: OutgoingFrame[], shared: Map<unknown, unknown>): Batch {
  const candidates = shared.get(frames[0]) as Batch[] | undefined;
  const found = candidates?.find((batch) => sameFrames(batch.frames, frames));
  if (found) return found;
  const batch: Batch = {
    frames,
    payload: Buffer.from(`[${frames.map((frame) => frame.json).join(',')}]`),
  };
  if (candidates) candidates.push(batch);
  else shared.set(frames[0], [batch]);
  return batch;
}

/** A subscriber connection on a WebSocket. */
export class WebSocketConnection implements Connection, TickFlushable {
  readonly transport = 'ws' as const;
  readonly subscriptions = new Map<string, Subscription>();
  strikes = 0;
  /** Subscribe frames it may still send now (a token bucket, see the route's `allowSubscribe`). */
  subscribeBudget = Infinity;
  subscribeBudgetAt = 0;
  claims: SubscriberClaims | undefined;
  /** Without a token yet: the time by which `{type:"auth"}` must arrive. */
  authDeadline: number | undefined;
  /** When TOKEN_EXPIRED was sent (the grace runs from here). */
  expiredAt: number | undefined;
  /** Frames that arrived while a check was running (token, host authorize), handled after it. */
  backlog: Array<[Buffer, boolean]> | undefined;
  /** The host app's `authorize`, bound to the upgrade request (only when used without a token). */
  hostCheck: ((room: string) => boolean | Promise<boolean>) | undefined;

  private readonly writer: FrameWriter;
  /** Frames held until the end of this tick (batching connections only). */
  private held: OutgoingFrame[] | undefined;
  private heldBytes = 0;
  /** The tick of the last frame written at once. */
  private lastTick = -1;
  /** One wait for the socket's drain, shared by every subscription waiting on it. */
  private draining: Promise<void> | undefined;

  constructor(
    readonly socket: WebSocket,
    readonly ip: string,
    /** Whether the client accepts batch messages (JSON arrays of frames). */
    readonly batching: boolean,
  ) {
    this.writer = frameWriter(socket);
  }

  send(frame: OutgoingFrame): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.batching) {
      if (this.held) {
        this.held.push(frame);
        this.heldBytes += frame.json.length;
        return;
      }
      const tick = currentTick();
      if (tick === this.lastTick) {
        this.held = [frame];
        this.heldBytes = frame.json.length;
        return flushAtTickEnd(this);
      }
      this.lastTick = tick;
    }
    this.writeFrame(frame);
  }

  /** Bytes and wire frame are made once per event and shared by every subscriber of the room. */
  private writeFrame(frame: OutgoingFrame): void {
    this.writer.write(payloadOf(frame), this.writer.direct ? wireOf(frame) : undefined);
  }

  flushTick(shared: Map<unknown, unknown>): void {
    const frames = this.held;
    this.held = undefined;
    this.heldBytes = 0;
    if (!frames || this.socket.readyState !== OPEN) return;
    if (frames.length === 1) return this.writeFrame(frames[0]!);
    const batch = batchOf(frames, shared);
    const wire = this.writer.direct ? (batch.wire ??= textFrame(batch.payload)) : undefined;
    this.writer.write(batch.payload, wire);
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount + this.heldBytes;
  }

  drained(): Promise<void> {
    const raw = (this.socket as unknown as { _socket?: Socket })._socket;
    return (this.draining ??= nextDrain(raw).finally(() => (this.draining = undefined)));
  }

  dropSlow(): void {
    this.socket.close(CloseCode.SLOW_CONSUMER, 'slow consumer: reconnect and resume');
  }
}
