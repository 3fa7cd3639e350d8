/**
 * The AsyncAPI 3 document of roomcast's channels: served at /asyncapi.json and written to
 * docs/asyncapi.json (`roomcast asyncapi`), so other teams can generate clients or docs. Its
 * schemas are the zod schemas of @roomcast/shared (frame-schemas.ts) as JSON Schema, the same
 * source the frame types are checked against; this file adds only channels and messages.
 */
import { readFileSync } from 'node:fs';
import { SERVER_FRAME_SCHEMAS, frameJsonSchemas } from '@roomcast/shared';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
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
  event: {
    name: 'EventFrame',
    summary: 'One event of the room log, in seq order (a Huddle01 event, or an app event).',
    payload: { anyOf: [ref('EventFrame'), ref('AppEventFrame')] },
  },
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
      items: { anyOf: SERVER_FRAME_SCHEMAS.map(ref) },
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
      schemas: frameJsonSchemas(),
      messages,
    },
  };
}
