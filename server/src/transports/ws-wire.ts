/**
 * WebSocket frames on the wire, built once and written to many sockets.
 *
 * A server→client frame is never masked (RFC 6455 §5.1), so the bytes of a text frame are the
 * same for every subscriber of a room. `ws` builds a header per send and writes header and
 * payload as two chunks; here the whole frame is built once per event and each socket gets one
 * write of the shared buffer (measured in docs/benchmarks.md: "Prebuilt frames"). Whenever the
 * socket's own sender is busy (a fragmented or compressed message in flight, a queued close) or
 * uses an extension, the frame goes through `ws`'s own `send` instead.
 *
 * The encoding of a frame (its UTF-8 payload, its wire frame) is this transport's own: kept here
 * per frame, not on the frame, so the hub's frames stay transport-free.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { OutgoingFrame } from '../hub/frames.ts';

const FIN_TEXT = 0x81;

/** An unmasked, final text frame (header + payload) for `payload`. */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN_TEXT;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2); // payloads stay far below 4 GiB
    frame.writeUInt32BE(length, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** An unmasked ping frame without payload (opcode 0x9, FIN). */
const PING = Buffer.from([0x89, 0x00]);

/** A frame's WebSocket encoding, made once per frame and shared by every socket it goes to. */
interface Encoding {
  readonly payload: Buffer;
  /** Made on first need: a socket whose writer is not `direct` never needs it. */
  wire: Buffer | undefined;
  /** A ping followed by the wire frame (the heartbeat's), made on first need. */
  pinged: Buffer | undefined;
}

const encodings = new WeakMap<OutgoingFrame, Encoding>();
// A fan-out hands one frame to every subscriber in a row: the last one is looked up first.
let lastFrame: OutgoingFrame | undefined;
let lastEncoding: Encoding | undefined;

function encodingOf(frame: OutgoingFrame): Encoding {
  if (frame === lastFrame) return lastEncoding!;
  let encoding = encodings.get(frame);
  if (!encoding) {
    encoding = { payload: Buffer.from(frame.json), wire: undefined, pinged: undefined };
    encodings.set(frame, encoding);
  }
  lastFrame = frame;
  lastEncoding = encoding;
  return encoding;
}

/** `frame`'s JSON as UTF-8 bytes: made once per frame, whatever the number of sockets. */
export function payloadOf(frame: OutgoingFrame): Buffer {
  return encodingOf(frame).payload;
}

/** `frame` as a whole unmasked text frame (header + payload): made once per frame. */
export function wireOf(frame: OutgoingFrame): Buffer {
  const encoding = encodingOf(frame);
  return (encoding.wire ??= textFrame(encoding.payload));
}

/** A protocol ping followed by `frame` (header + payload), as one buffer: made once per frame. */
export function pingedWireOf(frame: OutgoingFrame): Buffer {
  const encoding = encodingOf(frame);
  return (encoding.pinged ??= Buffer.concat([PING, wireOf(frame)]));
}

/** The parts of `ws`'s internals the direct write relies on (ws 8). */
interface WebSocketInternals {
  _socket?: Socket;
  _sender?: { _state?: number; _queue?: unknown[] };
  _extensions?: Record<string, unknown>;
}

const SENDER_IDLE = 0;
const TEXT = { binary: false } as const;

/** Writes text messages to one socket. */
export interface FrameWriter {
  /** Whether this socket takes prebuilt frames (false: every message goes through `ws`). */
  readonly direct: boolean;
  /** Writes `payload`, as the prebuilt `frame` (its wire bytes) when `direct`. */
  write(payload: Buffer, frame: Buffer | undefined): void;
  /**
   * Sends a protocol ping, then `payload`: as the prebuilt `pinged` bytes (ping and frame) in
   * one write when `direct`, else as `ws`'s ping and send.
   */
  pingThenWrite(payload: Buffer, pinged: Buffer | undefined): void;
}

/** Every message through `ws`'s own sender: a socket with an extension, or unknown internals. */
class WsWriter implements FrameWriter {
  readonly direct: boolean = false;
  constructor(private readonly socket: WebSocket) {}

  write(payload: Buffer): void {
    this.socket.send(payload, TEXT);
  }

  pingThenWrite(payload: Buffer): void {
    this.socket.ping();
    this.socket.send(payload, TEXT);
  }
}

/**
 * Prebuilt frames straight to the TCP socket while `ws`'s sender is idle; through `ws` when it
 * is busy (a close or a ping can leave it so for a moment), so frames never interleave.
 * A class, not closures: at 20,000 connections every byte a writer holds counts.
 */
class DirectWriter extends WsWriter {
  override readonly direct: boolean = true;
  constructor(
    socket: WebSocket,
    private readonly raw: Socket,
    private readonly sender: { _state?: number; _queue?: unknown[] },
  ) {
    super(socket);
  }

  private idle(): boolean {
    return this.sender._state === SENDER_IDLE && this.sender._queue!.length === 0;
  }

  override write(payload: Buffer, frame?: Buffer): void {
    if (frame && this.idle()) this.raw.write(frame);
    else super.write(payload);
  }

  override pingThenWrite(payload: Buffer, pinged?: Buffer): void {
    if (pinged && this.idle()) this.raw.write(pinged);
    else super.pingThenWrite(payload);
  }
}

/**
 * Returns the writer of `socket`: a direct write of the prebuilt frame when `ws`'s sender is
 * idle and no extension transforms payloads, `socket.send(payload)` otherwise. The check runs
 * per frame, because a close or a ping can leave the sender busy for a moment.
 */
export function frameWriter(socket: WebSocket): FrameWriter {
  const internals = socket as unknown as WebSocketInternals;
  const raw = internals._socket;
  const sender = internals._sender;
  const direct =
    raw !== undefined &&
    sender !== undefined &&
    Array.isArray(sender._queue) &&
    typeof sender._state === 'number' &&
    Object.keys(internals._extensions ?? {}).length === 0;
  return direct ? new DirectWriter(socket, raw, sender) : new WsWriter(socket);
}
