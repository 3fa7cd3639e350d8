/**
 * The ingest workload: realistic, signed Huddle01 webhooks with unique ids, as a deterministic
 * sequence. Rooms go through whole meetings (started, 4 peers join, publish a track, leave,
 * ended, then a new session), so room state stays the size of a real meeting instead of growing
 * with the run, and every roomcast code path of a normal day is taken (track events go through
 * the peer→room index). Consecutive events of one room are `rooms` requests apart, so with fewer
 * requests in flight than rooms they arrive in order.
 */
import type { EventName } from '@roomcast/shared';
// Imported from its module, not the package index: client processes need no fastify.
import { signWebhook } from '../../server/src/webhooks/sign-webhook.ts';
import { samplePayload } from '../../server/src/cli/sample-payloads.ts';
import { BENCH_API_KEY } from './bench-secrets.ts';

/** Steps of one meeting in one room (14 webhooks). */
const MEETING: readonly { event: EventName; peer?: number }[] = [
  { event: 'meeting:started' },
  ...[0, 1, 2, 3].map((peer) => ({ event: 'peer:joined' as const, peer })),
  ...[0, 1, 2, 3].map((peer) => ({ event: 'peer:trackPublished' as const, peer })),
  ...[0, 1, 2, 3].map((peer) => ({ event: 'peer:left' as const, peer })),
  { event: 'meeting:ended' },
];

/** One signed webhook. */
export interface SignedRequest {
  body: string;
  signature: string;
}

/**
 * The `index`-th webhook of the sequence, signed now. `tag` makes ids (and so dedup keys)
 * unique per sequence.
 */
export function mixWebhook(index: number, { rooms = 64, tag = 'w', start = Date.now() } = {}) {
  const room = index % rooms;
  const step = Math.floor(index / rooms);
  const meeting = Math.floor(step / MEETING.length);
  const { event, peer = 0 } = MEETING[step % MEETING.length]!;
  const roomId = `room-${room}`;
  const payload = samplePayload(event, {
    roomId,
    peerId: `peer-${room}-${meeting}-${peer}`,
    sessionId: `session-${room}-${meeting}`,
    // Event times move forward in each room, as in a real meeting.
    now: start + step * 50,
    track: 'audio',
  });
  return signWebhook({ id: `wh-${tag}-${index}`, event, payload }, BENCH_API_KEY);
}

/** The raw HTTP/1.1 request that POSTs a signed webhook to roomcast's route. */
export function webhookRequestBytes({ body, signature }: SignedRequest): Buffer {
  const bodyBytes = Buffer.from(body);
  const head =
    'POST /webhooks/huddle01 HTTP/1.1\r\n' +
    'host: 127.0.0.1\r\n' +
    'content-type: text/plain\r\n' +
    `huddle01-signature: ${signature}\r\n` +
    `content-length: ${bodyBytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bodyBytes]);
}
