/**
 * The Engine: the only stateful, shareable part of roomcast. It owns each room's log (seq,
 * epoch, bounded history), its state, the webhook dedup window, the peer→room index and the
 * dead letters. `MemoryEngine` is the embedded default; every engine passes one contract suite
 * (test/engine-contract.ts).
 */
import type {
  AppEventName,
  EventName,
  EventPayloads,
  Position,
  RoomEvent,
  RoomState,
  RoomSummary,
} from '@roomcast/shared';
import type { DurabilityReport } from './durability.ts';

/** The payload of an event by name: Huddle01's typed ones, an app event's JSON. */
export type PayloadOf<K extends EventName | AppEventName> = K extends EventName
  ? EventPayloads[K]
  : unknown;

/** One accepted event of a room's log: a Huddle01 webhook's, or an app event (`app:*`). */
export interface LogEntry<
  K extends EventName | AppEventName = EventName | AppEventName,
> extends Position {
  roomId: string;
  /** Webhook id, or an app event's idempotency id (the dedup key). */
  id: string;
  event: K;
  payload: PayloadOf<K>;
  /** When roomcast accepted it (ms). */
  receivedAt: number;
}

/** What the webhook route hands to `append`. */
export interface AppendInput<K extends EventName = EventName> {
  webhookId: string;
  event: K;
  payload: EventPayloads[K];
  receivedAt: number;
}

/**
 * What the publish route (and `app.roomcast.publish`) hands to `append`: an app event names its
 * room itself, and never changes the room state.
 */
export interface AppAppendInput {
  /** `app:<room>:<idempotency key>`, or a random id when the publisher gave none. */
  webhookId: string;
  event: AppEventName;
  payload: unknown;
  receivedAt: number;
  roomId: string;
}

/** Anything `append` takes. */
export type AnyAppendInput = AppendInput | AppAppendInput;

/** True for an app event's append. */
export function isAppAppend(input: AnyAppendInput): input is AppAppendInput {
  return input.event.startsWith('app:');
}

/** The `{event, payload}` pair of an append, as the reducer takes it. */
export function asEvent(input: AnyAppendInput): RoomEvent {
  // AppendInput keeps name and payload apart; they always belong together.
  return { event: input.event, payload: input.payload } as RoomEvent;
}

/** The outcome of `append`. */
export type AppendResult =
  /** In the room's log at `seq`. */
  | { status: 'appended'; roomId: string; epoch: string; seq: number }
  /** The webhook id was seen within the dedup window; nothing changed. */
  | { status: 'duplicate' }
  /**
   * Reconcile already made this change (or a real webhook made the synthesised one moot): the
   * id enters the dedup window, nothing is appended or broadcast (see shared/src/redundancy.ts).
   */
  | { status: 'redundant'; roomId: string }
  /** A track event whose peer is not known yet; it waits for the peer's peer:joined. */
  | { status: 'held'; peerId: string };

/** A room's state at a position of its log. */
export interface RoomSnapshot extends Position {
  roomId: string;
  state: RoomState;
}

/** The outcome of `read`: the missed entries, or a snapshot when they are not all in history. */
export type ReadResult =
  | { recovered: true; entries: LogEntry[]; head: Position }
  | { recovered: false; snapshot: RoomSnapshot };

/** One line of `GET /rooms` and of the rooms feed (its one owner is @roomcast/shared). */
export type { RoomSummary };

/**
 * Where a page of `listRooms` ended: the last room it listed. Rooms are ordered by `updatedAt`
 * descending, then by room id descending; a page resumes strictly after this key, so a room whose
 * activity did not change meanwhile is listed exactly once over all pages, and one that moved (new
 * activity) is listed again among the newest only by a new first page.
 */
export interface RoomCursor {
  updatedAt: number;
  roomId: string;
}

/** Which page `listRooms` reads. */
export interface RoomListQuery {
  /** Rooms per page, at least 1 (`GET /rooms` caps it: room-routes.ts). */
  limit: number;
  /** The previous page's `nextCursor`; absent: from the newest room. */
  cursor?: RoomCursor;
  /** Only rooms active after this time (ms, exclusive): how the rooms feed reads changes. */
  after?: number;
}

/** One page of rooms, newest activity first. */
export interface RoomListPage {
  rooms: RoomSummary[];
  /** Where the next page starts; null when this page reached the end. */
  nextCursor: RoomCursor | null;
}

/** An authentic webhook that could not be put in any room's log. */
export interface DeadLetter {
  webhookId: string;
  event: string;
  reason: 'UNKNOWN_EVENT' | 'INVALID_PAYLOAD' | 'UNROUTABLE';
  detail: string;
  receivedAt: number;
  /** The webhook body, when its JSON is at most 1 KiB (see `compactDeadLetter`). */
  body?: unknown;
  /** The first KiB of the body's JSON, when it is longer (then `body` is absent). */
  bodyExcerpt?: string;
  /** Size of the body's JSON, bytes. */
  bodyBytes?: number;
}

/** A page of dead letters: `offset` from the newest, at most `limit`. */
export interface DeadLetterPage {
  offset?: number;
  limit?: number;
}

/** Called for each entry of a room's log, in seq order. */
export type EntryListener = (entry: LogEntry) => void;

/** The engine seam (see DESIGN.md: "Core seams"). */
export interface Engine {
  /** Dedup, route (track events through the peer→room index), assign seq, fold, store, publish. */
  append(input: AnyAppendInput): Promise<AppendResult>;
  /** Listens to a room's new entries; resolves once listening (so no entry after it is missed). */
  subscribe(roomId: string, listener: EntryListener): Promise<() => Promise<void>>;
  /** Entries after `since`, or a snapshot when `since` is of another epoch or out of history. */
  read(roomId: string, since: Position): Promise<ReadResult>;
  /** The room's current state and position (an empty state at seq 0 for an unknown room). */
  snapshot(roomId: string): Promise<RoomSnapshot>;
  /** True when the webhook id is inside the dedup window. */
  seen(webhookId: string): Promise<boolean>;
  /**
   * One page of the rooms that hold state, newest activity first: O(page) work per call (an
   * activity-ordered index in both engines, never a sort of every room).
   */
  listRooms(query: RoomListQuery): Promise<RoomListPage>;
  /**
   * Keeps an authentic webhook that has no room (bounded list). Its id enters the dedup window
   * like an appended one, so a retry is answered as a duplicate and not kept twice.
   */
  deadLetter(letter: DeadLetter): Promise<'kept' | 'duplicate'>;
  /** The dead letters, newest first (a page of them, when asked). */
  deadLetters(page?: DeadLetterPage): Promise<DeadLetter[]>;
  /**
   * Calls `listener` for every entry this node appends (including held track events released
   * later), in append order: the server-side event hook. Returns a function that stops it.
   */
  watch(listener: EntryListener): () => void;
  /** Resolves when the engine can append (readiness). */
  ping(): Promise<void>;
  /**
   * Tries to take the room's reconcile lease for `ms`: true when this node holds it now. Engines
   * shared by several nodes grant it to one node at a time (it is never released early: it
   * lapses); a single-node engine always grants it. Optional: without it, always granted.
   */
  lease?(roomId: string, ms: number): Promise<boolean>;
  /**
   * Keeps a publish's first answer under its idempotency id for `ms`, shared by every node, so a
   * repeat answers it again (see publish/app-events.ts). Optional: without it, a repeat is still
   * recognised (by the dedup window) but answered without its seq.
   */
  remember?(id: string, value: string, ms: number): Promise<void>;
  /** The value `remember` kept under `id`, if still there. */
  recall?(id: string): Promise<string | undefined>;
  /**
   * Records this node's subscriber count per room (0 withdraws it); a count not reported again
   * within about 45 s lapses (a node that died). Engines shared by several nodes implement it
   * with `occupancy`; without them, each node's own counts are the totals (hub/occupancy.ts).
   */
  reportOccupancy?(counts: ReadonlyMap<string, number>): Promise<void>;
  /** Subscriber totals per room over every node that reports to this engine. */
  occupancy?(roomIds: readonly string[]): Promise<Map<string, number>>;
  /**
   * Calls `listener` for each dead letter the engine makes on its own: a held track event
   * whose peer never joined (UNROUTABLE), on the node that held it. Returns a function that
   * stops it. Optional.
   */
  watchDeadLetters?(listener: (letter: DeadLetter) => void): () => void;
  /**
   * The storage's persistence and eviction settings and what they risk (durability.ts).
   * Optional: the in-memory engine keeps nothing across a restart by design and has none.
   */
  durability?(): Promise<DurabilityReport>;
  /**
   * Rooms whose state this process holds in memory (subscribed or not, until they are evicted
   * as idle). Optional: an engine that keeps rooms elsewhere (Redis) has none to count.
   */
  roomCount?(): number;
  /** Releases timers and connections. */
  close(): Promise<void>;
}

/** Raised by an engine that cannot append right now (the webhook answers 503). */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
}

/**
 * Every listed room, newest activity first, read page by page: for the reconciler's sweep and
 * `app.roomcast.rooms()`, which want them all (O(rooms), unlike one page of `GET /rooms`).
 */
export async function allRooms(engine: Engine, pageSize = 500): Promise<RoomSummary[]> {
  const rooms: RoomSummary[] = [];
  let cursor: RoomCursor | undefined;
  do {
    const page = await engine.listRooms(cursor ? { limit: pageSize, cursor } : { limit: pageSize });
    rooms.push(...page.rooms);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return rooms;
}
