/**
 * SSE `id:` values. A single-room stream uses `<epoch>:<seq>`; a multi-room stream encodes every
 * room's position as URL query text (`a=<epoch>:<seq>&b=...`), so one Last-Event-ID resumes
 * all of its rooms.
 */
import { formatPosition, parsePosition } from '@roomcast/shared';
import type { Position } from '@roomcast/shared';

/** Formats the positions of a multi-room stream. */
export function formatMultiRoomId(positions: ReadonlyMap<string, Position>): string {
  const params = new URLSearchParams();
  for (const [room, position] of positions) params.append(room, formatPosition(position));
  return params.toString();
}

/** Parses a multi-room Last-Event-ID; malformed entries are ignored (those rooms get a snapshot). */
export function parseMultiRoomId(text: string): Map<string, Position> {
  const positions = new Map<string, Position>();
  for (const [room, value] of new URLSearchParams(text)) {
    const position = parsePosition(value);
    if (position) positions.set(room, position);
  }
  return positions;
}
