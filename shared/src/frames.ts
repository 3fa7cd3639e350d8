/**
 * Wire frames of the public contract (WebSocket text frames and SSE `data:` lines).
 * Type names are fixed by DESIGN.md; fields may be added, never renamed.
 *
 * Zod-free (the browser client imports it). Their zod schemas, which make the AsyncAPI
 * document, are in frame-schemas.ts, checked against these types at compile time.
 */
import type { AppEventName } from './app-events.ts';
import type { ErrorCode } from './codes.ts';
import type { EventName, EventPayloads } from './events.ts';
import type { RoomState } from './room-state.ts';

/** A position in a room's log: the log incarnation (`epoch`) and the sequence number in it. */
export interface Position {
  epoch: string;
  seq: number;
}

/** client → server: start receiving a room; `since` = `"<epoch>:<seq>"` resumes after it. */
export interface SubscribeFrame {
  type: 'subscribe';
  room: string;
  since?: string;
  /** Also send `occupancy` frames for this room. */
  occupancy?: boolean;
}

/** client → server: stop receiving a room. */
export interface UnsubscribeFrame {
  type: 'unsubscribe';
  room: string;
}

/** client → server: present (or refresh) the subscriber token. */
export interface AuthFrame {
  type: 'auth';
  token: string;
}

/**
 * client → server: join the rooms feed (a `*` token only, else FORBIDDEN): a `rooms` frame with
 * the first page of `GET /rooms` (`limit`, `cursor` as there), then deltas. Sending it again
 * restarts the feed; `{type:"unsubscribe", room:"*"}` leaves it.
 */
export interface RoomsRequestFrame {
  type: 'rooms';
  /** Rooms in the first frame: 1–500, default 50. */
  limit?: number;
  /** A `nextCursor` of `GET /rooms` or of a first `rooms` frame. */
  cursor?: string;
}

export type ClientFrame = SubscribeFrame | UnsubscribeFrame | AuthFrame | RoomsRequestFrame;

/** server → client: the room's whole state at `seq`; sent when there is no valid resume point. */
export interface SnapshotFrame extends Position {
  type: 'snapshot';
  room: string;
  state: RoomState;
  /** Always false: a snapshot means the subscriber could not be resumed. */
  recovered: false;
}

/** server → client: one event of a room's log. */
export type EventFrame = {
  [K in EventName]: Position & {
    type: 'event';
    room: string;
    /** The webhook id (unique per event; synthetic events get their own). */
    id: string;
    event: K;
    payload: EventPayloads[K];
  };
}[EventName];

/** server → client: an app event (`POST /rooms/:roomId/publish`); it never changes the state. */
export interface AppEventFrame extends Position {
  type: 'event';
  room: string;
  /** The publish's idempotency id (or one the server made). */
  id: string;
  event: AppEventName;
  /** Any JSON, at most 64 KiB. */
  payload: unknown;
}

/** server → client: the subscription is live; `seq` is the position the subscriber now holds. */
export interface SubscribedFrame extends Position {
  type: 'subscribed';
  room: string;
  /** True when the missed events were replayed from history (no snapshot was needed). */
  recovered: boolean;
}

/** server → client: something went wrong; `room` is set when it concerns one room only. */
export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  message: string;
  room?: string;
}

/**
 * server → client: the link is alive. The first frame of every connection (WebSocket: once the
 * token is accepted; SSE: right after `retry:`) carries `interval`, the longest the server stays
 * silent, in ms; one follows at least every `interval` (browsers cannot see WebSocket pings, and
 * EventSource hides SSE comments). A client that hears nothing for 2 × `interval` drops the link.
 */
export interface HeartbeatFrame {
  type: 'heartbeat';
  /** ms between heartbeats (`ROOMCAST_PING_INTERVAL` on WebSocket, `ROOMCAST_SSE_HEARTBEAT` on SSE). */
  interval: number;
}

/**
 * server → client: how many subscribers (WebSocket + SSE, all nodes) watch the room; to
 * subscriptions that asked (`occupancy: true`), on change, at most one a second.
 */
export interface OccupancyFrame {
  type: 'occupancy';
  room: string;
  subscribers: number;
}

/** One line of `GET /rooms` (and of the rooms feed's `rooms` frames). */
export interface RoomSummary {
  roomId: string;
  epoch: string;
  seq: number;
  peers: number;
  meetingActive: boolean;
  recordingActive: boolean;
  /** The room's last activity (ms): the list's order, newest first. */
  updatedAt: number;
  /** Subscribers watching it, all nodes (set by `GET /rooms`, hub/occupancy.ts). */
  subscribers?: number;
}

/**
 * server → client, rooms feed: the first one answers `{type:"rooms"}` with a page of the list
 * (`nextCursor` and `idleTtl` present); each later one, at most one a second, holds only rooms
 * whose summary changed. Keep a line unless the new one's `updatedAt` is older; drop lines idle
 * for `idleTtl`.
 */
export interface RoomsFrame {
  type: 'rooms';
  rooms: RoomSummary[];
  /** First frame only: `?cursor=` of `GET /rooms` for the rest of the list; null at its end. */
  nextCursor?: string | null;
  /** First frame only: the server forgets a room idle this long (ms); so may the client. */
  idleTtl?: number;
  /** A delta that could not hold every changed room: read the list again (`GET /rooms`). */
  more?: true;
}

/** Every server → client frame, discriminated on `type` (and, for events, on `event`). */
export type ServerFrame =
  | SnapshotFrame
  | EventFrame
  | AppEventFrame
  | SubscribedFrame
  | ErrorFrame
  | OccupancyFrame
  | HeartbeatFrame
  | RoomsFrame;

/** The body of `GET /rooms/:roomId/history?limit=N`: the room's retained events, newest last. */
export interface HistoryPage {
  roomId: string;
  /** The log's epoch; every event in `events` belongs to it. */
  epoch: string;
  events: EventFrame[];
}

/** Formats a position as the `<epoch>:<seq>` string used by `since` and SSE ids. */
export function formatPosition(position: Position): string {
  return `${position.epoch}:${position.seq}`;
}

/** Parses `<epoch>:<seq>`; undefined when malformed. */
export function parsePosition(text: string): Position | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const epoch = text.slice(0, colon);
  const digits = text.slice(colon + 1);
  if (!/^[0-9]{1,15}$/.test(digits) || !/^[A-Za-z0-9_-]{1,64}$/.test(epoch)) return undefined;
  return { epoch, seq: Number(digits) };
}

/** Room ids: 1–200 characters, no whitespace or control characters (Huddle01's look like `mjc-vksd-ktu`). */
export function isValidRoomId(room: unknown): room is string {
  return (
    typeof room === 'string' &&
    room.length > 0 &&
    room.length <= 200 &&
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    !/[\s\u0000-\u001f\u007f]/.test(room)
  );
}
