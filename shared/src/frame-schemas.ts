/**
 * Zod schemas of every wire frame (client → server and server → client) and of what they carry
 * (the room state, a room summary): the one source of the AsyncAPI document
 * (server/src/asyncapi.ts turns them into JSON Schema with `z.toJSONSchema`). The TypeScript
 * types stay in frames.ts and room-state.ts, zod-free for the browser client; the checks at the
 * end of this file fail to compile when a schema and its type drift apart.
 *
 * Schemas are open (`z.object` read as input: no `additionalProperties: false`): the contract
 * lets the server add fields, and a consumer validating with this document must accept them.
 */
import { z } from 'zod';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from './app-events.ts';
import type { AppEventName } from './app-events.ts';
import { ErrorCode } from './codes.ts';
import {
  EVENT_NAMES,
  isWebhookEventName,
  payloadSchemas,
  recordingFile,
  recordingStream,
} from './events.ts';
import type { EventName } from './events.ts';
import type * as Frames from './frames.ts';
import type * as State from './room-state.ts';

const described = <T extends z.ZodType>(schema: T, description: string): T =>
  schema.meta({ description });
const roomId = () => described(z.string(), 'room id');
const position = {
  epoch: described(
    z.string(),
    'the log incarnation; changes when history can no longer be trusted',
  ),
  seq: described(z.number().int().min(0), 'position in the room log'),
};
/** An app event's name, as `isAppEventName` checks it. */
const appEventName = z
  .string()
  .regex(/^app:[A-Za-z0-9_.:-]{1,64}$/) as unknown as z.ZodType<AppEventName>;

// ---- what frames carry ----

export const peerStateSchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  joinedAt: z.number(),
  role: z.string().optional(),
  metadata: described(
    z.unknown(),
    'metadata parsed as JSON when it is JSON, else the raw string',
  ).optional(),
  browser: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
  device: z
    .object({
      model: z.string().optional(),
      type: z.string().optional(),
      vendor: z.string().optional(),
    })
    .optional(),
  geoData: z.object({ region: z.string(), country: z.string() }).optional(),
  tracks: described(z.array(z.string()), 'published track labels, sorted, unique'),
  source: described(
    z.literal('reconcile'),
    "known from Huddle01's live API (a synthesised peer:joined), not its webhook",
  ).optional(),
});

const reconnectingPeer = peerStateSchema.extend({ leftAt: z.number() });

const meetingMedia = described(
  z.object({
    recordingCount: z.number().int().min(0),
    livestreamCount: z.number().int().min(0),
    observedAt: described(z.number(), 'when roomcast asked Huddle01 (ms)'),
  }),
  "Huddle01's live API's recording and livestream counts of the live session, as of observedAt (set by reconcile:media; absent until reconcile saw any, dropped when the session ends)",
);

export const roomStateSchema = described(
  z.object({
    roomId: z.string(),
    meeting: z.object({
      active: z.boolean(),
      sessionId: z.string().optional(),
      startedAt: z.number().optional(),
      endedAt: z.number().optional(),
      earliestAt: described(z.number(), 'earliest timestamp seen for this session').optional(),
      source: described(
        z.literal('reconcile'),
        'the last meeting:started / meeting:ended applied was synthesised',
      ).optional(),
      media: meetingMedia.optional(),
    }),
    peers: described(z.record(z.string(), peerStateSchema), 'present peers by id'),
    departed: described(z.record(z.string(), z.number()), 'tombstones: peer id → leftAt'),
    departedBy: described(
      z.record(z.string(), z.literal('reconcile')),
      'tombstones written by a synthesised peer:left (absent when none)',
    ).optional(),
    presenceGrace: described(
      z.number().int().min(1),
      'ms a departed peer shows in reconnecting (ROOMCAST_PRESENCE_GRACE); a peer:joined within it is a network blip, not an arrival (absent: off)',
    ).optional(),
    reconnecting: described(
      z.record(z.string(), reconnectingPeer),
      'peers that left less than presenceGrace before updatedAt: their last record and leftAt; not in peers, tombstoned in departed (absent when none)',
    ).optional(),
    recording: z.object({
      active: z.boolean(),
      id: z.string().optional(),
      files: z.array(recordingFile).optional(),
      streams: z.array(recordingStream).optional(),
      cid: z.string().optional(),
      ipfsUrl: z.string().optional(),
      endedIds: described(z.array(z.string()), 'ids of recordings known to be over').optional(),
    }),
    pastSessions: z.array(z.string()),
    updatedAt: described(z.number(), 'largest timestamp seen'),
  }),
  'The room state kept by reduceRoom (shared/src/room-state.ts).',
);

export const roomSummarySchema = z.object({
  roomId: roomId(),
  ...position,
  peers: z.number().int().min(0),
  meetingActive: z.boolean(),
  recordingActive: z.boolean(),
  updatedAt: described(z.number(), 'last activity (ms): the order, newest first'),
  subscribers: described(z.number().int().min(0), 'WS + SSE, all nodes').optional(),
});

// ---- client → server ----

export const subscribeFrameSchema = z.object({
  type: z.literal('subscribe'),
  room: roomId(),
  since: described(z.string(), '"<epoch>:<seq>" to resume after').optional(),
  occupancy: described(z.boolean(), 'also send occupancy frames for this room').optional(),
});

export const unsubscribeFrameSchema = z.object({
  type: z.literal('unsubscribe'),
  room: described(z.string(), 'room id; "*" leaves the rooms feed'),
});

export const authFrameSchema = z.object({
  type: z.literal('auth'),
  token: described(z.string(), 'subscriber token (JWT HS256)'),
});

export const roomsRequestFrameSchema = z.object({
  type: z.literal('rooms'),
  limit: described(
    z.number().int().min(1).max(500),
    'rooms in the first frame (default 50)',
  ).optional(),
  cursor: described(z.string(), 'a nextCursor of GET /rooms or of a first rooms frame').optional(),
});

// ---- server → client ----

export const snapshotFrameSchema = z.object({
  type: z.literal('snapshot'),
  room: roomId(),
  ...position,
  state: roomStateSchema,
  recovered: described(z.literal(false), 'a snapshot means the subscriber could not be resumed'),
});

const eventOf = <K extends EventName>(event: K) =>
  z.object({
    type: z.literal('event'),
    room: roomId(),
    ...position,
    id: described(z.string(), 'webhook id'),
    event: z.literal(event),
    payload: payloadSchemas[event],
  });

/** An event frame of each known event, `payload` following `event`. */
export const eventFrameSchema = z.union(EVENT_NAMES.map(eventOf) as unknown as EventFrameSchemas);
type EventFrameSchemas = { [K in EventName]: ReturnType<typeof eventOf<K>> }[EventName][];

export const appEventFrameSchema = z.object({
  type: z.literal('event'),
  room: roomId(),
  ...position,
  id: described(z.string(), 'idempotency id of the publish'),
  event: described(
    appEventName,
    "an app event, published by the room's app (never changes the state)",
  ),
  payload: described(z.unknown(), 'any JSON, at most 64 KiB'),
});

export const subscribedFrameSchema = z.object({
  type: z.literal('subscribed'),
  room: roomId(),
  ...position,
  recovered: described(z.boolean(), 'missed events were replayed'),
});

const errorCodes = Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]];
export const errorFrameSchema = z.object({
  type: z.literal('error'),
  code: described(z.enum(errorCodes), 'stable error code (docs/protocol.md)'),
  message: z.string(),
  room: described(z.string(), 'the room it concerns').optional(),
});

export const occupancyFrameSchema = z.object({
  type: z.literal('occupancy'),
  room: roomId(),
  subscribers: described(z.number().int().min(0), 'WS + SSE, all nodes'),
});

export const heartbeatFrameSchema = z.object({
  type: z.literal('heartbeat'),
  interval: described(
    z.number().int(),
    'ms between heartbeats (WebSocket: ROOMCAST_PING_INTERVAL, SSE: ROOMCAST_SSE_HEARTBEAT); silent for 2x this, the link is dead',
  ),
});

export const roomsFrameSchema = z.object({
  type: z.literal('rooms'),
  rooms: z.array(roomSummarySchema),
  nextCursor: described(
    z.union([z.string(), z.null()]),
    'first frame only: GET /rooms?cursor= for the rest of the list (null: none)',
  ).optional(),
  idleTtl: described(
    z.number().int(),
    'first frame only: ms after which an idle room leaves the list',
  ).optional(),
  more: described(
    z.literal(true),
    'a delta that could not hold every changed room: read GET /rooms again',
  ).optional(),
});

// ---- HTTP bodies the AsyncAPI document also describes ----

export const publishRequestSchema = z.object({
  event: appEventName,
  payload: described(z.unknown(), 'any JSON, at most 64 KiB').optional(),
  idempotencyKey: z.string().min(1).max(MAX_IDEMPOTENCY_KEY_LENGTH).optional(),
});

const WEBHOOK_EVENT_NAMES = EVENT_NAMES.filter(isWebhookEventName);
export const webhookBodySchema = z.object({
  id: z.string(),
  // roomcast's own synthetic events (reconcile:media) travel out, never in.
  event: z.enum(WEBHOOK_EVENT_NAMES as [EventName, ...EventName[]]),
  payload: z.union(WEBHOOK_EVENT_NAMES.map((event) => payloadSchemas[event])),
});

/** The name of an event's payload schema in the document: `peer:joined` → `peerJoinedPayload`. */
export function payloadSchemaName(event: EventName): string {
  return `${event.replace(/:(\w)/, (_match, letter: string) => letter.toUpperCase())}Payload`;
}

/**
 * Every schema of the document by its component name (what `$ref`s point at): the event
 * payloads, the state, and the frames.
 */
export const frameSchemaRegistry = z.registry<{ id: string }>();
const components: Record<string, z.ZodType> = {
  ...Object.fromEntries(
    EVENT_NAMES.map((event) => [payloadSchemaName(event), payloadSchemas[event]]),
  ),
  PeerState: peerStateSchema,
  RoomState: roomStateSchema,
  RoomSummary: roomSummarySchema,
  SubscribeFrame: subscribeFrameSchema,
  UnsubscribeFrame: unsubscribeFrameSchema,
  AuthFrame: authFrameSchema,
  RoomsRequestFrame: roomsRequestFrameSchema,
  SnapshotFrame: snapshotFrameSchema,
  EventFrame: eventFrameSchema,
  AppEventFrame: appEventFrameSchema,
  SubscribedFrame: subscribedFrameSchema,
  ErrorFrame: errorFrameSchema,
  OccupancyFrame: occupancyFrameSchema,
  HeartbeatFrame: heartbeatFrameSchema,
  RoomsFrame: roomsFrameSchema,
  PublishRequest: publishRequestSchema,
  Webhook: webhookBodySchema,
};
for (const [id, schema] of Object.entries(components)) frameSchemaRegistry.add(schema, { id });

/** The component names of the server → client frames (what a `ServerFrame` can be). */
export const SERVER_FRAME_SCHEMAS = [
  'SnapshotFrame',
  'EventFrame',
  'AppEventFrame',
  'SubscribedFrame',
  'ErrorFrame',
  'OccupancyFrame',
  'HeartbeatFrame',
  'RoomsFrame',
] as const;

/** The component names of the client → server frames (what a `ClientFrame` can be). */
export const CLIENT_FRAME_SCHEMAS = [
  'SubscribeFrame',
  'UnsubscribeFrame',
  'AuthFrame',
  'RoomsRequestFrame',
] as const;

/**
 * The JSON Schema (draft-07, as AsyncAPI 3 reads it) of every component, `$ref`s between them
 * written `#/components/schemas/<name>`.
 */
export function frameJsonSchemas(): Record<string, Record<string, unknown>> {
  const { schemas } = z.toJSONSchema(frameSchemaRegistry, {
    io: 'input',
    target: 'draft-7',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const out: Record<string, Record<string, unknown>> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
    out[id] = rest;
  }
  return out;
}

// ---- compile-time: the schemas and the zod-free types describe the same shapes ----

/** True when A and B are assignable both ways and have the same keys. */
type Same<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>] extends [never]
      ? true
      : false
    : false
  : false;
type Output<T extends z.ZodType> = z.output<T>;

const agree: {
  peer: Same<Output<typeof peerStateSchema>, State.PeerState>;
  state: Same<Output<typeof roomStateSchema>, State.RoomState>;
  meeting: Same<Output<typeof roomStateSchema>['meeting'], State.MeetingState>;
  recording: Same<Output<typeof roomStateSchema>['recording'], State.RecordingState>;
  summary: Same<Output<typeof roomSummarySchema>, Frames.RoomSummary>;
  subscribe: Same<Output<typeof subscribeFrameSchema>, Frames.SubscribeFrame>;
  unsubscribe: Same<Output<typeof unsubscribeFrameSchema>, Frames.UnsubscribeFrame>;
  auth: Same<Output<typeof authFrameSchema>, Frames.AuthFrame>;
  roomsRequest: Same<Output<typeof roomsRequestFrameSchema>, Frames.RoomsRequestFrame>;
  snapshot: Same<Output<typeof snapshotFrameSchema>, Frames.SnapshotFrame>;
  event: Same<Output<typeof eventFrameSchema>, Frames.EventFrame>;
  appEvent: Same<Output<typeof appEventFrameSchema>, Frames.AppEventFrame>;
  subscribed: Same<Output<typeof subscribedFrameSchema>, Frames.SubscribedFrame>;
  error: Same<Output<typeof errorFrameSchema>, Frames.ErrorFrame>;
  occupancy: Same<Output<typeof occupancyFrameSchema>, Frames.OccupancyFrame>;
  heartbeat: Same<Output<typeof heartbeatFrameSchema>, Frames.HeartbeatFrame>;
  rooms: Same<Output<typeof roomsFrameSchema>, Frames.RoomsFrame>;
} = {
  peer: true,
  state: true,
  meeting: true,
  recording: true,
  summary: true,
  subscribe: true,
  unsubscribe: true,
  auth: true,
  roomsRequest: true,
  snapshot: true,
  event: true,
  appEvent: true,
  subscribed: true,
  error: true,
  occupancy: true,
  heartbeat: true,
  rooms: true,
};
void agree;
