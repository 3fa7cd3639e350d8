/**
 * The AsyncAPI 3 document of roomcast's channels, generated from the zod event schemas and the
 * frame shapes of the public contract: served at /asyncapi.json and written to
 * docs/asyncapi.json (`roomcast asyncapi`), so other teams can generate clients or docs.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { EVENT_NAMES, isWebhookEventName, payloadSchemas } from '@roomcast/shared';

type JsonSchema = Record<string, unknown>;

/** An app event's name, as `isAppEventName` checks it. */
const APP_EVENT_PATTERN = '^app:[A-Za-z0-9_.:-]{1,64}$';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = (description: string): JsonSchema => ({ type: 'string', description });
const position = {
  epoch: str('the log incarnation; changes when history can no longer be trusted'),
  seq: { type: 'integer', minimum: 0, description: 'position in the room log' },
};

const WEBHOOK_EVENT_NAMES = EVENT_NAMES.filter(isWebhookEventName);

function schemaName(event: string): string {
  return `${event.replace(/:(\w)/, (_match, letter: string) => letter.toUpperCase())}Payload`;
}

function payloadComponents(): Record<string, JsonSchema> {
  const schemas: Record<string, JsonSchema> = {};
  for (const event of EVENT_NAMES) {
    const { $schema: _drop, ...schema } = z.toJSONSchema(payloadSchemas[event], {
      io: 'output',
    }) as JsonSchema;
    schemas[schemaName(event)] = schema;
  }
  return schemas;
}

const peerState: JsonSchema = {
  type: 'object',
  required: ['id', 'sessionId', 'joinedAt', 'tracks'],
  properties: {
    id: { type: 'string' },
    sessionId: { type: 'string' },
    joinedAt: { type: 'number' },
    role: { type: 'string' },
    metadata: { description: 'metadata parsed as JSON when it is JSON, else the raw string' },
    browser: { type: 'object' },
    device: { type: 'object' },
    geoData: { type: 'object' },
    tracks: { type: 'array', items: { type: 'string' } },
    source: {
      const: 'reconcile',
      description: "known from Huddle01's live API (a synthesised peer:joined), not its webhook",
    },
  },
};

const roomState: JsonSchema = {
  type: 'object',
  description: 'The room state kept by reduceRoom (shared/src/room-state.ts).',
  required: ['roomId', 'meeting', 'peers', 'departed', 'recording', 'pastSessions', 'updatedAt'],
  properties: {
    roomId: { type: 'string' },
    meeting: {
      type: 'object',
      properties: {
        active: { type: 'boolean' },
        sessionId: { type: 'string' },
        startedAt: { type: 'number' },
        endedAt: { type: 'number' },
        source: {
          const: 'reconcile',
          description: 'the last meeting:started / meeting:ended applied was synthesised',
        },
        media: {
          type: 'object',
          description:
            "Huddle01's live API's recording and livestream counts of the live session, as of observedAt (set by reconcile:media; absent until reconcile saw any, dropped when the session ends)",
          required: ['recordingCount', 'livestreamCount', 'observedAt'],
          properties: {
            recordingCount: { type: 'integer', minimum: 0 },
            livestreamCount: { type: 'integer', minimum: 0 },
            observedAt: { type: 'number' },
          },
        },
      },
    },
    peers: {
      type: 'object',
      additionalProperties: ref('PeerState'),
      description: 'present peers by id',
    },
    departed: {
      type: 'object',
      additionalProperties: { type: 'number' },
      description: 'tombstones: peer id → leftAt',
    },
    departedBy: {
      type: 'object',
      additionalProperties: { const: 'reconcile' },
      description: 'tombstones written by a synthesised peer:left (absent when none)',
    },
    presenceGrace: {
      type: 'integer',
      minimum: 1,
      description:
        'ms a departed peer shows in reconnecting (ROOMCAST_PRESENCE_GRACE); a peer:joined within it is a network blip, not an arrival (absent: off)',
    },
    reconnecting: {
      type: 'object',
      additionalProperties: {
        allOf: [
          ref('PeerState'),
          { type: 'object', required: ['leftAt'], properties: { leftAt: { type: 'number' } } },
        ],
      },
      description:
        'peers that left less than presenceGrace before updatedAt: their last record and leftAt; not in peers, tombstoned in departed (absent when none)',
    },
    recording: {
      type: 'object',
      properties: { active: { type: 'boolean' }, id: { type: 'string' } },
    },
    pastSessions: { type: 'array', items: { type: 'string' } },
    updatedAt: { type: 'number' },
  },
};

function frame(type: string, properties: JsonSchema, required: string[]): JsonSchema {
  return {
    type: 'object',
    required: ['type', ...required],
    properties: { type: { const: type }, ...properties },
  };
}

const frames: Record<string, JsonSchema> = {
  SubscribeFrame: frame(
    'subscribe',
    {
      room: str('room id'),
      since: str('"<epoch>:<seq>" to resume after'),
      occupancy: { type: 'boolean', description: 'also send occupancy frames for this room' },
    },
    ['room'],
  ),
  UnsubscribeFrame: frame('unsubscribe', { room: str('room id; "*" leaves the rooms feed') }, [
    'room',
  ]),
  RoomsRequestFrame: frame(
    'rooms',
    {
      limit: {
        type: 'integer',
        minimum: 1,
        maximum: 500,
        description: 'rooms in the first frame (default 50)',
      },
      cursor: str('a nextCursor of GET /rooms or of a first rooms frame'),
    },
    [],
  ),
  RoomSummary: {
    type: 'object',
    required: ['roomId', 'epoch', 'seq', 'peers', 'meetingActive', 'recordingActive', 'updatedAt'],
    properties: {
      roomId: str('room id'),
      ...position,
      peers: { type: 'integer', minimum: 0 },
      meetingActive: { type: 'boolean' },
      recordingActive: { type: 'boolean' },
      updatedAt: { type: 'number', description: 'last activity (ms): the order, newest first' },
      subscribers: { type: 'integer', minimum: 0, description: 'WS + SSE, all nodes' },
    },
  },
  RoomsFrame: frame(
    'rooms',
    {
      rooms: { type: 'array', items: ref('RoomSummary') },
      nextCursor: {
        type: ['string', 'null'],
        description: 'first frame only: GET /rooms?cursor= for the rest of the list (null: none)',
      },
      idleTtl: {
        type: 'integer',
        description: 'first frame only: ms after which an idle room leaves the list',
      },
      more: {
        const: true,
        description: 'a delta that could not hold every changed room: read GET /rooms again',
      },
    },
    ['rooms'],
  ),
  AuthFrame: frame('auth', { token: str('subscriber token (JWT HS256)') }, ['token']),
  SnapshotFrame: frame(
    'snapshot',
    { room: str('room id'), ...position, state: ref('RoomState'), recovered: { const: false } },
    ['room', 'epoch', 'seq', 'state', 'recovered'],
  ),
  EventFrame: {
    oneOf: EVENT_NAMES.map((event) =>
      frame(
        'event',
        {
          room: str('room id'),
          ...position,
          id: str('webhook id'),
          event: { const: event },
          payload: ref(schemaName(event)),
        },
        ['room', 'epoch', 'seq', 'id', 'event', 'payload'],
      ),
    ).concat(
      frame(
        'event',
        {
          room: str('room id'),
          ...position,
          id: str('idempotency id of the publish'),
          event: {
            type: 'string',
            pattern: APP_EVENT_PATTERN,
            description: "an app event, published by the room's app (never changes the state)",
          },
          payload: { description: 'any JSON, at most 64 KiB' },
        },
        ['room', 'epoch', 'seq', 'id', 'event', 'payload'],
      ),
    ),
  },
  SubscribedFrame: frame(
    'subscribed',
    {
      room: str('room id'),
      ...position,
      recovered: { type: 'boolean', description: 'missed events were replayed' },
    },
    ['room', 'epoch', 'seq', 'recovered'],
  ),
  OccupancyFrame: frame(
    'occupancy',
    {
      room: str('room id'),
      subscribers: { type: 'integer', minimum: 0, description: 'WS + SSE, all nodes' },
    },
    ['room', 'subscribers'],
  ),
  ErrorFrame: frame(
    'error',
    {
      code: str('stable error code (docs/protocol.md)'),
      message: { type: 'string' },
      room: str('the room it concerns'),
    },
    ['code', 'message'],
  ),
  PublishRequest: {
    type: 'object',
    required: ['event'],
    properties: {
      event: { type: 'string', pattern: APP_EVENT_PATTERN },
      payload: { description: 'any JSON, at most 64 KiB' },
      idempotencyKey: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  HeartbeatFrame: frame(
    'heartbeat',
    {
      interval: {
        type: 'integer',
        description:
          'ms between heartbeats (WebSocket: ROOMCAST_PING_INTERVAL, SSE: ROOMCAST_SSE_HEARTBEAT); silent for 2x this, the link is dead',
      },
    },
    ['interval'],
  ),
  Webhook: {
    type: 'object',
    required: ['id', 'event', 'payload'],
    properties: {
      id: { type: 'string' },
      // roomcast's own synthetic events (reconcile:media) travel out, never in.
      event: { enum: WEBHOOK_EVENT_NAMES },
      payload: { oneOf: WEBHOOK_EVENT_NAMES.map((event) => ref(schemaName(event))) },
    },
  },
};

const message = (schema: string, summary: string) => ({
  name: schema,
  summary,
  payload: ref(schema),
});
const messages = {
  subscribe: message('SubscribeFrame', 'Start receiving a room, or resume after a position.'),
  unsubscribe: message('UnsubscribeFrame', 'Stop receiving a room.'),
  auth: message('AuthFrame', 'Present or refresh the subscriber token.'),
  roomsRequest: message(
    'RoomsRequestFrame',
    'Join the rooms feed (a "*" token only, else FORBIDDEN; bad limit or cursor: INVALID_PAGE).',
  ),
  rooms: message(
    'RoomsFrame',
    'Rooms feed: the first page of the room list, then (at most one a second) the rooms that changed.',
  ),
  snapshot: message('SnapshotFrame', 'The room state, when there is no valid resume point.'),
  event: message('EventFrame', 'One event of the room log, in seq order.'),
  subscribed: message('SubscribedFrame', 'The subscription is live.'),
  error: message('ErrorFrame', 'A refused frame or a room-level problem.'),
  occupancy: message(
    'OccupancyFrame',
    'How many watch the room (on change, at most one a second; to subscribers that asked).',
  ),
  heartbeat: message(
    'HeartbeatFrame',
    'The link is alive: the first frame of a connection (WebSocket: once the token is accepted), then at least once per interval.',
  ),
  batch: {
    name: 'Batch',
    summary: 'Frames of one server tick in one message, in order (only with GET /ws?batch=1).',
    payload: {
      type: 'array',
      items: {
        oneOf: [
          'SnapshotFrame',
          'EventFrame',
          'SubscribedFrame',
          'ErrorFrame',
          'HeartbeatFrame',
          'RoomsFrame',
        ].map(ref),
      },
    },
  },
  webhook: message('Webhook', 'A Huddle01 webhook (signed: huddle01-signature header).'),
  publish: message(
    'PublishRequest',
    'An app event from your backend (Authorization: Bearer <ROOMCAST_PUBLISH_KEY>).',
  ),
};

const messageRef = (name: keyof typeof messages) => ({ $ref: `#/components/messages/${name}` });
const serverMessages = {
  snapshot: messageRef('snapshot'),
  event: messageRef('event'),
  subscribed: messageRef('subscribed'),
  error: messageRef('error'),
  occupancy: messageRef('occupancy'),
  heartbeat: messageRef('heartbeat'),
};

function operation(action: 'send' | 'receive', channel: string, names: string[], summary: string) {
  return {
    action,
    summary,
    channel: { $ref: `#/channels/${channel}` },
    messages: names.map((name) => ({ $ref: `#/channels/${channel}/messages/${name}` })),
  };
}

/** The package version, read once. */
function version(): string {
  const url = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/** Builds the AsyncAPI 3.0 document. */
export function asyncApiDocument(): Record<string, unknown> {
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'roomcast',
      version: version(),
      description:
        'Huddle01 webhooks in, live typed room channels out (WebSocket and SSE). See docs/protocol.md.',
    },
    defaultContentType: 'application/json',
    channels: {
      websocket: {
        address: '/ws',
        title: 'WebSocket: every room of a client on one connection',
        messages: {
          subscribe: messageRef('subscribe'),
          unsubscribe: messageRef('unsubscribe'),
          auth: messageRef('auth'),
          roomsRequest: messageRef('roomsRequest'),
          ...serverMessages,
          rooms: messageRef('rooms'),
          batch: messageRef('batch'),
        },
      },
      roomEvents: {
        address: '/rooms/{roomId}/events',
        title: 'SSE: one room (id: <epoch>:<seq>; event: the event name)',
        parameters: { roomId: { description: 'the Huddle01 room id' } },
        messages: serverMessages,
      },
      multiRoomEvents: {
        address: '/events',
        title: 'SSE: several rooms (?room=a&room=b)',
        messages: serverMessages,
      },
      webhook: {
        address: '/webhooks/huddle01',
        title: 'Huddle01 webhooks (HTTP POST, raw body)',
        messages: { webhook: messageRef('webhook') },
      },
      publish: {
        address: '/rooms/{roomId}/publish',
        title: 'App events (HTTP POST, JSON), delivered as event frames named app:<name>',
        parameters: { roomId: { description: 'the room id' } },
        messages: { publish: messageRef('publish') },
      },
    },
    operations: {
      subscribeRoom: operation(
        'send',
        'websocket',
        ['subscribe', 'unsubscribe', 'auth', 'roomsRequest'],
        'Client frames.',
      ),
      receiveRoomFrames: operation(
        'receive',
        'websocket',
        ['snapshot', 'event', 'subscribed', 'error', 'occupancy', 'heartbeat', 'rooms', 'batch'],
        'Server frames (batches only for clients that connect with ?batch=1; rooms only to the rooms feed).',
      ),
      receiveRoomStream: operation(
        'receive',
        'roomEvents',
        ['snapshot', 'event', 'subscribed', 'error', 'occupancy', 'heartbeat'],
        'One room over SSE.',
      ),
      receiveMultiRoomStream: operation(
        'receive',
        'multiRoomEvents',
        ['snapshot', 'event', 'subscribed', 'error', 'occupancy', 'heartbeat'],
        'Several rooms over SSE.',
      ),
      receiveWebhook: operation(
        'receive',
        'webhook',
        ['webhook'],
        'What roomcast accepts from Huddle01.',
      ),
      receivePublish: operation(
        'receive',
        'publish',
        ['publish'],
        "What roomcast accepts from your app's backend.",
      ),
    },
    components: {
      schemas: { ...payloadComponents(), PeerState: peerState, RoomState: roomState, ...frames },
      messages,
    },
  };
}
