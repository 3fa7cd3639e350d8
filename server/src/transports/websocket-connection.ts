/**
 * A subscriber on a WebSocket, as the Hub sees it: frames go out as prebuilt, shared wire bytes
 * (ws-wire.ts); a connection that asked for batches (`GET /ws?batch=1`) gets the frames that
 * reach it within one tick after the first as one message, a JSON array of frames.
 *
 * It also keeps its session, private behind methods: the token's claims (or the host app's
 * check), the auth deadline, the expiry grace, the strikes for invalid frames, the subscribe
 * budget, the frames held while a check runs, and the subscriptions. The route (websocket-route.ts)
 * speaks the protocol through these methods; the expiry sweep visits `checkExpiry`.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { CloseCode, ERRORS, ErrorCode } from '@roomcast/shared';
import type { ClosingErrorCode } from '@roomcast/shared';
import type { SubscriberClaims } from '../auth/tokens.ts';
import { nextDrain } from '../hub/connection.ts';
import type { Connection } from '../hub/connection.ts';
import { errorFrame } from '../hub/frames.ts';
import type { OutgoingFrame } from '../hub/frames.ts';
import type { Subscription } from '../hub/hub.ts';
import type { Expiring } from './expiry-sweep.ts';
import { currentTick, flushAtTickEnd } from './tick-batches.ts';
import type { TickFlushable } from './tick-batches.ts';
import { frameWriter, payloadOf, pingedWireOf, textFrame, wireOf } from './ws-wire.ts';
import type { FrameWriter } from './ws-wire.ts';

const OPEN = 1;
/** Invalid frames tolerated before the connection is closed with 1008. */
const MAX_STRIKES = 10;
/** Frames queued while a token is being verified, before the connection counts as abusive. */
const MAX_BACKLOG = 100;

/** The host app's `authorize`, bound to the upgrade request. */
export type HostCheck = (room: string) => boolean | Promise<boolean>;

/** What every connection of one route shares: its limits, and the frames it sends on its own. */
export interface WebSocketRules {
  /** Time after a token expires for a refresh before close 4001, ms. */
  readonly tokenGrace: number;
  /** Subscribe frames per second, and the bucket's size. */
  readonly subscribeRate: number;
  readonly subscribeBurst: number;
  /** Sent when no `{type:"auth"}` came in time (then close 1008). */
  readonly authLate: OutgoingFrame;
  /** Sent when the token expires (the grace starts). */
  readonly tokenExpired: OutgoingFrame;
}

/** The rules of a route, from its slice of the config. */
export function createWebSocketRules(config: {
  tokenGrace: number;
  subscribeRate: number;
  maxSubscriptions: number;
}): WebSocketRules {
  return {
    tokenGrace: config.tokenGrace,
    subscribeRate: config.subscribeRate,
    // A reconnect resubscribes every room at once: the burst allows a full set.
    subscribeBurst: Math.max(config.maxSubscriptions, config.subscribeRate),
    authLate: errorFrame(ErrorCode.UNAUTHORIZED, 'no {type:"auth"} frame in time'),
    tokenExpired: errorFrame(
      ErrorCode.TOKEN_EXPIRED,
      `token expired; send {type:"auth"} within ${config.tokenGrace} ms`,
    ),
  };
}

/** How the connection starts: a token verified at the upgrade, the host's check, or neither. */
export interface WebSocketStart {
  claims?: SubscriberClaims | undefined;
  hostCheck?: HostCheck | undefined;
  /** Without either: the time by which `{type:"auth"}` must arrive. */
  authDeadline?: number | undefined;
}

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
export class WebSocketConnection implements Connection, TickFlushable, Expiring {
  readonly transport = 'ws' as const;
  private readonly subscriptions = new Map<string, Subscription>();
  private strikes = 0;
  /** Subscribe frames it may still send now (a token bucket, see `allowSubscribe`). */
  private subscribeBudget = Infinity;
  private subscribeBudgetAt = 0;
  private currentClaims: SubscriberClaims | undefined;
  /** Without a token yet: the time by which `{type:"auth"}` must arrive. */
  private authDeadline: number | undefined;
  /** When TOKEN_EXPIRED was sent (the grace runs from here). */
  private expiredAt: number | undefined;
  /** Frames that arrived while a check was running (token, host authorize), handled after it. */
  private backlog: Array<[Buffer, boolean]> | undefined;
  /** The host app's `authorize`, bound to the upgrade request (only when used without a token). */
  private readonly hostCheck: HostCheck | undefined;

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
    private readonly rules: WebSocketRules,
    start: WebSocketStart = {},
  ) {
    this.writer = frameWriter(socket);
    this.currentClaims = start.claims;
    this.hostCheck = start.hostCheck;
    this.authDeadline = start.claims || start.hostCheck ? undefined : start.authDeadline;
  }

  /** The verified token's claims; undefined before `{type:"auth"}` (or with the host's check). */
  get claims(): SubscriberClaims | undefined {
    return this.currentClaims;
  }

  /** True once it may read rooms: a token verified, or the host app's check to ask. */
  get admitted(): boolean {
    return this.currentClaims !== undefined || this.hostCheck !== undefined;
  }

  /** True while the socket is open. */
  get open(): boolean {
    return this.socket.readyState === OPEN;
  }

  /**
   * Takes a verified token, the first or a refresh: the auth deadline and a running expiry grace
   * end. True when it is the first.
   */
  authenticate(claims: SubscriberClaims): boolean {
    const first = this.currentClaims === undefined;
    this.currentClaims = claims;
    this.authDeadline = undefined;
    this.expiredAt = undefined;
    return first;
  }

  /** True when its token expired (notice sent, or due): only a refresh is accepted then. */
  tokenExpired(now: number): boolean {
    const claims = this.currentClaims;
    return claims !== undefined && (this.expiredAt !== undefined || now >= claims.exp * 1000);
  }

  /** The host app's verdict on `room`; undefined without a host check. */
  hostAllows(room: string): boolean | Promise<boolean> | undefined {
    return this.hostCheck?.(room);
  }

  /** The auth deadline, the token's expiry and its grace: sends the notice and closes when due. */
  checkExpiry(now: number): void {
    const claims = this.currentClaims;
    if (!claims) {
      const late = this.authDeadline !== undefined && now > this.authDeadline;
      // A token being verified right now is not late.
      if (late && !this.backlog) {
        this.send(this.rules.authLate);
        this.closeFor(ErrorCode.UNAUTHORIZED, 'unauthorized');
      }
      return;
    }
    if (now < claims.exp * 1000) return;
    if (this.expiredAt === undefined) {
      this.expiredAt = now;
      this.send(this.rules.tokenExpired);
    } else if (now >= this.expiredAt + this.rules.tokenGrace) {
      this.closeFor(ErrorCode.TOKEN_EXPIRED, 'token expired');
    }
  }

  /** The next deadline `checkExpiry` acts on; none once the socket is closing. */
  nextExpiryCheck(): number {
    if (!this.open) return Infinity;
    const claims = this.currentClaims;
    if (!claims) return this.authDeadline === undefined ? Infinity : this.authDeadline + 1;
    if (this.expiredAt === undefined) return claims.exp * 1000;
    return this.expiredAt + this.rules.tokenGrace;
  }

  /**
   * Ends the connection for `code` with the close code the error table (`ERRORS`) gives it:
   * UNAUTHORIZED 1008 (do not retry as is), TOKEN_EXPIRED 4001 (refresh, then reconnect).
   */
  closeFor(code: ClosingErrorCode, reason: string): void {
    this.socket.close(ERRORS[code].close, reason);
  }

  /** Counts one invalid frame (its error already sent); the last one tolerated closes with 1008. */
  strike(): void {
    if (++this.strikes >= MAX_STRIKES) {
      this.socket.close(CloseCode.POLICY, 'too many invalid frames');
    }
  }

  /** Takes one subscribe from the bucket (`subscribeBurst`, refilled at `subscribeRate`). */
  allowSubscribe(now: number = Date.now()): boolean {
    const { subscribeRate, subscribeBurst } = this.rules;
    const refill = ((now - this.subscribeBudgetAt) * subscribeRate) / 1000;
    this.subscribeBudget = Math.min(subscribeBurst, this.subscribeBudget + refill);
    this.subscribeBudgetAt = now;
    if (this.subscribeBudget < 1) return false;
    this.subscribeBudget -= 1;
    return true;
  }

  /**
   * Holds the frames that arrive until `work` settles, then hands them to `replay` in order: a
   * check (token, host authorize) runs meanwhile, and the frames after it must see its outcome.
   */
  holdWhile(
    work: Promise<unknown>,
    replay: (connection: WebSocketConnection, data: Buffer, isBinary: boolean) => void,
  ): void {
    this.backlog = [];
    void work.finally(() => {
      const backlog = this.backlog ?? [];
      this.backlog = undefined;
      for (const [data, isBinary] of backlog) replay(this, data, isBinary);
    });
  }

  /** While frames are held: holds this one too (true); too many close the socket with 1008. */
  hold(data: Buffer, isBinary: boolean): boolean {
    if (!this.backlog) return false;
    if (this.backlog.push([data, isBinary]) > MAX_BACKLOG) {
      this.socket.close(CloseCode.POLICY, 'too many frames');
    }
    return true;
  }

  /** The subscription to `room`, if any. */
  subscriptionOf(room: string): Subscription | undefined {
    return this.subscriptions.get(room);
  }

  /** Rooms subscribed now. */
  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /** The rooms subscribed now (a live view: removing the current one while iterating is fine). */
  subscribedRooms(): IterableIterator<string> {
    return this.subscriptions.keys();
  }

  /** Records the subscription to `room` (replacing one ended already). */
  addSubscription(room: string, subscription: Subscription): void {
    this.subscriptions.set(room, subscription);
  }

  /** Forgets the subscription to `room` and returns it, to be ended by the caller. */
  removeSubscription(room: string): Subscription | undefined {
    const subscription = this.subscriptions.get(room);
    this.subscriptions.delete(room);
    return subscription;
  }

  /** Forgets every subscription and returns them, to be ended by the caller (on close). */
  removeSubscriptions(): Subscription[] {
    const all = [...this.subscriptions.values()];
    this.subscriptions.clear();
    return all;
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

  /**
   * The heartbeat's two frames: a protocol ping (the server's side of liveness) and `beat`, the
   * app-level heartbeat (the browser's side: it never sees pings). One write of both when the
   * socket takes prebuilt frames, so a heartbeat costs one system call, not two. Frames held
   * for a batch go first, as `send` would have them.
   */
  pulse(beat: OutgoingFrame): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.held) {
      this.socket.ping();
      return this.send(beat);
    }
    this.writer.pingThenWrite(payloadOf(beat), this.writer.direct ? pingedWireOf(beat) : undefined);
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
