/**
 * When is an event already in the room's state because reconcile put it there? Pure: both
 * engines ask it with the state they hold at the moment of the append (memory: in the same
 * tick; Redis: the state the compare-and-set validates), so the answer is never stale.
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
import { RECONCILE_SOURCE, reduceRoom } from '@roomcast/shared';
import type { RoomEvent, RoomState } from '@roomcast/shared';

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
  if (a.peers === b.peers) return true;
  const ids = Object.keys(a.peers);
  return (
    ids.length === Object.keys(b.peers).length && ids.every((id) => Object.hasOwn(b.peers, id))
  );
}

/** True when folding `event` into `state` would change nobody's presence. */
function changesNoPresence(state: RoomState, event: RoomEvent): boolean {
  return samePresence(state, reduceRoom(state, event));
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
    const present = own(state.peers, event.payload.id);
    return (
      present !== undefined &&
      marked(present.source) &&
      event.payload.joinedAt <= present.joinedAt + SAME_CHANGE_TOLERANCE_MS
    );
  }
  if (event.event === 'peer:left') {
    const { id, leftAt } = event.payload;
    const tombstone = own(state.departed, id);
    return (
      own(state.peers, id) === undefined &&
      tombstone !== undefined &&
      marked(own(state.departedBy ?? {}, id)) &&
      leftAt <= tombstone + SAME_CHANGE_TOLERANCE_MS
    );
  }
  return false;
}

function marked(source: string | undefined): boolean {
  return source === RECONCILE_SOURCE;
}

function own<V>(record: Record<string, V>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
