/**
 * The fan-out events: a realistic `peer:joined` per event, whose `joinedAt` carries the send time
 * (wall clock with sub-ms precision) so subscribers can compute receive − send. Event `index`
 * (0-based) is the room's `seq` index + 1, for roomcast (a fresh room) and for the comparison
 * servers alike, so subscribers identify events by `seq`.
 */
// Imported from its module, not the package index: client processes need no fastify.
import { signWebhook } from '../../server/src/webhooks/sign-webhook.ts';
import { samplePayload } from '../../server/src/cli/sample-payloads.ts';
import { BENCH_API_KEY, BENCH_ROOM } from './bench-secrets.ts';

/** The payload of event `index`, sent at `sentAt` (ms). */
export function fanoutPayload(index: number, sentAt: number) {
  return samplePayload('peer:joined', {
    roomId: BENCH_ROOM,
    peerId: `peerId--bench${String(index).padStart(15, '0')}`,
    now: sentAt,
  });
}

/** The signed webhook roomcast receives for event `index`. */
export function fanoutWebhook(index: number, sentAt: number) {
  return signWebhook(
    { id: `wh-fanout-${index}`, event: 'peer:joined', payload: fanoutPayload(index, sentAt) },
    BENCH_API_KEY,
  );
}

/**
 * The frame a comparison server broadcasts for event `index`: the same fields roomcast's `event`
 * frame has, so every server sends about the same bytes.
 */
export function fanoutFrameJson(index: number, sentAt: number): string {
  return JSON.stringify({
    type: 'event',
    room: BENCH_ROOM,
    epoch: 'benchEpoch',
    seq: index + 1,
    id: `wh-fanout-${index}`,
    event: 'peer:joined',
    payload: fanoutPayload(index, sentAt),
  });
}

/** What a subscriber needs from an event frame. */
export interface EventFrameView {
  type?: string;
  seq?: number;
  payload?: { joinedAt?: number };
  code?: string;
  message?: string;
}
