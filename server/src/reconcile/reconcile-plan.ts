/**
 * The pure diff of reconcile: what Huddle01's live API says about a room against roomcast's
 * state of it, as the synthetic events that make the state agree. No I/O, no clock: the
 * reconciler fetches, reads the state, calls `planReconcile`, and appends what it returns.
 *
 * Every planned event is folded into the state before the next one is planned, and one that
 * changes nobody's presence is left out, so the plan is minimal and planning again on the
 * result gives nothing. Timestamps are chosen for the order-robust reducer:
 * - a synthesised peer:left / meeting:ended is dated `observedAt`, the moment roomcast asked:
 *   the real event happened before it, so when the real webhook arrives late it changes nothing
 *   (and shared/src/redundancy.ts recognises it);
 * - a synthesised peer:joined carries Huddle01's own joinTime, so a leave older than it still
 *   wins and a real join of the same stay is recognised;
 * - peers (and sessions) younger than `settleMs` are not declared gone: their webhooks may still
 *   be in flight, and the live API itself lags a little.
 * Huddle01's recording and livestream counts, when the live view has them, become one
 * `reconcile:media` (roomcast's own event, `state.meeting.media`) when they differ from the state's.
 */
import { RECONCILE_SOURCE, reduceRoom } from '@roomcast/shared';
import type { EventPayloads, MeetingState, RoomEvent, RoomState } from '@roomcast/shared';
import { SAME_CHANGE_TOLERANCE_MS, samePresence } from './redundancy.ts';

/** One participant of a live session, as Huddle01's live API lists it. */
export interface LiveParticipant {
  peerId: string;
  /** When the peer joined (ms, Huddle01's clock); may be missing. */
  joinTime?: number;
  /** The peer's metadata (usually an object, the access token's metadata). */
  metadata?: unknown;
}

/** Huddle01's view of the room's live session. */
export interface LiveView {
  sessionId: string;
  /** When the session started (ms). */
  startTime: number;
  /**
   * The participants; undefined when they were not fetched because Huddle01's peer count agreed
   * with the state's (peers are then left as they are).
   */
  participants?: readonly LiveParticipant[];
  /** Huddle01's recording and livestream counts of the session, when the answer had them. */
  media?: { recordingCount: number; livestreamCount: number };
}

/** What `planReconcile` compares. */
export interface PlanInput {
  roomId: string;
  /** roomcast's state of the room, read after the API answered. */
  state: RoomState;
  /** The live session, or null when Huddle01 has none for the room. */
  live: LiveView | null;
  /** When roomcast asked the API (ms, its own clock): the date of synthesised leaves and ends. */
  observedAt: number;
  /** Peers and sessions younger than this are not declared gone, ms. */
  settleMs: number;
}

/** Kinds of correction (the metric label and the log's `kind`). */
export type CorrectionKind =
  'meeting_started' | 'meeting_ended' | 'peer_joined' | 'peer_left' | 'media';

/** One synthetic event to append. */
export interface Correction {
  kind: CorrectionKind;
  /** Deterministic per correction, so two nodes making the same one dedup. */
  webhookId: string;
  event: RoomEvent;
}

/**
 * True when the state's current session is, as far as timestamps tell, the live session that
 * started at `startTime`. False means "unknown or different": ask the API for the session id.
 */
export function sameLiveSession(meeting: MeetingState, startTime: number): boolean {
  if (meeting.sessionId === undefined || meeting.endedAt !== undefined) return false;
  if (meeting.startedAt !== undefined) {
    return Math.abs(meeting.startedAt - startTime) <= SAME_CHANGE_TOLERANCE_MS;
  }
  // Known from peer events only: the live session began before (or with) the first of them.
  return (
    meeting.earliestAt === undefined || startTime <= meeting.earliestAt + SAME_CHANGE_TOLERANCE_MS
  );
}

/** The synthetic events that make `input.state` agree with `input.live`, in append order. */
export function planReconcile(input: PlanInput): Correction[] {
  const { roomId, live, observedAt, settleMs } = input;
  const settledBefore = observedAt - settleMs;
  const corrections: Correction[] = [];
  let state = input.state;
  const add = (kind: CorrectionKind, webhookId: string, event: RoomEvent) => {
    const next = reduceRoom(state, event);
    if (samePresence(state, next)) return; // no visible effect: nothing to tell anyone
    corrections.push({ kind, webhookId: `reconcile:${roomId}:${webhookId}`, event });
    state = next;
  };

  const current = state.meeting;
  const liveInState = current.sessionId !== undefined && current.endedAt === undefined;
  if (live === null) {
    if (liveInState && lastActivity(state) <= settledBefore) {
      add('meeting_ended', `meeting:ended:${current.sessionId}`, meetingEnded(state, observedAt));
    }
    return corrections;
  }

  if (current.sessionId !== live.sessionId) {
    if (liveInState) {
      // Huddle01 has another session live: ours ended, at the latest when that one started.
      const endedAt = Math.min(observedAt, live.startTime);
      add('meeting_ended', `meeting:ended:${current.sessionId}`, meetingEnded(state, endedAt));
    }
    add('meeting_started', `meeting:started:${live.sessionId}`, {
      event: 'meeting:started',
      payload: {
        sessionId: live.sessionId,
        roomId,
        createdAt: live.startTime,
        source: RECONCILE_SOURCE,
      },
    });
  }

  const participants = live.participants;
  if (participants === undefined) return withMedia(state, corrections, live, observedAt);
  const listed = new Map(participants.map((p) => [p.peerId, p]));
  for (const peer of Object.values(state.peers)) {
    if (listed.has(peer.id) || peer.joinedAt > settledBefore) continue;
    const payload: EventPayloads['peer:left'] = {
      id: peer.id,
      sessionId: live.sessionId,
      roomId,
      leftAt: Math.max(observedAt, peer.joinedAt),
      duration: seconds(observedAt - peer.joinedAt),
      source: RECONCILE_SOURCE,
    };
    if (peer.role !== undefined) payload.role = peer.role;
    add('peer_left', `peer:left:${peer.id}:${live.sessionId}:${peer.joinedAt}`, {
      event: 'peer:left',
      payload,
    });
  }

  for (const participant of participants) {
    if (Object.hasOwn(state.peers, participant.peerId)) continue;
    const joinTime = participant.joinTime;
    if (joinTime === undefined) {
      // Without Huddle01's joinTime the join is dated now; right after a real leave the API may
      // still list the peer, and that date would bring it back.
      const leftAt = Object.hasOwn(state.departed, participant.peerId)
        ? state.departed[participant.peerId]!
        : undefined;
      if (leftAt !== undefined && leftAt > settledBefore) continue;
    }
    const joinedAt = joinTime ?? observedAt;
    const payload: EventPayloads['peer:joined'] = {
      id: participant.peerId,
      sessionId: live.sessionId,
      roomId,
      joinedAt,
      browser: {},
      device: {},
      source: RECONCILE_SOURCE,
    };
    const metadata = metadataText(participant.metadata);
    if (metadata !== undefined) payload.metadata = metadata;
    add('peer_joined', `peer:joined:${participant.peerId}:${live.sessionId}:${joinedAt}`, {
      event: 'peer:joined',
      payload,
    });
  }
  return withMedia(state, corrections, live, observedAt);
}

/**
 * `corrections` plus a `reconcile:media` when Huddle01's counts differ from the state's (once
 * the state is in the live session). Not a presence change, so outside `add`'s filter.
 */
function withMedia(
  state: RoomState,
  corrections: Correction[],
  live: LiveView,
  observedAt: number,
): Correction[] {
  const { media } = live;
  const { meeting } = state;
  if (media === undefined || meeting.sessionId !== live.sessionId || !meeting.active) {
    return corrections;
  }
  // No counts in the state reads as none running: a room that never records costs no event.
  const known = meeting.media;
  const recordings = known?.recordingCount ?? 0;
  const livestreams = known?.livestreamCount ?? 0;
  if (recordings === media.recordingCount && livestreams === media.livestreamCount) {
    return corrections;
  }
  const event: RoomEvent = {
    event: 'reconcile:media',
    payload: {
      roomId: state.roomId,
      sessionId: live.sessionId,
      recordingCount: media.recordingCount,
      livestreamCount: media.livestreamCount,
      observedAt,
      source: RECONCILE_SOURCE,
    },
  };
  // The previous observation in the id: the same change planned twice (two nodes bootstrapping
  // one room) dedups, while counts that go back and forth still make new events.
  const since = known?.observedAt ?? 0;
  const id = `media:${live.sessionId}:${since}:${media.recordingCount}:${media.livestreamCount}`;
  // An observation older than the state's changes nothing: no event for it.
  if (reduceRoom(state, event).meeting === meeting) return corrections;
  return [...corrections, { kind: 'media', webhookId: `reconcile:${state.roomId}:${id}`, event }];
}

/** A synthesised meeting:ended of the state's current session. */
function meetingEnded(state: RoomState, at: number): RoomEvent {
  const { meeting } = state;
  const createdAt = meeting.startedAt ?? meeting.earliestAt ?? at;
  const endedAt = Math.max(at, createdAt);
  const present = Object.keys(state.peers).length;
  return {
    event: 'meeting:ended',
    payload: {
      sessionId: meeting.sessionId!,
      roomId: state.roomId,
      createdAt,
      endedAt,
      // Huddle01's figures are unknown here: what roomcast saw, and no media minutes.
      duration: seconds(endedAt - createdAt),
      participants: present + Object.keys(state.departed).length,
      maxParticipants: present,
      audioMinutes: 0,
      videoMinutes: 0,
      source: RECONCILE_SOURCE,
    },
  };
}

/** The latest moment the state's session is known to have been active (start or a join). */
function lastActivity(state: RoomState): number {
  let last = Math.max(state.meeting.startedAt ?? 0, state.meeting.earliestAt ?? 0);
  for (const peer of Object.values(state.peers)) last = Math.max(last, peer.joinedAt);
  return last;
}

/** Huddle01 gives durations in whole seconds. */
function seconds(ms: number): number {
  return Math.max(0, Math.round(ms / 1000));
}

/** Huddle01's peer:joined carries metadata as a string; the live API gives it parsed. */
function metadataText(metadata: unknown): string | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  if (typeof metadata === 'string') return metadata;
  try {
    return JSON.stringify(metadata);
  } catch {
    return undefined;
  }
}
