/**
 * How entries travel through Redis. The stream entry and the pub/sub message carry the same
 * body (`{id, event, payload, receivedAt}`); the seq is the stream entry id (`<seq>-0`) or the
 * message's second word, and the epoch comes from the room's hash (stream) or the message's
 * first word, so a room can take a new epoch without rewriting its history.
 */
import type { AnyAppendInput, LogEntry } from '../engine.ts';
import type { RawStreamEntry } from './scripts.ts';

interface Body {
  id: string;
  event: LogEntry['event'];
  payload: LogEntry['payload'];
  receivedAt: number;
}

/** The body of an entry, as stored in the stream and published. */
export function encodeBody(input: AnyAppendInput): string {
  const body: Body = {
    id: input.webhookId,
    event: input.event,
    payload: input.payload,
    receivedAt: input.receivedAt,
  };
  return JSON.stringify(body);
}

function entryOf(roomId: string, epoch: string, seq: number, json: string): LogEntry {
  const body = JSON.parse(json) as Body;
  return {
    roomId,
    epoch,
    seq,
    id: body.id,
    event: body.event,
    payload: body.payload,
    receivedAt: body.receivedAt,
  };
}

/** Parses a pub/sub message `<epoch> <seq> <body>`; undefined when it is not one. */
export function decodeMessage(roomId: string, message: string): LogEntry | undefined {
  const first = message.indexOf(' ');
  const second = message.indexOf(' ', first + 1);
  if (first <= 0 || second <= first) return undefined;
  const seq = Number(message.slice(first + 1, second));
  if (!Number.isSafeInteger(seq)) return undefined;
  try {
    return entryOf(roomId, message.slice(0, first), seq, message.slice(second + 1));
  } catch {
    return undefined;
  }
}

/** Parses stream entries (XRANGE) of a room in `epoch`. */
export function decodeStream(roomId: string, epoch: string, raw: RawStreamEntry[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const [id, fields] of raw) {
    const at = fields.indexOf('b');
    const json = at >= 0 ? fields[at + 1] : undefined;
    if (json === undefined) continue;
    entries.push(entryOf(roomId, epoch, Number.parseInt(id, 10), json));
  }
  return entries;
}
