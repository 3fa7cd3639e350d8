/**
 * The "nothing lost" invariant of DESIGN.md, checked from the outside for any scenario:
 *
 * - every webhook answered `200 {ok, roomId, seq}` is in its room's log at that seq;
 * - every subscriber receives each room's events once, in seq order, with no gap, stitched
 *   across its reconnects (a resume must continue exactly where the last connection stopped);
 *   the only allowed break is an explicit resync: a `snapshot` frame (recovered:false);
 * - every subscriber ends at its rooms' heads;
 * - each room's final state equals `reduceRoom` folded over its log.
 *
 * Subscribers are checked online, frame by frame (cheap enough for ten thousand of them);
 * `verify` makes the end-of-run checks against the rooms' snapshots.
 */
import { isDeepStrictEqual } from 'node:util';
import { emptyRoomState, reduceRoom, settleRoom } from '../../shared/src/index.ts';
import type { Position, RoomEvent, RoomState } from '../../shared/src/index.ts';

/** A server frame as received (parsed JSON of a WS text frame or an SSE `data:`). */
export interface ReceivedFrame {
  type: string;
  room?: string;
  epoch?: string;
  seq?: number;
  id?: string;
  event?: string;
  payload?: unknown;
  recovered?: boolean;
  code?: string;
}

/** A webhook answered 200 with a position; event and payload (as sent) when known. */
export interface Ack {
  roomId: string;
  seq: number;
  id: string;
  event?: string;
  payload?: unknown;
}

/** A room's snapshot at the end of a run (GET /rooms/:roomId). */
export interface RoomHead {
  roomId: string;
  epoch: string;
  seq: number;
  state: RoomState;
}

/** One broken guarantee. */
export interface Violation {
  kind: string;
  room?: string;
  subscriber?: string;
  detail: string;
}

/** Figures of a checked run. */
export interface CheckSummary {
  subscribers: number;
  rooms: number;
  acknowledged: number;
  /** Event frames received by all subscribers together. */
  eventsDelivered: number;
  /** Reconnections that asked to resume. */
  resumes: number;
  /** Resumes answered with exactly the missed events. */
  recovered: number;
  /** Explicit resyncs: snapshots after a resume request or in the middle of a stream. */
  resyncs: number;
  /** Error frames received, by code. */
  errors: Record<string, number>;
  violations: Violation[];
}

/** What the checker knows of one subscriber's room. */
interface RoomTrack {
  held: Position | undefined;
  /** The `since` of the current connection, for the subscribed frame's recovered flag. */
  since: Position | undefined;
  snapshotThisConnection: boolean;
  /** False after the server dropped the subscription (an error frame for the room). */
  active: boolean;
}

/** One logical subscriber (the same identity across its reconnects). */
export interface SubscriberTrack {
  readonly name: string;
  /** A (re)connection starts for these rooms, resuming each from `since` when given. */
  connecting(rooms: Iterable<[string, Position | undefined]>): void;
  /** Records one server frame, in arrival order, and checks it. */
  frame(frame: ReceivedFrame): void;
  /** The position held in `room`: where a reconnect resumes. */
  position(room: string): Position | undefined;
  /** Rooms this subscriber holds and their positions. */
  rooms(): Map<string, Position | undefined>;
  /** True when the subscriber holds `room` and is at `head`. */
  atHead(room: string, head: Position): boolean;
  /** Reports a violation the transport noticed (e.g. an SSE id that does not match its frame). */
  violation(kind: string, detail: string, room?: string): void;
}

/** The checker. */
export interface InvariantChecker {
  acknowledged(ack: Ack): void;
  /** A webhook answered `200 {duplicate:true}`: unless it is a track event, it must be in a log. */
  duplicate(id: string, event: string): void;
  subscriber(name: string): SubscriberTrack;
  readonly subscribers: readonly SubscriberTrack[];
  readonly violations: readonly Violation[];
  /** Rooms seen in acks or frames. */
  rooms(): string[];
  /** The end-of-run checks against the rooms' final snapshots. */
  verify(heads: RoomHead[]): CheckSummary;
}

interface LoggedEntry {
  id: string;
  event: string;
  payload: unknown;
}

const TRACK_EVENTS = new Set(['peer:trackPublished', 'peer:trackUnpublished']);
/** Violations kept in full; past this only counted (one broken run can produce millions). */
const MAX_KEPT = 200;

/** Creates a checker. */
export function createInvariantChecker(): InvariantChecker {
  /** room → epoch → seq → entry, as delivered (the server-parsed payloads). */
  const logs = new Map<string, Map<string, Map<number, LoggedEntry>>>();
  const acks = new Map<string, Ack>();
  const duplicates = new Map<string, string>();
  const subscribers: SubscriberTrack[] = [];
  const violations: Violation[] = [];
  let violationCount = 0;
  let eventsDelivered = 0;
  let resumes = 0;
  let recovered = 0;
  let resyncs = 0;
  const errors: Record<string, number> = {};

  function violate(violation: Violation): void {
    violationCount++;
    if (violations.length < MAX_KEPT) violations.push(violation);
  }

  function logOf(room: string, epoch: string): Map<number, LoggedEntry> {
    let epochs = logs.get(room);
    if (!epochs) logs.set(room, (epochs = new Map()));
    let log = epochs.get(epoch);
    if (!log) epochs.set(epoch, (log = new Map()));
    return log;
  }

  function record(subscriber: string, frame: ReceivedFrame & Position & { room: string }): void {
    const log = logOf(frame.room, frame.epoch);
    const known = log.get(frame.seq);
    if (!known) {
      log.set(frame.seq, { id: frame.id ?? '', event: frame.event ?? '', payload: frame.payload });
    } else if (known.id !== frame.id) {
      violate({
        kind: 'order-disagreement',
        room: frame.room,
        subscriber,
        detail: `seq ${frame.seq} is ${frame.id} here but ${known.id} for another subscriber`,
      });
    }
  }

  function subscriber(name: string): SubscriberTrack {
    const tracks = new Map<string, RoomTrack>();
    const fail = (kind: string, detail: string, room?: string) =>
      violate({ kind, room, subscriber: name, detail });

    function onEvent(track: RoomTrack, frame: ReceivedFrame & Position & { room: string }) {
      const held = track.held;
      eventsDelivered++;
      if (!held) fail('event-before-start', `seq ${frame.seq} before any snapshot`, frame.room);
      else if (frame.epoch !== held.epoch) {
        fail('epoch-switch', `${held.epoch} → ${frame.epoch} without a snapshot`, frame.room);
      } else if (frame.seq <= held.seq) {
        fail('duplicate', `seq ${frame.seq} again (held ${held.seq})`, frame.room);
      } else if (frame.seq !== held.seq + 1) {
        fail('gap', `seq ${held.seq} → ${frame.seq}`, frame.room);
      }
      record(name, frame);
      track.held = { epoch: frame.epoch, seq: frame.seq };
    }

    const api: SubscriberTrack = {
      name,
      connecting(rooms) {
        for (const [room, since] of rooms) {
          const track = tracks.get(room);
          if (since) {
            resumes++;
            const held = track?.held;
            if (!held || held.epoch !== since.epoch || held.seq !== since.seq) {
              fail('resume-point', `resumed from ${since.epoch}:${since.seq}`, room);
            }
          }
          tracks.set(room, {
            held: track?.held,
            since,
            snapshotThisConnection: false,
            active: true,
          });
        }
      },
      frame(frame) {
        if (frame.type === 'heartbeat') return; // the link's liveness, of no room
        if (frame.type === 'error') {
          const code = frame.code ?? '?';
          errors[code] = (errors[code] ?? 0) + 1;
          const track = frame.room === undefined ? undefined : tracks.get(frame.room);
          if (track) track.active = false; // the server ended this subscription
          return;
        }
        const room = frame.room;
        const track = room === undefined ? undefined : tracks.get(room);
        if (!track || room === undefined) {
          return fail('unexpected-room', `${frame.type} for a room not subscribed`, room);
        }
        if (typeof frame.epoch !== 'string' || typeof frame.seq !== 'number') {
          return fail('malformed', `${frame.type} without a position`, room);
        }
        const positioned = frame as ReceivedFrame & Position & { room: string };
        switch (frame.type) {
          case 'event':
            return onEvent(track, positioned);
          case 'snapshot':
            // Allowed break: a resume refused, or a resync in the middle of a stream.
            if (track.since || track.held) resyncs++;
            if (frame.recovered !== false)
              fail('snapshot-recovered', 'recovered is not false', room);
            track.snapshotThisConnection = true;
            track.held = { epoch: frame.epoch, seq: frame.seq };
            return;
          case 'subscribed': {
            const held = track.held;
            if (!held || held.epoch !== frame.epoch || held.seq !== frame.seq) {
              fail(
                'subscribed-position',
                `subscribed at ${frame.epoch}:${frame.seq}, held ${held?.epoch}:${held?.seq}`,
                room,
              );
            }
            const expected = !track.snapshotThisConnection;
            if (frame.recovered !== expected) {
              fail(
                'subscribed-recovered',
                `recovered ${frame.recovered}, expected ${expected}`,
                room,
              );
            }
            if (frame.recovered === true && track.since) recovered++;
            track.since = undefined;
            track.snapshotThisConnection = false;
            return;
          }
          default:
            return fail('unknown-frame', `type ${frame.type}`, room);
        }
      },
      position: (room) => tracks.get(room)?.held,
      rooms() {
        const held = new Map<string, Position | undefined>();
        for (const [room, track] of tracks) if (track.active) held.set(room, track.held);
        return held;
      },
      atHead(room, head) {
        const held = tracks.get(room)?.held;
        return held !== undefined && held.epoch === head.epoch && held.seq === head.seq;
      },
      violation: fail,
    };
    subscribers.push(api);
    return api;
  }

  /** Log of the head's epoch from seq 1, completed from acks where no subscriber saw an entry. */
  function completeLog(head: RoomHead): LoggedEntry[] | number {
    const log = logs.get(head.roomId)?.get(head.epoch) ?? new Map<number, LoggedEntry>();
    const entries: LoggedEntry[] = [];
    for (let seq = 1; seq <= head.seq; seq++) {
      const entry = log.get(seq);
      if (!entry) return seq;
      entries.push(entry);
    }
    return entries;
  }

  function checkState(head: RoomHead): void {
    const entries = completeLog(head);
    if (typeof entries === 'number') {
      return violate({
        kind: 'log-incomplete',
        room: head.roomId,
        detail: `no subscriber or ack saw seq ${entries} of ${head.seq}: the state cannot be checked`,
      });
    }
    const { presenceGrace } = head.state;
    let state = emptyRoomState(head.roomId, { presenceGrace });
    for (const entry of entries) {
      state = reduceRoom(state, { event: entry.event, payload: entry.payload } as RoomEvent);
    }
    // updatedAt also counts the server's receive times, which no frame carries: it may only be
    // later. Settled at the server's clock, the fold must be the server's state, reconnecting
    // peers included.
    const foldedAt = state.updatedAt;
    state = settleRoom(state, head.state.updatedAt);
    if (!isDeepStrictEqual(head.state, { ...state }) || head.state.updatedAt < foldedAt) {
      violate({
        kind: 'state',
        room: head.roomId,
        detail: `server ${JSON.stringify(head.state).slice(0, 400)} ≠ folded ${JSON.stringify(state).slice(0, 400)}`,
      });
    }
  }

  return {
    acknowledged(ack) {
      const earlier = acks.get(ack.id);
      if (earlier && (earlier.roomId !== ack.roomId || earlier.seq !== ack.seq)) {
        violate({ kind: 'ack-twice', room: ack.roomId, detail: `${ack.id} acknowledged twice` });
      }
      acks.set(ack.id, ack);
    },
    duplicate(id, event) {
      duplicates.set(id, event);
    },
    subscriber,
    subscribers,
    get violations() {
      return violations;
    },
    rooms() {
      const rooms = new Set(logs.keys());
      for (const ack of acks.values()) rooms.add(ack.roomId);
      return [...rooms];
    },
    verify(heads) {
      const byRoom = new Map(heads.map((head) => [head.roomId, head]));
      // Entries only an ack knows (no subscriber saw them) fill the log for the state check.
      for (const ack of acks.values()) {
        const head = byRoom.get(ack.roomId);
        if (!head) {
          violate({ kind: 'no-head', room: ack.roomId, detail: `room of ${ack.id} not checked` });
          continue;
        }
        if (ack.seq > head.seq) {
          violate({
            kind: 'ack-lost',
            room: ack.roomId,
            detail: `${ack.id} acknowledged at seq ${ack.seq}, the log ends at ${head.seq}`,
          });
          continue;
        }
        const log = logOf(ack.roomId, head.epoch);
        const entry = log.get(ack.seq);
        if (!entry && ack.event !== undefined) {
          log.set(ack.seq, { id: ack.id, event: ack.event, payload: ack.payload });
        } else if (entry && entry.id !== ack.id) {
          violate({
            kind: 'ack-mismatch',
            room: ack.roomId,
            detail: `${ack.id} acknowledged at seq ${ack.seq}, delivered there: ${entry.id}`,
          });
        }
      }
      const logged = new Set<string>();
      for (const epochs of logs.values()) {
        for (const log of epochs.values()) for (const entry of log.values()) logged.add(entry.id);
      }
      for (const [id, event] of duplicates) {
        if (!TRACK_EVENTS.has(event) && !logged.has(id) && !acks.has(id)) {
          violate({ kind: 'duplicate-not-in-log', detail: `${id} (${event}) answered duplicate` });
        }
      }
      for (const track of subscribers) {
        for (const [room, held] of track.rooms()) {
          const head = byRoom.get(room);
          if (!head) continue;
          if (!track.atHead(room, head)) {
            violate({
              kind: 'not-at-head',
              room,
              subscriber: track.name,
              detail: `holds ${held?.epoch}:${held?.seq}, head ${head.epoch}:${head.seq}`,
            });
          }
        }
      }
      for (const head of heads) checkState(head);
      const summary: CheckSummary = {
        subscribers: subscribers.length,
        rooms: heads.length,
        acknowledged: acks.size,
        eventsDelivered,
        resumes,
        recovered,
        resyncs,
        errors: { ...errors },
        violations: [...violations],
      };
      if (violationCount > violations.length) {
        summary.violations.push({
          kind: 'more',
          detail: `${violationCount - violations.length} more violations not kept`,
        });
      }
      return summary;
    },
  };
}
