/**
 * Zod schemas for every Huddle01 webhook roomcast knows, and the types inferred from them.
 *
 * Sources: the `WebhookEvents` type of @huddle01/server-sdk 2.6 (nine events) and the public
 * docs' `recording:stopped {id, roomId}` with optional top-level `cid` / `ipfsUrl`.
 * Every object schema is loose: fields Huddle01 adds later are kept, never stripped.
 */
import { z } from 'zod';
import type { EVENT_NAME_LIST } from './event-names.ts';

/** Milliseconds since the epoch, as Huddle01 sends them. */
const timestamp = z.number().finite();
const nonEmpty = z.string().min(1);
/**
 * A room id subscribers can name (as `isValidRoomId`: 1–200 characters, no whitespace or control
 * characters): an event for any other room would be accepted into a log nobody can read.
 */
const roomId = z
  .string()
  .min(1)
  .max(200)
  .regex(
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    /^[^\s\u0000-\u001f\u007f]*$/,
    'room id must not contain whitespace or control characters',
  );

const browser = z.looseObject({ name: z.string().optional(), version: z.string().optional() });
const device = z.looseObject({
  model: z.string().optional(),
  type: z.string().optional(),
  vendor: z.string().optional(),
});
const geoData = z.looseObject({ region: z.string(), country: z.string() });

/**
 * `"reconcile"` on an event roomcast synthesised from Huddle01's live API (see docs/reconcile.md)
 * instead of receiving it as a webhook. Huddle01's own webhooks carry no such field. A plain
 * optional string, not a literal: a field Huddle01 might add one day must not fail validation.
 */
const source = z
  .string()
  .optional()
  .describe('"reconcile" when roomcast synthesised the event from Huddle01\'s live API');

export const meetingStartedPayload = z.looseObject({
  sessionId: nonEmpty,
  roomId,
  createdAt: timestamp,
  source,
});

export const meetingEndedPayload = z.looseObject({
  sessionId: nonEmpty,
  roomId,
  createdAt: timestamp,
  endedAt: timestamp,
  duration: z.number(),
  participants: z.number(),
  maxParticipants: z.number(),
  audioMinutes: z.number(),
  videoMinutes: z.number(),
  source,
});

export const peerJoinedPayload = z.looseObject({
  id: nonEmpty,
  sessionId: nonEmpty,
  roomId,
  joinedAt: timestamp,
  metadata: z.string().optional(),
  role: z.string().optional(),
  version: z.string().optional(),
  browser,
  geoData: geoData.optional(),
  device,
  source,
});

export const peerLeftPayload = z.looseObject({
  id: nonEmpty,
  sessionId: nonEmpty,
  roomId,
  leftAt: timestamp,
  duration: z.number(),
  metadata: z.string().optional(),
  role: z.string().optional(),
  source,
});

/** Track events carry the peer id only: roomcast routes them through its peer→room index. */
export const peerTrackPayload = z.looseObject({ id: nonEmpty, track: nonEmpty });

export const recordingFile = z.looseObject({
  duration: z.number(),
  size: z.number(),
  filename: z.string(),
  location: z.string(),
  cid: z.string().optional(),
});

export const recordingStream = z.looseObject({
  duration: z.number(),
  url: z.string(),
  startedAt: timestamp,
  endedAt: timestamp,
});

export const recordingPayload = z.looseObject({
  id: nonEmpty,
  roomId,
  sessionId: nonEmpty,
  files: z.array(recordingFile),
  streams: z.array(recordingStream),
  cid: z.string().optional(),
  ipfsUrl: z.string().optional(),
});

/** The public docs' variant: only `{id, roomId}` is promised. */
export const recordingStoppedPayload = z.looseObject({
  id: nonEmpty,
  roomId,
  sessionId: z.string().optional(),
  files: z.array(recordingFile).optional(),
  streams: z.array(recordingStream).optional(),
  cid: z.string().optional(),
  ipfsUrl: z.string().optional(),
});

/**
 * roomcast's own event (never a Huddle01 webhook): the recording and livestream counts
 * Huddle01's live API gave for the room's live session (`getLiveSessions`), appended by reconcile
 * when they differ from the state's `meeting.media`. Always `source: "reconcile"`.
 */
export const reconcileMediaPayload = z.looseObject({
  roomId,
  sessionId: nonEmpty,
  recordingCount: z.number().int().nonnegative(),
  livestreamCount: z.number().int().nonnegative(),
  /** When roomcast asked the API (ms): a later observation wins, whatever the arrival order. */
  observedAt: timestamp,
  source,
});

/** Payload schema of each known event name. */
export const payloadSchemas = {
  'meeting:started': meetingStartedPayload,
  'meeting:ended': meetingEndedPayload,
  'peer:joined': peerJoinedPayload,
  'peer:left': peerLeftPayload,
  'peer:trackPublished': peerTrackPayload,
  'peer:trackUnpublished': peerTrackPayload,
  'recording:started': recordingPayload,
  'recording:ended': recordingPayload,
  'recording:updated': recordingPayload,
  'recording:stopped': recordingStoppedPayload,
  'reconcile:media': reconcileMediaPayload,
} as const;

/** Every webhook event name roomcast understands. */
export type EventName = keyof typeof payloadSchemas;

/** The known event names, in a stable order. */
export const EVENT_NAMES = Object.keys(payloadSchemas) as EventName[];

// The zod-free list (event-names.ts) must name exactly these events.
type SameNames<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const namesAgree: SameNames<(typeof EVENT_NAME_LIST)[number], EventName> = true;
void namesAgree;

/** Payload type of each event name, e.g. `EventPayloads['peer:joined']`. */
export type EventPayloads = { [K in EventName]: z.infer<(typeof payloadSchemas)[K]> };

export type MeetingStartedPayload = EventPayloads['meeting:started'];
export type MeetingEndedPayload = EventPayloads['meeting:ended'];
export type PeerJoinedPayload = EventPayloads['peer:joined'];
export type PeerLeftPayload = EventPayloads['peer:left'];
export type PeerTrackPayload = EventPayloads['peer:trackPublished'];
export type RecordingPayload = EventPayloads['recording:started'];
export type RecordingStoppedPayload = EventPayloads['recording:stopped'];
export type ReconcileMediaPayload = EventPayloads['reconcile:media'];

const envelope = <K extends EventName>(name: K) =>
  z.looseObject({ id: nonEmpty, event: z.literal(name), payload: payloadSchemas[name] });

/** A whole webhook body `{id, event, payload}`, discriminated on `event`. */
export const webhookSchema = z.discriminatedUnion('event', [
  envelope('meeting:started'),
  envelope('meeting:ended'),
  envelope('peer:joined'),
  envelope('peer:left'),
  envelope('peer:trackPublished'),
  envelope('peer:trackUnpublished'),
  envelope('recording:started'),
  envelope('recording:ended'),
  envelope('recording:updated'),
  envelope('recording:stopped'),
  envelope('reconcile:media'),
]);

/** A parsed, known webhook. `event` narrows `payload`. */
export type Webhook = z.infer<typeof webhookSchema>;

/** One `{event, payload}` pair with the payload type following the name. */
export type RoomEvent = { [K in EventName]: { event: K; payload: EventPayloads[K] } }[EventName];

/** True when `name` is one of the events roomcast understands. */
export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(payloadSchemas, name);
}

/**
 * True for the events Huddle01 sends as webhooks: every known event but roomcast's own
 * synthetic ones (`reconcile:media`), which a webhook may not claim to be.
 */
export function isWebhookEventName(name: unknown): name is Exclude<EventName, 'reconcile:media'> {
  return isEventName(name) && name !== 'reconcile:media';
}

/** Events that carry no roomId and are routed through the peer→room index. */
export function isTrackEvent(
  name: EventName,
): name is 'peer:trackPublished' | 'peer:trackUnpublished' {
  return name === 'peer:trackPublished' || name === 'peer:trackUnpublished';
}
