/**
 * Reads what the fan-out subscribers need from a message's bytes without `JSON.parse`: for each
 * event frame, the event index (in the payload's peer id) and the send time (`joinedAt`). With
 * 20,000 subscribers in one process, parsing the whole ~600-byte frame per delivery was most of
 * the client's CPU, and so of the latency the bench measured.
 *
 * The fast path only takes what it can read exactly: a message that is one event frame
 * (`{"type":"event",…}`) or a JSON array of them (roomcast's `?batch=1`), each with one
 * `"id":"peerId--bench…"` and one `"joinedAt":` — which is what every server of the bench sends
 * (JSON.stringify output, no whitespace). Anything else (subscribed, snapshot, error, other
 * shapes) is parsed in full and handed to `other`.
 */
import { FANOUT_INDEX_DIGITS, FANOUT_PEER_PREFIX, fanoutIndexOf } from '../lib/fanout-events.ts';
import type { EventFrameView } from '../lib/fanout-events.ts';

/** Where a message's frames go. */
export interface FrameSink {
  /** An event frame: its fan-out index and send time (NaN when it carries none). */
  event(index: number, sentAt: number): void;
  /** Any other frame, parsed. */
  other(frame: EventFrameView): void;
}

const FRAME_HEAD = Buffer.from('{"type":"');
const EVENT_HEAD = Buffer.from('{"type":"event",');
const PEER_MARK = Buffer.from(`"id":"${FANOUT_PEER_PREFIX}`);
const JOINED_MARK = Buffer.from('"joinedAt":');
const OPEN_BRACKET = 0x5b; // [
const DIGIT_0 = 0x30;
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;

function startsWith(buf: Buffer, at: number, head: Buffer): boolean {
  return buf.compare(head, 0, head.length, at, at + head.length) === 0;
}

/** Appends index and send time of the event frame in [head, limit); false if not exact. */
function readEvent(buf: Buffer, head: number, limit: number, out: number[]): boolean {
  const peer = buf.indexOf(PEER_MARK, head);
  const joined = buf.indexOf(JOINED_MARK, head);
  if (peer < 0 || joined < 0 || peer >= limit || joined >= limit) return false;
  let index = 0;
  const digits = peer + PEER_MARK.length;
  for (let i = digits; i < digits + FANOUT_INDEX_DIGITS; i++) {
    const digit = buf[i]! - DIGIT_0;
    if (digit < 0 || digit > 9) return false;
    index = index * 10 + digit;
  }
  const from = joined + JOINED_MARK.length;
  let to = from;
  while (to < limit && buf[to] !== COMMA && buf[to] !== CLOSE_BRACE) to++;
  const sentAt = Number(buf.toString('latin1', from, to));
  if (Number.isNaN(sentAt)) return false;
  out.push(index, sentAt);
  return true;
}

/** The (index, sentAt) pairs of a message made only of event frames, or undefined. */
function scanEvents(buf: Buffer, start: number, end: number): number[] | undefined {
  const out: number[] = [];
  if (startsWith(buf, start, EVENT_HEAD)) return readEvent(buf, start, end, out) ? out : undefined;
  if (buf[start] !== OPEN_BRACKET) return undefined;
  // A batch: frames start at each `{"type":"` (payload objects never begin with a `type` key).
  let head = buf.indexOf(FRAME_HEAD, start);
  if (head !== start + 1) return undefined;
  while (head >= 0 && head < end) {
    if (!startsWith(buf, head, EVENT_HEAD)) return undefined;
    const found = buf.indexOf(FRAME_HEAD, head + FRAME_HEAD.length);
    const next = found < 0 || found >= end ? end : found;
    if (!readEvent(buf, head, next, out)) return undefined;
    head = next === end ? -1 : next;
  }
  return out;
}

function deliver(frame: EventFrameView, sink: FrameSink): void {
  if (frame.type === 'event') sink.event(fanoutIndexOf(frame), frame.payload?.joinedAt ?? NaN);
  else sink.other(frame);
}

/** Hands the frames of the JSON message in `buf` [start, end) to `sink`. */
export function readMessage(buf: Buffer, start: number, end: number, sink: FrameSink): void {
  const events = scanEvents(buf, start, end);
  if (events) {
    for (let i = 0; i < events.length; i += 2) sink.event(events[i]!, events[i + 1]!);
    return;
  }
  const parsed = JSON.parse(buf.toString('utf8', start, end)) as EventFrameView | EventFrameView[];
  if (Array.isArray(parsed)) for (const frame of parsed) deliver(frame, sink);
  else deliver(parsed, sink);
}
