/**
 * The fan-out events: a realistic `peer:joined` per event, whose `joinedAt` carries the send time
 * (wall clock with sub-ms precision) so subscribers can compute receive − send, and whose peer id
 * carries the event's `index` (0-based, global across rooms), so subscribers identify events the
 * same way whatever the server.
 */
// Imported from its module, not the package index: client processes need no fastify.
import { signWebhook } from '../../server/src/webhooks/sign-webhook.ts';
import { samplePayload } from '../../server/src/cli/sample-payloads.ts';
import { BENCH_API_KEY, BENCH_ROOM } from './bench-secrets.ts';

/** Start of a fan-out event's peer id; the event index follows in `FANOUT_INDEX_DIGITS` digits. */
export const FANOUT_PEER_PREFIX = 'peerId--bench';
/** Digits of the zero-padded event index in the peer id. */
export const FANOUT_INDEX_DIGITS = 15;

/** The payload of event `index` in `room`, sent at `sentAt` (ms). */
export function fanoutPayload(index: number, sentAt: number, room = BENCH_ROOM) {
  return samplePayload('peer:joined', {
    roomId: room,
    peerId: `${FANOUT_PEER_PREFIX}${String(index).padStart(FANOUT_INDEX_DIGITS, '0')}`,
    now: sentAt,
  });
}

/**
 * The event index a frame carries (in its peer id): the same for every server, and unlike `seq`
 * global across rooms. NaN for a frame that is not a fan-out event.
 */
export function fanoutIndexOf(frame: EventFrameView): number {
  const id = frame.payload?.id;
  return typeof id === 'string' && id.startsWith(FANOUT_PEER_PREFIX)
    ? Number(id.slice(FANOUT_PEER_PREFIX.length))
    : Number.NaN;
}

/** Name of room `index` of a many-rooms run. */
export function benchRoomName(index: number): string {
  return `${BENCH_ROOM}-${index}`;
}

/** The signed webhook roomcast receives for event `index` in `room`. */
export function fanoutWebhook(index: number, sentAt: number, room = BENCH_ROOM) {
  return signWebhook(
    { id: `wh-fanout-${index}`, event: 'peer:joined', payload: fanoutPayload(index, sentAt, room) },
    BENCH_API_KEY,
  );
}

/**
 * The frame a comparison server broadcasts for event `index`: the same fields roomcast's `event`
 * frame has, so every server sends about the same bytes.
 */
export function fanoutFrameJson(index: number, sentAt: number, room = BENCH_ROOM): string {
  return JSON.stringify({
    type: 'event',
    room,
    epoch: 'benchEpoch',
    seq: index + 1,
    id: `wh-fanout-${index}`,
    event: 'peer:joined',
    payload: fanoutPayload(index, sentAt, room),
  });
}

/** What a subscriber needs from an event frame. */
export interface EventFrameView {
  type?: string;
  seq?: number;
  payload?: { id?: string; joinedAt?: number };
  code?: string;
  message?: string;
}
