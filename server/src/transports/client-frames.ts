/**
 * Parsing of client → server WebSocket frames, with the error code for each refusal.
 */
import { ErrorCode, isValidRoomId, parsePosition } from '@roomcast/shared';
import type { ClientFrame, Position } from '@roomcast/shared';
import type { RoomListQuery } from '../engine/engine.ts';
import { parseRoomPage } from '../rooms/room-pages.ts';

/** A parsed client frame, `since` already parsed. */
export type ParsedClientFrame =
  | { type: 'subscribe'; room: string; since?: Position; occupancy?: boolean }
  | { type: 'unsubscribe'; room: string }
  | { type: 'auth'; token: string }
  | { type: 'rooms'; query: RoomListQuery };

/** A refused frame: error code and message (and the room when it concerns one). */
export interface FrameRefusal {
  error: { code: ErrorCode; message: string; room?: string };
}

/** Parses one text frame. */
export function parseClientFrame(text: string): ParsedClientFrame | FrameRefusal {
  let frame: Partial<ClientFrame> & Record<string, unknown>;
  try {
    frame = JSON.parse(text);
  } catch {
    return { error: { code: ErrorCode.INVALID_FRAME, message: 'frame is not JSON' } };
  }
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
    return { error: { code: ErrorCode.INVALID_FRAME, message: 'frame must be a JSON object' } };
  }
  switch (frame.type) {
    case 'subscribe':
    case 'unsubscribe': {
      if (!isValidRoomId(frame.room)) {
        return {
          error: {
            code: ErrorCode.INVALID_ROOM,
            message: 'room must be 1–200 characters without spaces',
          },
        };
      }
      if (frame.type === 'unsubscribe') return { type: 'unsubscribe', room: frame.room };
      // Occupancy frames only for a subscriber that asks with `occupancy: true`.
      const occupancy = frame.occupancy === true ? { occupancy: true } : {};
      if (frame.since === undefined || frame.since === null)
        return { type: 'subscribe', room: frame.room, ...occupancy };
      const since = typeof frame.since === 'string' ? parsePosition(frame.since) : undefined;
      if (!since) {
        return {
          error: {
            code: ErrorCode.INVALID_ROOM,
            message: 'since must be "<epoch>:<seq>"',
            room: frame.room,
          },
        };
      }
      return { type: 'subscribe', room: frame.room, since, ...occupancy };
    }
    case 'auth':
      if (typeof frame.token !== 'string' || frame.token.length === 0) {
        return { error: { code: ErrorCode.INVALID_FRAME, message: 'auth needs a token' } };
      }
      return { type: 'auth', token: frame.token };
    case 'rooms': {
      // The feed's first page takes `limit` and `cursor` exactly as GET /rooms does.
      const query = parseRoomPage(frame.limit, frame.cursor);
      if ('code' in query) return { error: { ...query, room: '*' } };
      return { type: 'rooms', query };
    }
    default:
      return {
        error: {
          code: ErrorCode.INVALID_FRAME,
          message: `unknown frame type ${JSON.stringify(frame.type) ?? ''}`,
        },
      };
  }
}
