/**
 * One room as the app sees it: its state (kept with the shared reducer), its typed event
 * handlers, and its status. Fed by a transport; never delivers an event twice.
 */
import type { ErrorCode } from '@roomcast/shared/codes';
import {
  emptyRoomState,
  graceEndsAt,
  isRejoin,
  reduceRoom,
  settleRoom,
} from '@roomcast/shared/room-state';
import type { RoomState } from '@roomcast/shared/room-state';
import type {
  EventName,
  EventPayloads,
  HistoryPage,
  RoomEvent,
  ServerFrame,
} from '@roomcast/shared';

const FORBIDDEN: typeof ErrorCode.FORBIDDEN = 'FORBIDDEN';

/** A room subscription's status. */
export type RoomStatus = 'connecting' | 'live' | 'resyncing' | 'closed';

/** What comes with each event: its position in the room log and its webhook id. */
export interface EventMeta {
  room: string;
  epoch: string;
  seq: number;
  id: string;
  /**
   * On a peer:joined: true when the peer left less than the presence grace before (a network
   * blip; the state showed it `reconnecting`), so a "joined" toast can skip it.
   */
  rejoin?: true;
}

/** An event as handed to `on('*')` and kept as `lastEvent`. */
export type AnyEvent = {
  [K in EventName]: { event: K; payload: EventPayloads[K]; meta: EventMeta };
}[EventName];

/**
 * Your app's own events (`POST /rooms/:roomId/publish`), by name, with their payload types:
 * `createClient<{ 'app:hand-raised': { peerId: string } }>(…)` types `room.on('app:hand-raised', …)`.
 */
export type AppEventMap = { [name: `app:${string}`]: unknown };

/** Options of `client.room(id, options)`. */
export interface RoomOptions {
  /** Also receive who watches the room (`room.occupancy`, `on('occupancy')`). Default false. */
  occupancy?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one store for every handler shape
type Handler = (...args: any[]) => void;

/** A subscription to one room. */
export interface Room<A extends AppEventMap = AppEventMap> {
  readonly id: string;
  /** The room state; undefined until the first snapshot. */
  readonly state: RoomState | undefined;
  readonly status: RoomStatus;
  /** True when the last (re)subscribe replayed what was missed without a snapshot. */
  readonly recovered: boolean;
  readonly lastEvent: AnyEvent | undefined;
  /** Subscribers watching the room (WS + SSE, all nodes), once told; needs `{ occupancy: true }`. */
  readonly occupancy: number | undefined;
  /** The position held, `<epoch>:<seq>` (what a resume starts after); undefined before the first snapshot. */
  since(): string | undefined;
  /** Typed event handler: `on('peer:joined', (payload, meta) => …)`; returns an unsubscribe. */
  on<K extends EventName>(
    name: K,
    handler: (payload: EventPayloads[K], meta: EventMeta) => void,
  ): () => void;
  /** An app event (`app:<name>`), typed by the client's `AppEventMap`. */
  on<K extends keyof A & `app:${string}`>(
    name: K,
    handler: (payload: A[K], meta: EventMeta) => void,
  ): () => void;
  /** Every event. */
  on(name: '*', handler: (event: AnyEvent) => void): () => void;
  /** How many subscribers watch the room, all nodes (rooms opened with `{ occupancy: true }`). */
  on(name: 'occupancy', handler: (subscribers: number) => void): () => void;
  /** Status changes (old → new). */
  on(name: 'status', handler: (status: RoomStatus, previous: RoomStatus) => void): () => void;
  /** A snapshot replaced the state after a gap that could not be replayed. */
  on(name: 'resync', handler: (state: RoomState) => void): () => void;
  /** A room-level error frame (e.g. FORBIDDEN). */
  on(name: 'error', handler: (error: { code: ErrorCode; message: string }) => void): () => void;
  /**
   * The room's retained events, newest last (`GET /rooms/:roomId/history`): `limit` of them
   * at most (default 100; the server keeps `ROOMCAST_HISTORY_SIZE`, 1000 by default).
   */
  history(options?: { limit?: number }): Promise<HistoryPage>;
  /** For React's useSyncExternalStore: the current state. */
  getSnapshot(): RoomState | undefined;
  /** For React's useSyncExternalStore: called on any change of state, status or lastEvent. */
  subscribe(listener: () => void): () => void;
  /**
   * Lets go of this room: each `client.room(id)` counts one holder, each `close()` releases
   * one; the subscription ends (status `closed`) a moment after the last holder lets go, so
   * React Strict Mode's unmount-and-mount keeps it.
   */
  close(): void;
}

/** A room's state at a position, as a cache keeps it. */
export interface CachedRoom {
  /** `<epoch>:<seq>`. */
  since: string;
  state: RoomState;
}

/** The server frames that concern one room. */
export type RoomFrame = Exclude<ServerFrame, { type: 'heartbeat' | 'rooms' }>;

/** The transport's side of a room. */
export interface RoomFeed extends Room {
  /** Whether a holder asked for occupancy frames. */
  wantsOccupancy: boolean;
  /** Starts from a cached state: shown at once; the subscription resumes after its position. */
  restore(cached: CachedRoom): void;
  /** A frame of this room (never a heartbeat or a rooms-feed frame: the client keeps those). */
  applyFrame(frame: RoomFrame): void;
  setStatus(status: RoomStatus): void;
}

/** What a room asks of its client. */
export interface RoomHost {
  /** A holder let go (the client counts them). */
  release(room: RoomFeed): void;
  /** The server refused the room: it is gone. */
  refused(room: RoomFeed): void;
  history(room: string, limit: number): Promise<HistoryPage>;
}

/** Creates a room fed by a transport. */
export function createRoom(id: string, host: RoomHost, options: RoomOptions = {}): RoomFeed {
  const handlers = new Map<string, Set<Handler>>();
  const listeners = new Set<() => void>();
  let state: RoomState | undefined;
  let status: RoomStatus = 'connecting';
  let recovered = false;
  let lastEvent: AnyEvent | undefined;
  let occupancy: number | undefined;
  let epoch: string | undefined;
  let seq = 0;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  let graceEndsFor: number | undefined;

  const emit = (name: string, ...args: unknown[]) => {
    for (const handler of handlers.get(name) ?? []) (handler as (...a: unknown[]) => void)(...args);
  };
  const changed = () => {
    // A reconnecting peer is gone once its grace runs out, event or not. The delay is measured
    // on the state's own clock (event times), so a skewed local clock does not shorten it.
    const endsAt = status === 'closed' || !state ? undefined : graceEndsAt(state);
    if (endsAt !== graceEndsFor) {
      clearTimeout(graceTimer);
      graceEndsFor = endsAt;
      if (endsAt !== undefined) {
        const settle = () => {
          graceEndsFor = undefined;
          state = settleRoom(state!, endsAt);
          changed();
        };
        graceTimer = setTimeout(settle, Math.max(0, endsAt - state!.updatedAt));
      }
    }
    for (const listener of listeners) listener();
  };

  /** The one place status changes: emits old → new. */
  function setStatus(next: RoomStatus) {
    if (next === status) return;
    const previous = status;
    status = next;
    emit('status', next, previous);
    changed();
  }

  const room: RoomFeed = {
    id,
    get state() {
      return state;
    },
    get status() {
      return status;
    },
    get recovered() {
      return recovered;
    },
    get lastEvent() {
      return lastEvent;
    },
    get occupancy() {
      return occupancy;
    },
    wantsOccupancy: options.occupancy === true,
    on(name: string, handler: Handler) {
      const set = handlers.get(name) ?? new Set();
      handlers.set(name, set.add(handler));
      return () => void set.delete(handler);
    },
    getSnapshot: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    history: (options) => host.history(id, options?.limit ?? 100),
    close: () => host.release(room),
    since: () => (epoch === undefined ? undefined : `${epoch}:${seq}`),
    restore(cached) {
      const colon = cached.since.lastIndexOf(':');
      epoch = cached.since.slice(0, colon);
      seq = Number(cached.since.slice(colon + 1));
      state = cached.state;
      changed();
    },
    setStatus,
    applyFrame(frame) {
      if (status === 'closed') return;
      if (frame.type === 'snapshot') {
        const resync = epoch !== undefined;
        if (resync) setStatus('resyncing');
        epoch = frame.epoch;
        seq = frame.seq;
        state = frame.state;
        recovered = false;
        if (resync) emit('resync', state);
        changed();
      } else if (frame.type === 'event') {
        // Exactly once: anything at or before the held position was delivered already.
        if (frame.epoch !== epoch || frame.seq <= seq) return;
        seq = frame.seq;
        const meta: EventMeta = { room: id, epoch, seq, id: frame.id };
        const event = { event: frame.event, payload: frame.payload, meta } as AnyEvent;
        const before = state ?? emptyRoomState(id);
        if (isRejoin(before, event as unknown as RoomEvent)) meta.rejoin = true;
        state = reduceRoom(before, event as unknown as RoomEvent);
        lastEvent = event;
        emit(event.event, event.payload, meta);
        emit('*', event);
        changed();
      } else if (frame.type === 'occupancy') {
        occupancy = frame.subscribers;
        emit('occupancy', occupancy);
        changed();
      } else if (frame.type === 'subscribed') {
        recovered = frame.recovered;
        setStatus('live');
      } else if (frame.type === 'error') {
        if (frame.code === FORBIDDEN) {
          setStatus('closed');
          host.refused(room);
        }
        emit('error', { code: frame.code, message: frame.message });
      }
    },
  };
  return room;
}
