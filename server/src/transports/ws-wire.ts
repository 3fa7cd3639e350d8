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

/** A frame's WebSocket encoding, made once per frame and shared by every socket it goes to. */
interface Encoding {
  readonly payload: Buffer;
  /** Made on first need: a socket whose writer is not `direct` never needs it. */
  wire: Buffer | undefined;
}

const encodings = new WeakMap<OutgoingFrame, Encoding>();
// A fan-out hands one frame to every subscriber in a row: the last one is looked up first.
let lastFrame: OutgoingFrame | undefined;
let lastEncoding: Encoding | undefined;

function encodingOf(frame: OutgoingFrame): Encoding {
  if (frame === lastFrame) return lastEncoding!;
  let encoding = encodings.get(frame);
  if (!encoding) {
    encoding = { payload: Buffer.from(frame.json), wire: undefined };
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
  if (!direct) return { direct, write: (payload) => socket.send(payload, TEXT) };
  return {
    direct,
    write(payload, frame) {
      if (frame && sender._state === SENDER_IDLE && sender._queue!.length === 0) raw.write(frame);
      else socket.send(payload, TEXT);
    },
  };
}
