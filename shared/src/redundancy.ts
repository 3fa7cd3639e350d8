/**
 * When is an event already in the room's state because reconcile put it there? Pure, and kept
 * next to the reducer whose marks it reads, so the engines take it from here and not from the
 * server's reconcile code. Both engines ask it with the state they hold at the moment of the
 * append (memory: in the same tick; Redis: the state the compare-and-set validates), so the
 * answer is never stale. O(log n): it reads single peers and counts, never whole records.
 *
 * Two directions, one check:
 * - a real webhook arriving after the synthetic event that stood in for it (a late peer:left
 *   after reconcile removed the ghost; the real peer:joined of a peer bootstrap seeded) is
 *   acknowledged without being appended or broadcast;
 * - a synthetic correction whose change a real webhook made first is dropped.
 *
 * Only facts marked by reconcile count (PeerState.source, MeetingState.source, departedBy), so
 * with reconcile off, or in rooms it never corrected, every webhook is appended as before.
 */
import { RECONCILE_SOURCE } from './event-names.ts';
import type { RoomEvent } from './events.ts';
import { departedAt, departedBySource, peerCount, peerOf, reduceRoom } from './room-state.ts';
import type { RoomState } from './room-state.ts';

/**
 * How far apart the synthesised and the real timestamp of one join or leave may be, ms: the
 * live API's joinTime and the webhook's joinedAt come from different Huddle01 services, and a
 * synthesised leftAt is roomcast's own clock.
 */
export const SAME_CHANGE_TOLERANCE_MS = 10_000;

/**
 * True when both states have the same meeting (session, live or not) and the same present
 * peers: what presence widgets show. Tombstones and timestamps may differ.
 */
export function samePresence(a: RoomState, b: RoomState): boolean {
  if (
    a.meeting.sessionId !== b.meeting.sessionId ||
    a.meeting.active !== b.meeting.active ||
    a.meeting.endedAt !== b.meeting.endedAt
  ) {
    return false;
  }
  if (peerCount(a) !== peerCount(b)) return false;
  if (a.peers === b.peers) return true;
  return Object.keys(a.peers).every((id) => peerOf(b, id) !== undefined);
}

/** True when folding `event` into `state` would change nobody's presence. */
function changesNoPresence(state: RoomState, event: RoomEvent): boolean {
  const next = reduceRoom(state, event);
  // One event changes at most its own peer's presence, unless it moves the meeting (caught by
  // the meeting check): the same count then means the same peers, with no O(n) comparison.
  return (
    state.meeting.sessionId === next.meeting.sessionId &&
    state.meeting.active === next.meeting.active &&
    state.meeting.endedAt === next.meeting.endedAt &&
    peerCount(state) === peerCount(next)
  );
}

/** True when `event` must not be appended: reconcile already made (or undid) that change. */
export function isRedundantAfterReconcile(state: RoomState, event: RoomEvent): boolean {
  if (
    event.event !== 'meeting:started' &&
    event.event !== 'meeting:ended' &&
    event.event !== 'peer:joined' &&
    event.event !== 'peer:left'
  ) {
    return false; // tracks and recordings are never synthesised
  }
  // A correction whose change is already there (a real webhook came first) would only repeat
  // it, e.g. a second "left" for a peer already gone with a later synthesised leftAt.
  if (event.payload.source === RECONCILE_SOURCE) return changesNoPresence(state, event);
  const { meeting } = state;
  if (event.payload.sessionId !== meeting.sessionId) return false;
  if (marked(meeting.source)) {
    // The session reconcile ended: its later events change no one's presence, and the real
    // meeting:ended (with Huddle01's figures) would only repeat the synthesised one.
    if (meeting.endedAt !== undefined) return changesNoPresence(state, event);
    // The session reconcile started: its real meeting:started only repeats it.
    if (event.event === 'meeting:started') return true;
  }
  if (event.event === 'peer:joined') {
    const present = peerOf(state, event.payload.id);
    return (
      present !== undefined &&
      marked(present.source) &&
      event.payload.joinedAt <= present.joinedAt + SAME_CHANGE_TOLERANCE_MS
    );
  }
  if (event.event === 'peer:left') {
    const { id, leftAt } = event.payload;
    const tombstone = departedAt(state, id);
    return (
      peerOf(state, id) === undefined &&
      tombstone !== undefined &&
      marked(departedBySource(state, id)) &&
      leftAt <= tombstone + SAME_CHANGE_TOLERANCE_MS
    );
  }
  return false;
}

function marked(source: string | undefined): boolean {
  return source === RECONCILE_SOURCE;
}
