/**
 * Which rooms the console subscribes to: the selected one and the live rooms at the top of the
 * list; rooms that left it are let go once more than a handful are held.
 */
import type { RoomLine } from './rooms-list.ts';
import type { WatchedRoom } from './watched-room.ts';

/** Rooms of the list subscribed to at once (the server allows 100 per connection by default). */
const WATCH_LIST = 40;
/** Subscriptions kept at most (rooms that left the top of the list are let go past this). */
const WATCH_MAX = 80;

/**
 * Brings `watched` in line with the list: closes and drops the rooms no longer wanted, and
 * adds `watch(roomId)` for the wanted ones not watched yet. `known` is every listed room id.
 */
export function syncWatches(
  watched: Map<string, WatchedRoom>,
  selected: string | undefined,
  lines: readonly RoomLine[],
  known: ReadonlySet<string>,
  watch: (roomId: string) => WatchedRoom,
): void {
  const wanted = new Set<string>();
  if (selected) wanted.add(selected);
  for (const line of lines) {
    if (wanted.size > WATCH_LIST) break;
    if (line.live) wanted.add(line.roomId);
  }
  for (const [roomId, room] of watched) {
    const keep = wanted.has(roomId) || (known.has(roomId) && watched.size <= WATCH_MAX);
    if (!keep) {
      room.close();
      watched.delete(roomId);
    }
  }
  for (const roomId of wanted) {
    if (!watched.has(roomId)) watched.set(roomId, watch(roomId));
  }
}
