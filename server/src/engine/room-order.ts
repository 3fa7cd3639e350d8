/**
 * The order of the room list, shared by the engines and the routes: newest activity first, then
 * room id descending (byte order, as Redis orders equal scores), and the opaque text form of a
 * `RoomCursor` that `GET /rooms` hands out (`?cursor=`).
 */
import type { RoomCursor } from './engine.ts';

/** Surrogates and U+E000…U+FFFF: where UTF-16 order and UTF-8 byte order part ways. */
const OUT_OF_ORDER = /[\uD800-\uFFFF]/;

/** Byte order of two ids (UTF-8), the order Redis gives members of equal score. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 code units order like UTF-8 bytes below U+D800: no buffers for the usual ids.
  if (!OUT_OF_ORDER.test(a) && !OUT_OF_ORDER.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Negative when `a` comes first in the list (newer, or as new with a greater id). */
export function compareRoomKeys(a: RoomCursor, b: RoomCursor): number {
  return b.updatedAt - a.updatedAt || compareIds(b.roomId, a.roomId);
}

/** `?cursor=` text: base64url of `<updatedAt>:<roomId>` (opaque to clients; may change). */
export function encodeRoomCursor(cursor: RoomCursor): string {
  return Buffer.from(`${cursor.updatedAt}:${cursor.roomId}`, 'utf8').toString('base64url');
}

/** The cursor a `?cursor=` names; undefined when it is not one the server could have made. */
export function decodeRoomCursor(text: string): RoomCursor | undefined {
  if (text.length === 0 || text.length > 400 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const plain = Buffer.from(text, 'base64url').toString('utf8');
  const match = /^([0-9]{1,16}):(.+)$/s.exec(plain);
  if (!match) return undefined;
  const updatedAt = Number(match[1]);
  const roomId = match[2]!;
  if (!Number.isSafeInteger(updatedAt) || roomId.length > 200) return undefined;
  return { updatedAt, roomId };
}
