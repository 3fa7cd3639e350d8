/**
 * The lines of the room list: the feed's summaries, made fresher by the live state of the
 * rooms the console watches, filtered by the search box, newest activity first.
 */
import type { RoomSummary } from '@roomcast/shared';
import { peerCount } from '@roomcast/shared/room-state';
import type { RoomLine } from './rooms-list.ts';
import type { WatchedRoom } from './watched-room.ts';

/** The list's lines for `query` (lower case; empty: every room). */
export function roomLines(
  summaries: readonly RoomSummary[],
  watched: ReadonlyMap<string, WatchedRoom>,
  query: string,
): RoomLine[] {
  const lines: (RoomLine & { activity: number })[] = [];
  for (const summary of summaries) {
    const room = watched.get(summary.roomId);
    const state = room?.room.state;
    const peers = state ? peerCount(state) : summary.peers;
    const line: RoomLine & { activity: number } = {
      roomId: summary.roomId,
      peers,
      ...(summary.subscribers === undefined ? {} : { watching: summary.subscribers }),
      live: state ? state.meeting.active || peers > 0 : summary.meetingActive || summary.peers > 0,
      recording: state ? state.recording.active : summary.recordingActive,
      activity: Math.max(summary.updatedAt, room?.lastEventAt ?? 0),
    };
    const startedAt = state?.meeting.startedAt ?? state?.meeting.earliestAt;
    if (startedAt !== undefined) line.startedAt = startedAt;
    if (query && !matchesQuery(summary.roomId, room, query)) continue;
    lines.push(line);
  }
  return lines.sort((a, b) => b.activity - a.activity);
}

/** A room matches by its id or by the name of someone in it (when watched). */
function matchesQuery(roomId: string, watched: WatchedRoom | undefined, query: string) {
  if (roomId.toLowerCase().includes(query)) return true;
  const peers = Object.keys(watched?.room.state?.peers ?? {});
  return peers.some((id) => watched!.nameOf(id).toLowerCase().includes(query));
}
