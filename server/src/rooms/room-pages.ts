/**
 * One page of the room list as clients see it (`GET /rooms`, the rooms feed's first frame):
 * the engine's page with each room's subscriber total and the opaque `nextCursor`, and the
 * parsing of `limit` / `cursor` with the refusal both share.
 */
import { ErrorCode } from '@roomcast/shared';
import type { Engine, RoomListQuery, RoomSummary } from '../engine/engine.ts';
import { decodeRoomCursor, encodeRoomCursor } from '../engine/room-order.ts';
import type { Occupancy } from '../hub/occupancy.ts';

/** Rooms per page when `limit` is not given. */
export const DEFAULT_ROOMS_PAGE = 50;
/** The largest `limit` (a page costs one read per room). */
export const MAX_ROOMS_PAGE = 500;

/** What a client sees of one page. */
export interface RoomsPage {
  rooms: RoomSummary[];
  /** `?cursor=` of the next page; null at the end. */
  nextCursor: string | null;
}

/** A refused `limit` or `cursor`. */
export interface PageRefusal {
  code: typeof ErrorCode.INVALID_PAGE;
  message: string;
}

/** Parses `limit` and `cursor` (query strings, or a frame's number and string). */
export function parseRoomPage(limit: unknown, cursor: unknown): RoomListQuery | PageRefusal {
  let size = DEFAULT_ROOMS_PAGE;
  if (limit !== undefined) {
    const text = typeof limit === 'number' ? String(limit) : limit;
    if (typeof text !== 'string' || !/^[0-9]{1,4}$/.test(text) || Number(text) < 1) {
      return refusal(`limit must be a whole number from 1 to ${MAX_ROOMS_PAGE}`);
    }
    size = Number(text);
    if (size > MAX_ROOMS_PAGE) return refusal(`limit must be at most ${MAX_ROOMS_PAGE}`);
  }
  if (cursor === undefined || cursor === null || cursor === '') return { limit: size };
  const decoded = typeof cursor === 'string' ? decodeRoomCursor(cursor) : undefined;
  if (!decoded) return refusal('cursor is not one this server handed out (use nextCursor)');
  return { limit: size, cursor: decoded };
}

function refusal(message: string): PageRefusal {
  return { code: ErrorCode.INVALID_PAGE, message };
}

/** The rooms of `summaries` with their subscriber totals (all nodes), in one read. */
export async function withSubscribers(
  occupancy: Occupancy,
  summaries: RoomSummary[],
): Promise<RoomSummary[]> {
  const totals = await occupancy.totals(summaries.map((room) => room.roomId));
  return summaries.map((room) => ({ ...room, subscribers: totals.get(room.roomId) ?? 0 }));
}

/** Reads one page: O(page) in both engines. */
export async function readRoomsPage(
  engine: Engine,
  occupancy: Occupancy,
  query: RoomListQuery,
): Promise<RoomsPage> {
  const page = await engine.listRooms(query);
  return {
    rooms: await withSubscribers(occupancy, page.rooms),
    nextCursor: page.nextCursor && encodeRoomCursor(page.nextCursor),
  };
}
