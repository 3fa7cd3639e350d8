/**
 * The server's frames: every server → client frame is built here, once, as JSON text. Each
 * builder writes exactly the shape of its type in @roomcast/shared (frames.ts), whose zod
 * schemas (frame-schemas.ts) make the AsyncAPI document: one source for types, wire and docs.
 *
 * An `OutgoingFrame` holds only what every transport reads (the JSON, the room, the position,
 * the SSE name); how a transport encodes it (WebSocket wire bytes, an SSE chunk) is that
 * transport's own business, cached by the transport (ws-wire.ts, sse-wire.ts).
 */
import type {
  ErrorCode,
  ErrorFrame,
  EventFrame,
  HeartbeatFrame,
  OccupancyFrame,
  Position,
  RoomsFrame,
  SnapshotFrame,
  SubscribedFrame,
} from '@roomcast/shared';
import type { LogEntry, RoomSnapshot } from '../engine/engine.ts';

/** Kinds of server frames, as named in the public contract. */
export type FrameKind =
  'snapshot' | 'event' | 'subscribed' | 'error' | 'occupancy' | 'heartbeat' | 'rooms';

/** One frame on its way out, serialized once; the transport adds its own envelope. */
export interface OutgoingFrame {
  /** The room it concerns (`''` for connection-level frames, `'*'` for the rooms feed). */
  readonly room: string;
  readonly kind: FrameKind;
  /** The frame as JSON text (shared by every subscriber of the room for events). */
  readonly json: string;
  /** The position the subscriber holds after this frame (absent for errors). */
  readonly position?: Position;
  /** SSE `event:` name: the webhook event name, or the frame kind. */
  readonly name: string;
}

/** Serializes a log entry as an `event` frame. */
export function eventFrame(entry: LogEntry): OutgoingFrame {
  const json = JSON.stringify({
    type: 'event',
    room: entry.roomId,
    epoch: entry.epoch,
    seq: entry.seq,
    id: entry.id,
    event: entry.event,
    payload: entry.payload,
  } as EventFrame);
  return { room: entry.roomId, kind: 'event', json, position: entry, name: entry.event };
}

/** Serializes a snapshot as a `snapshot` frame. */
export function snapshotFrame(snapshot: RoomSnapshot): OutgoingFrame {
  const { roomId, epoch, seq, state } = snapshot;
  const json = JSON.stringify({
    type: 'snapshot',
    room: roomId,
    epoch,
    seq,
    state,
    recovered: false,
  } satisfies SnapshotFrame);
  return { room: roomId, kind: 'snapshot', json, position: { epoch, seq }, name: 'snapshot' };
}

/** Serializes a `subscribed` frame: the subscription is live at `position`. */
export function subscribedFrame(
  room: string,
  position: Position,
  recovered: boolean,
): OutgoingFrame {
  const json = JSON.stringify({
    type: 'subscribed',
    room,
    epoch: position.epoch,
    seq: position.seq,
    recovered,
  } satisfies SubscribedFrame);
  return { room, kind: 'subscribed', json, position, name: 'subscribed' };
}

/** Serializes an `error` frame; `room` when it concerns one room only. */
export function errorFrame(code: ErrorCode, message: string, room?: string): OutgoingFrame {
  const frame: ErrorFrame =
    room === undefined ? { type: 'error', code, message } : { type: 'error', code, message, room };
  return { room: room ?? '', kind: 'error', json: JSON.stringify(frame), name: 'error' };
}

/**
 * A `heartbeat` frame telling the interval (ms); one object per transport and interval, shared
 * by every connection (so each transport encodes it once).
 */
export function heartbeatFrame(interval: number): OutgoingFrame {
  const json = JSON.stringify({ type: 'heartbeat', interval } satisfies HeartbeatFrame);
  return { room: '', kind: 'heartbeat', json, name: 'heartbeat' };
}

/** Serializes an `occupancy` frame. */
export function occupancyFrame(room: string, subscribers: number): OutgoingFrame {
  const json = JSON.stringify({ type: 'occupancy', room, subscribers } satisfies OccupancyFrame);
  return { room, kind: 'occupancy', json, name: 'occupancy' };
}

/** Serializes a `rooms` frame of the rooms feed (a first page, or a delta). */
export function roomsFrame(body: Omit<RoomsFrame, 'type'>): OutgoingFrame {
  const json = JSON.stringify({ type: 'rooms', ...body } satisfies RoomsFrame);
  return { room: '*', kind: 'rooms', json, name: 'rooms' };
}
