/**
 * SSE messages on the wire, built once and written to many streams.
 *
 * A single-room stream's messages are the same bytes for every subscriber of the room, and so is
 * their HTTP/1.1 chunk (`<hex length>\r\n<message>\r\n`). node:http frames each `write` as a chunk
 * in several parts; here the whole chunk is built once per event and each stream's socket gets
 * one write of the shared buffer (measured in docs/benchmarks.md). A response that is not
 * chunked, or still holds output of its own, is written through `response.write` instead.
 *
 * The encoding of a frame (its message, its chunk) is this transport's own: kept here per frame,
 * not on the frame, so the hub's frames stay transport-free.
 */
import type { ServerResponse } from 'node:http';
import { formatPosition } from '@roomcast/shared';
import type { OutgoingFrame } from '../hub/frames.ts';

/** `message` as one HTTP/1.1 chunk. */
export function httpChunk(message: Buffer): Buffer {
  const head = Buffer.from(`${message.length.toString(16)}\r\n`, 'latin1');
  const chunk = Buffer.allocUnsafe(head.length + message.length + 2);
  head.copy(chunk, 0);
  message.copy(chunk, head.length);
  chunk[chunk.length - 2] = 0x0d;
  chunk[chunk.length - 1] = 0x0a;
  return chunk;
}

/** A frame as the message of a single-room stream, and as its HTTP/1.1 chunk. */
export interface SseEncoding {
  readonly message: Buffer;
  readonly chunk: Buffer;
}

const encodings = new WeakMap<OutgoingFrame, SseEncoding>();
// A fan-out hands one frame to every subscriber in a row: the last one is looked up first.
let lastFrame: OutgoingFrame | undefined;
let lastEncoding: SseEncoding | undefined;

/**
 * `frame` as a single-room stream's message (`id:` when it has a position: an empty `id:` would
 * make the browser forget its resume point), made once per frame and shared by every stream of
 * the room. Bytes, not a string: encoded once instead of once per subscriber.
 */
export function sseMessageOf(frame: OutgoingFrame): SseEncoding {
  if (frame === lastFrame) return lastEncoding!;
  let encoding = encodings.get(frame);
  if (!encoding) {
    const id = frame.position ? `id: ${formatPosition(frame.position)}\n` : '';
    const message = Buffer.from(`${id}event: ${frame.name}\ndata: ${frame.json}\n\n`);
    encoding = { message, chunk: httpChunk(message) };
    encodings.set(frame, encoding);
  }
  lastFrame = frame;
  lastEncoding = encoding;
  return encoding;
}

/** node:http internals the direct write checks (Node 20). */
interface ResponseInternals {
  chunkedEncoding?: boolean;
  outputData?: unknown[];
}

/**
 * Writes an SSE message to `response`: `chunk`, the message as a prebuilt chunk, goes straight
 * to the socket when the response streams chunks with nothing of its own pending. Returns
 * whether it did.
 */
export function writeSseMessage(response: ServerResponse, message: Buffer, chunk: Buffer): boolean {
  const internals = response as ServerResponse & ResponseInternals;
  const socket = response.socket;
  if (
    socket !== null &&
    internals.chunkedEncoding === true &&
    response.headersSent &&
    !response.writableEnded &&
    internals.outputData?.length === 0
  ) {
    socket.write(chunk);
    return true;
  }
  response.write(message);
  return false;
}
