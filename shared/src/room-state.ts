/**
 * A room's live state, folded from Huddle01 webhook events.
 *
 * Webhooks arrive late, twice, or out of order, so the reducer decides with the events' own
 * timestamps wherever they carry one, and keeps just enough history (tombstones, past sessions,
 * ended recording ids) that a late event cannot resurrect what a newer one already settled.
 *
 * Pure and dependency-free: only types come from events.ts, the input state is never mutated,
 * and the state is plain JSON (no `undefined` values, no Maps) because it is sent in snapshots.
 *
 * The cost of an event does not depend on the room's size: inside, `peers`, `departed` and
 * `departedBy` are immutable hash tries (hash-trie.ts) that an event changes in O(log n). A state
 * shows them as ordinary records through getters, built on first read and cached, so
 * `state.peers[id]`, `Object.keys(state.peers)`, JSON.stringify and structuredClone work as on
 * plain objects. A state that did not come from `reduceRoom` (a parsed snapshot) is indexed once,
 * on its first event. Records are keyed by ids that come from the outside, so a peer called
 * `__proto__` or `constructor` is an ordinary key.
 *
 * Presence grace: a peer that leaves stays in `reconnecting` (not in `peers`) until the state's
 * clock, `updatedAt`, is `presenceGrace` past its leave; a rejoin in time is a blip, not a new
 * arrival. The clock only grows (event times, receivedAt, `settleRoom`'s now), so what a set of
 * events leaves in `reconnecting` does not depend on their order.
 */
import type {
  EventPayloads,
  MeetingEndedPayload,
  MeetingStartedPayload,
  PeerJoinedPayload,
  PeerLeftPayload,
  ReconcileMediaPayload,
  RecordingPayload,
  RecordingStoppedPayload,
  RoomEvent,
} from './events.ts';
import { EVENT_NAME_LIST, RECONCILE_SOURCE } from './event-names.ts';
import {
  emptyTrie,
  trieDelete,
  trieGet,
  trieKeys,
  trieOf,
  trieRecord,
  trieSet,
} from './hash-trie.ts';
import type { HashTrie } from './hash-trie.ts';
import { heapPop, heapPush } from './expiry-heap.ts';
import type { ExpiryHeap } from './expiry-heap.ts';

const KNOWN_EVENTS: ReadonlySet<string> = new Set(EVENT_NAME_LIST);
/** One recorded file, as Huddle01 lists it in recording events. */
export type RecordingFile = EventPayloads['recording:started']['files'][number];

/** One live stream of a recording, as Huddle01 lists it in recording events. */
export type RecordingStream = EventPayloads['recording:started']['streams'][number];

/** A peer present in the current session. */
export interface PeerState {
  id: string;
  sessionId: string;
  joinedAt: number;
  role?: string;
  /** metadata parsed as JSON when it is valid JSON, else the raw string */
  metadata?: unknown;
  browser?: { name?: string; version?: string };
  device?: { model?: string; type?: string; vendor?: string };
  geoData?: { region: string; country: string };
  /** published track labels, sorted, unique (audio, video, screen-share-video, ...) */
  tracks: string[];
  /**
   * `"reconcile"` when the peer is known from Huddle01's live API (a synthesised peer:joined)
   * rather than from its webhook: such a record carries only id, joinedAt and metadata.
   */
  source?: 'reconcile';
}

/** A peer that left less than the presence grace ago: its last record, and when it left. */
export interface ReconnectingPeer extends PeerState {
  leftAt: number;
}

/** The current (or last) session of the room. */
export interface MeetingState {
  active: boolean;
  sessionId?: string;
  /** `createdAt` of the session; unknown until a meeting:started or meeting:ended arrives */
  startedAt?: number;
  endedAt?: number;
  /**
   * Earliest timestamp seen for this session (createdAt, joinedAt, leftAt, stream startedAt).
   * An unknown session whose event is older than this is stale, not a new meeting. Kept apart
   * from `startedAt` so that `startedAt` is always the real `createdAt`, whatever arrives first.
   */
  earliestAt?: number;
  /** `"reconcile"` when the last meeting:started / meeting:ended applied was synthesised. */
  source?: 'reconcile';
  /**
   * Recordings and livestreams running in the live session, as Huddle01's live API counted them
   * at `observedAt` (set by reconcile's `reconcile:media`); absent until reconcile has looked,
   * and dropped when the session ends.
   */
  media?: MeetingMedia;
}

/** Huddle01's own counts of a live session's media (`getLiveSessions`). */
export interface MeetingMedia {
  recordingCount: number;
  livestreamCount: number;
  /** When roomcast asked Huddle01 (ms). */
  observedAt: number;
}

/** The current (or last) recording of the current session. */
export interface RecordingState {
  active: boolean;
  id?: string;
  files?: RecordingFile[];
  streams?: RecordingStream[];
  cid?: string;
  ipfsUrl?: string;
  /** ids of recordings known to be over (at most the 16 most recent): a late start is ignored */
  endedIds?: string[];
}

/** Everything roomcast knows about one room, as a plain JSON-serializable object. */
export interface RoomState {
  roomId: string;
  meeting: MeetingState;
  /** present peers by id */
  peers: Record<string, PeerState>;
  /** tombstones: departed peer id -> leftAt (ms), kept so a late peer:joined older than its peer:left adds no ghost */
  departed: Record<string, number>;
  /**
   * Tombstones written by a synthesised peer:left (peer id -> "reconcile"); absent when none.
   * Lets the server recognise the real peer:left arriving later as already applied.
   */
  departedBy?: Record<string, 'reconcile'>;
  /**
   * Ms a departed peer is shown as reconnecting (a rejoin within it is a network blip); set by
   * the server from `ROOMCAST_PRESENCE_GRACE`, so every copy of the state agrees. Absent: 0, off.
   */
  presenceGrace?: number;
  /**
   * Peers that left less than `presenceGrace` before `updatedAt` (peer id -> last record and
   * leftAt): probably back in a moment. Not in `peers`; their tombstones are in `departed`.
   * Absent when none. `settleRoom(state, now)` lets the grace run out without an event.
   */
  reconnecting?: Record<string, ReconnectingPeer>;
  recording: RecordingState;
  /** sessions of this room that are over or were replaced; their late events are ignored (keep at most the 16 most recent) */
  pastSessions: string[];
  /** largest timestamp seen (event timestamps, or the receivedAt argument) */
  updatedAt: number;
}

/** How many past session ids and ended recording ids are remembered. */
const MEMORY = 16;

/** Options of a room's state. */
export interface RoomStateOptions {
  /** Ms a departed peer shows as reconnecting (see `RoomState.presenceGrace`). Default 0: off. */
  presenceGrace?: number;
}

/** The state of a room nothing is known about yet. */
export function emptyRoomState(roomId: string, options: RoomStateOptions = {}): RoomState {
  const state: RoomState = {
    roomId,
    meeting: { active: false },
    peers: {},
    departed: {},
    recording: { active: false },
    pastSessions: [],
    updatedAt: 0,
  };
  const grace = options.presenceGrace ?? 0;
  if (grace > 0) state.presenceGrace = grace;
  return state;
}

/**
 * A state as the reducer works on it: the records are tries. Every `RoomState` that
 * `reduceRoom` returns has one (in `tries`); a plain one gets it on first use.
 */
interface Tries {
  roomId: string;
  meeting: MeetingState;
  peers: HashTrie<PeerState>;
  departed: HashTrie<number>;
  departedBy: HashTrie<'reconcile'>;
  reconnecting: HashTrie<ReconnectingPeer>;
  /** When each reconnecting peer's grace runs out (entries may be stale, see expiry-heap.ts). */
  expiries: ExpiryHeap;
  grace: number;
  recording: RecordingState;
  pastSessions: string[];
  updatedAt: number;
}

/** The tries behind each state `reduceRoom` returned (weak: states come and go freely). */
const tries = new WeakMap<RoomState, Tries>();

/** The tries of `state`: remembered, or built once from its records (O(n), plain states only). */
function triesOf(state: RoomState): Tries {
  let t = tries.get(state);
  if (t === undefined) {
    const grace = state.presenceGrace ?? 0;
    let expiries: ExpiryHeap = null;
    for (const peer of Object.values(state.reconnecting ?? {})) {
      expiries = heapPush(expiries, peer.leftAt + grace, peer.id);
    }
    t = {
      roomId: state.roomId,
      meeting: state.meeting,
      peers: trieOf(state.peers),
      departed: trieOf(state.departed),
      departedBy: trieOf(state.departedBy ?? {}),
      reconnecting: trieOf(state.reconnecting ?? {}),
      expiries,
      grace,
      recording: state.recording,
      pastSessions: state.pastSessions,
      updatedAt: state.updatedAt,
    };
    tries.set(state, t);
  }
  return t;
}

/**
 * The `RoomState` of `t`: its records are getters, enumerable like data properties, so the
 * state reads, serializes and clones as a plain object. O(1): nothing is copied.
 */
function stateOf(t: Tries): RoomState {
  const state: RoomState = {
    roomId: t.roomId,
    meeting: t.meeting,
    get peers() {
      return trieRecord(t.peers);
    },
    get departed() {
      return trieRecord(t.departed);
    },
    recording: t.recording,
    pastSessions: t.pastSessions,
    updatedAt: t.updatedAt,
  };
  // Only when some tombstone is marked, so a state without reconcile marks looks as it always did.
  if (t.departedBy.size > 0) {
    Object.defineProperty(state, 'departedBy', {
      get: () => trieRecord(t.departedBy),
      enumerable: true,
    });
  }
  if (t.grace > 0) state.presenceGrace = t.grace;
  if (t.reconnecting.size > 0) {
    Object.defineProperty(state, 'reconnecting', {
      get: () => trieRecord(t.reconnecting),
      enumerable: true,
    });
  }
  tries.set(state, t);
  return state;
}

/** Number of peers present in the room right now (O(1) for states from `reduceRoom`). */
export function peerCount(state: RoomState): number {
  const t = tries.get(state);
  return t !== undefined ? t.peers.size : Object.keys(state.peers).length;
}

/** The present peer `peerId`, or undefined: O(log n), without building the `peers` record. */
export function peerOf(state: RoomState, peerId: string): PeerState | undefined {
  return trieGet(triesOf(state).peers, peerId);
}

/** The tombstone (leftAt, ms) of the departed peer `peerId`, or undefined. O(log n). */
export function departedAt(state: RoomState, peerId: string): number | undefined {
  return trieGet(triesOf(state).departed, peerId);
}

/** `"reconcile"` when `peerId`'s tombstone was written by a synthesised peer:left. O(log n). */
export function departedBySource(state: RoomState, peerId: string): 'reconcile' | undefined {
  return trieGet(triesOf(state).departedBy, peerId);
}

/** The peer `peerId` while it is reconnecting (left less than the grace ago), or undefined. O(log n). */
export function reconnectingOf(state: RoomState, peerId: string): ReconnectingPeer | undefined {
  return trieGet(triesOf(state).reconnecting, peerId);
}

/**
 * True when `event` is the peer:joined of a peer that left less than the presence grace before
 * it: a network blip, not an arrival (a "joined" toast skips it). Ask the state before the event.
 */
export function isRejoin(state: RoomState, event: RoomEvent): boolean {
  if (event.event !== 'peer:joined') return false;
  const t = triesOf(state);
  const { id, joinedAt } = event.payload;
  const peer = trieGet(t.reconnecting, id);
  return peer !== undefined && joinedAt > peer.leftAt && joinedAt < peer.leftAt + t.grace;
}

/**
 * The earliest time (ms, the events' clock) at which a reconnecting peer's grace may run out, or
 * undefined when nobody is reconnecting: when to call `settleRoom` next. O(1).
 */
export function graceEndsAt(state: RoomState): number | undefined {
  const t = triesOf(state);
  return t.reconnecting.size > 0 && t.expiries !== null ? t.expiries.at : undefined;
}

/** Number of tombstones (departed peers) the state keeps. O(1) for states from `reduceRoom`. */
export function departedCount(state: RoomState): number {
  const t = tries.get(state);
  return t !== undefined ? t.departed.size : Object.keys(state.departed).length;
}

/**
 * Folds one webhook event into the room state and returns the new state (the input is never
 * mutated; unchanged parts are shared). Events of another room are ignored (same object back).
 * `receivedAt` (ms), when given, only advances `updatedAt`; ordering decisions use the events'
 * own timestamps. Applying the same peer/meeting event twice equals applying it once.
 */
export function reduceRoom(state: RoomState, event: RoomEvent, receivedAt?: number): RoomState {
  // App events (`app:*`, app-events.ts) and names this version does not know leave the state
  // as it is: the state is Huddle01's room, nothing else.
  if (!KNOWN_EVENTS.has(event.event)) return state;
  // Track events carry no roomId; the caller routes them. Anything else must name this room.
  const roomId = (event.payload as { roomId?: unknown }).roomId;
  if (roomId !== undefined && roomId !== state.roomId) return state;

  const before = triesOf(state);
  let next = apply(before, event);
  let updatedAt = later(next.updatedAt, receivedAt);
  for (const time of eventTimes(event)) updatedAt = later(updatedAt, time);
  if (updatedAt !== next.updatedAt) next = { ...next, updatedAt };
  next = expire(next);
  return next === before ? state : stateOf(next);
}

/**
 * The state as of `now` (ms, in the events' clock): `updatedAt` moves up to `now` and every
 * reconnecting peer whose grace ran out by then is gone. The same state back when `now` is not
 * past `updatedAt`. O(log n) per peer that expires.
 */
export function settleRoom(state: RoomState, now: number): RoomState {
  const before = triesOf(state);
  const updatedAt = later(before.updatedAt, now);
  return updatedAt === before.updatedAt ? state : stateOf(expire({ ...before, updatedAt }));
}

/** Ends the grace of every reconnecting peer whose leave is `grace` before the clock. */
function expire(state: Tries): Tries {
  let { expiries, reconnecting } = state;
  while (expiries !== null && expiries.at <= state.updatedAt) {
    const peer = trieGet(reconnecting, expiries.id);
    // Stale entries (the peer rejoined, or left again later) are only dropped.
    if (peer !== undefined && peer.leftAt + state.grace === expiries.at) {
      reconnecting = trieDelete(reconnecting, expiries.id);
    }
    expiries = heapPop(expiries);
  }
  return expiries === state.expiries ? state : { ...state, expiries, reconnecting };
}

function apply(state: Tries, event: RoomEvent): Tries {
  switch (event.event) {
    case 'meeting:started': {
      const p = event.payload;
      return inSession(state, p.sessionId, p.createdAt, (s) => meetingStarted(s, p));
    }
    case 'meeting:ended': {
      const p = event.payload;
      return inSession(state, p.sessionId, p.createdAt, (s) => meetingEnded(s, p));
    }
    case 'peer:joined': {
      const p = event.payload;
      return inSession(state, p.sessionId, p.joinedAt, (s) => peerJoined(s, p));
    }
    case 'peer:left': {
      const p = event.payload;
      return inSession(state, p.sessionId, p.leftAt, (s) => peerLeft(s, p));
    }
    case 'peer:trackPublished':
    case 'peer:trackUnpublished':
      // No sessionId and no timestamp: they apply to the current session in arrival order.
      return track(state, event.payload.id, event.payload.track, event.event);
    case 'recording:started':
    case 'recording:updated': {
      const p = event.payload;
      const at = streamsStart(p.streams);
      return event.event === 'recording:started'
        ? inSession(state, p.sessionId, at, (s) => recordingStarted(s, p))
        : inSession(state, p.sessionId, at, (s) => recordingUpdated(s, p));
    }
    case 'recording:ended':
    case 'recording:stopped': {
      const p = event.payload;
      return inSession(state, p.sessionId, streamsStart(p.streams), (s) => recordingEnded(s, p));
    }
    case 'reconcile:media':
      return mediaCounted(state, event.payload);
  }
}

// ---------------------------------------------------------------------------------------------
// Sessions

/**
 * Positions the state on `sessionId` and runs `handle` there, or ignores the event.
 * `at` is the event's own timestamp (undefined when it has none).
 */
function inSession(
  state: Tries,
  sessionId: string | undefined,
  at: number | undefined,
  handle: (state: Tries) => Tries,
): Tries {
  const current = state.meeting.sessionId;
  // recording:stopped may omit its session: it can only be about the current one.
  if (sessionId === undefined) return handle(state);
  if (sessionId === current) {
    const earliestAt = state.meeting.earliestAt;
    if (at === undefined || (earliestAt !== undefined && earliestAt <= at)) return handle(state);
    return handle({ ...state, meeting: { ...state.meeting, earliestAt: at } });
  }
  // Checked after `current`: the current session is in pastSessions once it has ended, and its
  // late recording events (files are uploaded after the meeting) are still wanted.
  if (state.pastSessions.includes(sessionId)) return state;
  if (current !== undefined) {
    // Without a timestamp we cannot tell a newer session from an old unseen one: keep the
    // current session. The session is not marked past, so its timed events still count.
    if (at === undefined) return state;
    const earliestAt = state.meeting.earliestAt;
    if (earliestAt !== undefined && at < earliestAt) {
      return { ...state, pastSessions: remember(state.pastSessions, sessionId) };
    }
  }
  const meeting: MeetingState = { active: true, sessionId };
  if (at !== undefined) meeting.earliestAt = at;
  return handle({
    ...state,
    meeting,
    peers: emptyTrie(),
    departed: emptyTrie(),
    departedBy: emptyTrie(),
    reconnecting: emptyTrie(),
    expiries: null,
    recording: { active: false },
    pastSessions:
      current === undefined ? state.pastSessions : remember(state.pastSessions, current),
  });
}

/** True once the current session has ended: its peer and meeting events are then moot. */
function over(state: Tries): boolean {
  return state.meeting.endedAt !== undefined;
}

function meetingStarted(state: Tries, p: MeetingStartedPayload): Tries {
  // meeting:ended already set startedAt from its own createdAt; a late start must not reopen.
  if (over(state)) return state;
  const { meeting } = state;
  if (meeting.active && meeting.startedAt === p.createdAt && meeting.source === sourceOf(p)) {
    return state;
  }
  return { ...state, meeting: withSource({ ...meeting, active: true, startedAt: p.createdAt }, p) };
}

function meetingEnded(state: Tries, p: MeetingEndedPayload): Tries {
  if (over(state)) return state;
  const sessionId = state.meeting.sessionId ?? p.sessionId;
  // Everyone present leaves when the meeting ends; tombstones record it like a peer:left would.
  // O(peers), once per session: the events after it are all moot.
  let departed = state.departed;
  for (const id of trieKeys(state.peers)) {
    departed = trieSet(departed, id, Math.max(trieGet(departed, id) ?? p.endedAt, p.endedAt));
  }
  // Nothing records or streams in an ended session: its last counts would only mislead.
  const { media: _counts, ...meeting } = state.meeting;
  return {
    ...state,
    meeting: withSource(
      { ...meeting, active: false, startedAt: p.createdAt, endedAt: p.endedAt },
      p,
    ),
    peers: emptyTrie(),
    departed,
    // Nobody comes back to an ended meeting.
    reconnecting: emptyTrie(),
    expiries: null,
    recording: stopRecording(state.recording),
    pastSessions: remember(state.pastSessions, sessionId),
  };
}

// ---------------------------------------------------------------------------------------------
// Peers: per peer id, the join or leave with the largest timestamp wins (a leave wins a tie).

function peerJoined(state: Tries, p: PeerJoinedPayload): Tries {
  if (over(state)) return state;
  const leftAt = trieGet(state.departed, p.id);
  if (leftAt !== undefined && leftAt >= p.joinedAt) {
    // The start of the stay that leave ended, arriving late: the record a reconnecting peer shows.
    const known = trieGet(state.reconnecting, p.id);
    if (state.grace <= 0 || (known !== undefined && known.joinedAt >= p.joinedAt)) return state;
    return graced(state, toPeer(p, []), leftAt);
  }
  const present = trieGet(state.peers, p.id);
  if (present !== undefined && present.joinedAt > p.joinedAt) return state;
  // The same join twice keeps the tracks published since; a newer join is a fresh stay.
  const tracks = present !== undefined && present.joinedAt === p.joinedAt ? present.tracks : [];
  return withDepartedBy(
    {
      ...state,
      peers: trieSet(state.peers, p.id, toPeer(p, tracks)),
      // The present record's joinedAt now outranks the old tombstone, which would only be noise.
      departed: trieDelete(state.departed, p.id),
      reconnecting: trieDelete(state.reconnecting, p.id),
    },
    p.id,
    undefined,
  );
}

function peerLeft(state: Tries, p: PeerLeftPayload): Tries {
  if (over(state)) return state;
  const present = trieGet(state.peers, p.id);
  if (present !== undefined) {
    if (present.joinedAt > p.leftAt) return state; // the end of an older stay
    const gone: Tries = {
      ...state,
      peers: trieDelete(state.peers, p.id),
      departed: trieSet(state.departed, p.id, p.leftAt),
    };
    return withDepartedBy(graced(gone, present, p.leftAt), p.id, sourceOf(p));
  }
  const leftAt = trieGet(state.departed, p.id);
  if (leftAt !== undefined && leftAt >= p.leftAt) return state;
  const gone: Tries = { ...state, departed: trieSet(state.departed, p.id, p.leftAt) };
  // A later leave of a reconnecting peer (its rejoin between them not seen yet) moves its grace.
  const known = trieGet(state.reconnecting, p.id);
  const next = known === undefined ? gone : graced(gone, known, p.leftAt);
  return withDepartedBy(next, p.id, sourceOf(p));
}

/** `peer` reconnecting since `leftAt`, until the grace runs out (`expire`); off with no grace. */
function graced(state: Tries, peer: PeerState, leftAt: number): Tries {
  if (state.grace <= 0) return state;
  return {
    ...state,
    reconnecting: trieSet(state.reconnecting, peer.id, { ...peer, leftAt }),
    expiries: heapPush(state.expiries, leftAt + state.grace, peer.id),
  };
}

function toPeer(p: PeerJoinedPayload, tracks: string[]): PeerState {
  const peer: PeerState = { id: p.id, sessionId: p.sessionId, joinedAt: p.joinedAt, tracks };
  if (sourceOf(p) !== undefined) peer.source = RECONCILE_SOURCE;
  if (typeof p.role === 'string') peer.role = p.role;
  if (typeof p.metadata === 'string') peer.metadata = parseMetadata(p.metadata);
  const browser = pickStrings(p.browser, ['name', 'version']);
  if (browser !== undefined) peer.browser = browser;
  const device = pickStrings(p.device, ['model', 'type', 'vendor']);
  if (device !== undefined) peer.device = device;
  if (p.geoData !== undefined) {
    peer.geoData = { region: p.geoData.region, country: p.geoData.country };
  }
  return peer;
}

/** Huddle01 metadata is a string the SDK usually fills with JSON. */
function parseMetadata(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Copies the named string fields only: loose payload objects may carry anything else. */
function pickStrings<K extends string>(
  source: unknown,
  keys: readonly K[],
): Partial<Record<K, string>> | undefined {
  if (typeof source !== 'object' || source === null) return undefined;
  const picked: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value: unknown = Object.hasOwn(source, key)
      ? (source as Record<string, unknown>)[key]
      : undefined;
    if (typeof value === 'string') picked[key] = value;
  }
  return picked;
}

function track(
  state: Tries,
  id: string,
  label: string,
  event: 'peer:trackPublished' | 'peer:trackUnpublished',
): Tries {
  const present = trieGet(state.peers, id);
  if (present === undefined) return state;
  const has = present.tracks.includes(label);
  const publish = event === 'peer:trackPublished';
  if (has === publish) return state;
  const tracks = publish
    ? [...present.tracks, label].toSorted()
    : present.tracks.filter((t) => t !== label);
  return { ...state, peers: trieSet(state.peers, id, { ...present, tracks }) };
}

// ---------------------------------------------------------------------------------------------
// Recordings: no timestamps of their own, so arrival order, except that an ended id stays ended.

function recordingStarted(state: Tries, p: RecordingPayload): Tries {
  const rec = state.recording;
  const endedIds = rec.endedIds ?? [];
  if (endedIds.includes(p.id)) return state;
  // A room records one thing at a time: a new id means the previous recording is over.
  const replaced = rec.active && rec.id !== undefined && rec.id !== p.id;
  let ids = replaced && rec.id !== undefined ? remember(endedIds, rec.id) : endedIds;
  // After meeting:ended a late start is of a recording that is necessarily over too; remembering
  // it keeps a duplicate of this start from displacing a recording that arrived after it.
  const ended = over(state);
  if (ended) ids = remember(ids, p.id);
  const same = rec.id === p.id;
  return {
    ...state,
    recording: compact({
      active: !ended,
      id: p.id,
      files: [...p.files],
      streams: [...p.streams],
      cid: p.cid ?? (same ? rec.cid : undefined),
      ipfsUrl: p.ipfsUrl ?? (same ? rec.ipfsUrl : undefined),
      endedIds: ids,
    }),
  };
}

function recordingUpdated(state: Tries, p: RecordingPayload): Tries {
  const rec = state.recording;
  // An update for a recording we did not know is the first sign of it: treat it as its start.
  if (rec.id !== p.id) return recordingStarted(state, p);
  return {
    ...state,
    recording: compact({
      ...rec,
      files: [...p.files],
      streams: [...p.streams],
      cid: p.cid ?? rec.cid,
      ipfsUrl: p.ipfsUrl ?? rec.ipfsUrl,
    }),
  };
}

function recordingEnded(state: Tries, p: RecordingStoppedPayload): Tries {
  const rec = state.recording;
  const endedIds = remember(rec.endedIds ?? [], p.id);
  if (rec.id !== undefined && rec.id !== p.id) {
    // Another recording is the current one: only remember that this one is over.
    return endedIds === rec.endedIds ? state : { ...state, recording: { ...rec, endedIds } };
  }
  return {
    ...state,
    recording: compact({
      ...rec,
      active: false,
      id: p.id,
      files: p.files !== undefined ? [...p.files] : rec.files,
      streams: p.streams !== undefined ? [...p.streams] : rec.streams,
      cid: p.cid ?? rec.cid,
      ipfsUrl: p.ipfsUrl ?? rec.ipfsUrl,
      endedIds,
    }),
  };
}

function stopRecording(rec: RecordingState): RecordingState {
  if (!rec.active) return rec;
  if (rec.id === undefined) return { ...rec, active: false };
  return { ...rec, active: false, endedIds: remember(rec.endedIds ?? [], rec.id) };
}

/** The earliest stream start: the only timestamp a recording event carries. */
function streamsStart(streams: readonly RecordingStream[] | undefined): number | undefined {
  let earliest: number | undefined;
  for (const stream of streams ?? []) {
    if (
      Number.isFinite(stream.startedAt) &&
      (earliest === undefined || stream.startedAt < earliest)
    ) {
      earliest = stream.startedAt;
    }
  }
  return earliest;
}

/**
 * Huddle01's media counts of the current live session; only ever about the session the state
 * is in (it never starts or ends one), and an older observation never replaces a newer one.
 */
function mediaCounted(state: Tries, p: ReconcileMediaPayload): Tries {
  const { meeting } = state;
  if (p.sessionId !== meeting.sessionId || over(state)) return state;
  const known = meeting.media;
  if (known !== undefined && known.observedAt >= p.observedAt) return state;
  const media = {
    recordingCount: p.recordingCount,
    livestreamCount: p.livestreamCount,
    observedAt: p.observedAt,
  };
  return { ...state, meeting: { ...meeting, media } };
}

// ---------------------------------------------------------------------------------------------
// Reconcile marks: which facts came from synthesised events (see docs/reconcile.md)

/** `"reconcile"` when the payload was synthesised from Huddle01's live API, else undefined. */
function sourceOf(payload: object): 'reconcile' | undefined {
  return (payload as { source?: unknown }).source === RECONCILE_SOURCE
    ? RECONCILE_SOURCE
    : undefined;
}

/** The meeting marked with the payload's source (the mark removed for a real event). */
function withSource(meeting: MeetingState, payload: object): MeetingState {
  const source = sourceOf(payload);
  if (source !== undefined) return { ...meeting, source };
  if (meeting.source === undefined) return meeting;
  const { source: _dropped, ...rest } = meeting;
  return rest;
}

/** The state with `peerId`'s tombstone marked as synthesised, or unmarked (`undefined`). */
function withDepartedBy(state: Tries, peerId: string, source: 'reconcile' | undefined): Tries {
  const marks = state.departedBy;
  // An empty record is left out of the state (stateOf), so it looks as it always did.
  const next = source === undefined ? trieDelete(marks, peerId) : trieSet(marks, peerId, source);
  return next === marks ? state : { ...state, departedBy: next };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Every timestamp an event carries, for `updatedAt`. */
function eventTimes(event: RoomEvent): number[] {
  switch (event.event) {
    case 'meeting:started':
      return [event.payload.createdAt];
    case 'meeting:ended':
      return [event.payload.createdAt, event.payload.endedAt];
    case 'peer:joined':
      return [event.payload.joinedAt];
    case 'peer:left':
      return [event.payload.leftAt];
    case 'peer:trackPublished':
    case 'peer:trackUnpublished':
      return [];
    case 'recording:started':
    case 'recording:updated':
    case 'recording:ended':
    case 'recording:stopped':
      return (event.payload.streams ?? []).flatMap((s) => [s.startedAt, s.endedAt]);
    case 'reconcile:media':
      return [event.payload.observedAt];
  }
}

/** `time` when it is a finite number after `current`, else `current`. */
function later(current: number, time: number | undefined): number {
  // NaN would poison every later max(), so only finite numbers count.
  return time !== undefined && Number.isFinite(time) && time > current ? time : current;
}

/** Appends `item` once, keeping the MEMORY most recent; the same array when already there. */
function remember(list: readonly string[], item: string): string[] {
  if (list.includes(item)) return list as string[];
  const next = [...list, item];
  return next.length > MEMORY ? next.slice(next.length - MEMORY) : next;
}

/** Drops undefined fields and empty endedIds, so the state survives a JSON round trip as is. */
function compact(rec: RecordingState): RecordingState {
  const out: RecordingState = { active: rec.active };
  if (rec.id !== undefined) out.id = rec.id;
  if (rec.files !== undefined) out.files = rec.files;
  if (rec.streams !== undefined) out.streams = rec.streams;
  if (rec.cid !== undefined) out.cid = rec.cid;
  if (rec.ipfsUrl !== undefined) out.ipfsUrl = rec.ipfsUrl;
  if (rec.endedIds !== undefined && rec.endedIds.length > 0) out.endedIds = rec.endedIds;
  return out;
}
