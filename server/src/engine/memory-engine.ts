/**
 * MemoryEngine: the embedded default. Everything lives in this process: per-room logs with a
 * random epoch per incarnation (a restart or an eviction changes it), bounded history, the
 * dedup window, the peer→room index and the dead letters.
 */
import {
  emptyRoomState,
  isRedundantAfterReconcile,
  isTrackEvent,
  peerCount,
  reduceRoom,
} from '@roomcast/shared';
import type { Position, RoomState } from '@roomcast/shared';
import { createDedupWindow } from './dedup-window.ts';
import { newEpoch } from './epoch.ts';
import { notifySafely, unroutableLetter } from './entry-delivery.ts';
import { asEvent, isAppAppend } from './engine.ts';
import { createMemoryRoomIndex } from './memory-room-index.ts';
import { engineSettings } from './engine-config.ts';
import type { EngineConfig } from './engine-config.ts';
import { DEFAULT_CONFIG } from '../config.ts';
import type { RoomcastConfig } from '../config.ts';
import type {
  AnyAppendInput,
  AppendInput,
  AppendResult,
  DeadLetter,
  Engine,
  EntryListener,
  LogEntry,
  ReadResult,
  RoomSnapshot,
  RoomSummary,
} from './engine.ts';

/**
 * Options of the memory engine; every one has a default, the config option's of the same name
 * (`DEFAULT_CONFIG`): durations in ms.
 */
export interface MemoryEngineOptions
  extends Partial<EngineConfig>, Partial<Pick<RoomcastConfig, 'dedupMaxIds'>> {
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

interface Room {
  roomId: string;
  epoch: string;
  seq: number;
  state: RoomState;
  history: LogEntry[];
  listeners: Set<EntryListener>;
  /** Peers indexed to this room, removed from the index when the room is evicted. */
  peers: Set<string>;
  lastActivity: number;
}

interface HeldTrackEvent {
  input: AppendInput;
  timer: NodeJS.Timeout;
}

/** Creates the in-memory engine. */
export function createMemoryEngine(options: MemoryEngineOptions = {}): Engine {
  const {
    historySize,
    historyTtl,
    roomIdleTtl,
    dedupWindow,
    trackHold,
    deadLetterLimit,
    presenceGrace,
  } = engineSettings(options);
  const { dedupMaxIds = DEFAULT_CONFIG.dedupMaxIds, now = Date.now } = options;

  const rooms = new Map<string, Room>();
  /** Rooms with events, by last activity (what `listRooms` pages through). */
  const listed = createMemoryRoomIndex();
  const peerRooms = new Map<string, string>();
  const held = new Map<string, HeldTrackEvent[]>();
  const seenIds = createDedupWindow(dedupWindow, dedupMaxIds);
  const deadLetters: DeadLetter[] = [];
  const watchers = new Set<EntryListener>();
  /** Publish answers by idempotency id, bounded like the dedup window. */
  const remembered = new Map<string, { value: string; until: number }>();
  /** Entries committed but not fanned out yet, with the listeners they go to, in seq order. */
  let outbox: { entry: LogEntry; listeners: EntryListener[]; room: Room }[] = [];
  const letterWatchers = new Set<(letter: DeadLetter) => void>();
  let closed = false;

  const sweepTimer = setInterval(evictIdleRooms, Math.min(roomIdleTtl, 60_000));
  sweepTimer.unref();

  function roomOf(roomId: string): Room {
    let room = rooms.get(roomId);
    if (!room) {
      room = {
        roomId,
        epoch: newEpoch(),
        seq: 0,
        state: emptyRoomState(roomId, { presenceGrace }),
        history: [],
        listeners: new Set(),
        peers: new Set(),
        lastActivity: now(),
      };
      rooms.set(roomId, room);
    }
    return room;
  }

  function evictIdleRooms(): void {
    const cutoff = now() - roomIdleTtl;
    for (const room of rooms.values()) {
      // An empty room (seq 0) holds nothing worth keeping once nobody listens.
      if (room.listeners.size === 0 && (room.seq === 0 || room.lastActivity <= cutoff)) {
        for (const peerId of room.peers) {
          if (peerRooms.get(peerId) === room.roomId) peerRooms.delete(peerId);
        }
        rooms.delete(room.roomId);
        listed.delete(room.roomId);
      }
    }
  }

  /** Records an event; the room is listed from its first one on (seq 0 holds nothing). */
  function touch(room: Room, at: number): void {
    room.lastActivity = at;
    listed.set(room.roomId, at);
  }

  function summaryOf(room: Room, updatedAt: number): RoomSummary {
    return {
      roomId: room.roomId,
      epoch: room.epoch,
      seq: room.seq,
      peers: peerCount(room.state),
      meetingActive: room.state.meeting.active,
      recordingActive: room.state.recording.active,
      updatedAt,
    };
  }

  function trimHistory(room: Room, at: number): void {
    const oldestKept = at - historyTtl;
    let drop = Math.max(0, room.history.length - historySize);
    while (drop < room.history.length && room.history[drop]!.receivedAt < oldestKept) drop++;
    // Once full, every append drops one entry: shift() is O(1) in V8 where splice(0, 1) moves
    // the whole array (about 5 µs per append at 1000 entries).
    if (drop === 1) room.history.shift();
    else if (drop > 1) room.history.splice(0, drop);
  }

  function keepDeadLetter(letter: DeadLetter): void {
    deadLetters.unshift(letter);
    if (deadLetters.length > deadLetterLimit) deadLetters.length = deadLetterLimit;
  }

  function commit(room: Room, input: AnyAppendInput): LogEntry {
    const at = now();
    room.seq += 1;
    touch(room, at);
    room.state = reduceRoom(room.state, asEvent(input), input.receivedAt);
    const entry: LogEntry = {
      roomId: room.roomId,
      epoch: room.epoch,
      seq: room.seq,
      id: input.webhookId,
      event: input.event,
      payload: input.payload,
      receivedAt: input.receivedAt,
    };
    room.history.push(entry);
    trimHistory(room, at);
    fanOutLater(room, entry);
    return entry;
  }

  /**
   * Queues the entry for the room's listeners and the watchers, run after the webhook has its
   * answer: the 200 waits for the append (durable here once committed), not for the fan-out.
   * The listeners are the ones subscribed now: a later subscriber's snapshot or replay already
   * holds this entry.
   */
  function fanOutLater(room: Room, entry: LogEntry): void {
    if (outbox.length === 0) setImmediate(flush);
    outbox.push({ entry, listeners: [...room.listeners, ...watchers], room });
  }

  function flush(): void {
    const batch = outbox;
    outbox = [];
    for (const { entry, listeners, room } of batch) {
      for (const listener of listeners) {
        // One that stopped listening meanwhile gets nothing more.
        if (room.listeners.has(listener) || watchers.has(listener)) notifySafely(listener, entry);
      }
    }
  }

  function hold(peerId: string, input: AppendInput): void {
    const timer = setTimeout(() => {
      const queue = held.get(peerId);
      const index = queue?.findIndex((item) => item.input === input) ?? -1;
      if (queue && index >= 0) {
        queue.splice(index, 1);
        if (queue.length === 0) held.delete(peerId);
      }
      const letter = unroutableLetter(input, peerId, trackHold);
      keepDeadLetter(letter);
      for (const watcher of letterWatchers) watcher(letter);
    }, trackHold);
    timer.unref();
    const queue = held.get(peerId) ?? [];
    queue.push({ input, timer });
    held.set(peerId, queue);
  }

  function appendRouted(input: AnyAppendInput): AppendResult {
    if (isAppAppend(input)) {
      // An app event names its room, waits for nobody and leaves the state as it is.
      const entry = commit(roomOf(input.roomId), input);
      return { status: 'appended', roomId: entry.roomId, epoch: entry.epoch, seq: entry.seq };
    }
    let roomId: string | undefined;
    if (isTrackEvent(input.event)) {
      const peerId = (input.payload as { id: string }).id;
      roomId = peerRooms.get(peerId);
      if (roomId === undefined) {
        hold(peerId, input);
        return { status: 'held', peerId };
      }
    } else {
      roomId = (input.payload as { roomId: string }).roomId;
    }
    const room = roomOf(roomId);
    if (isRedundantAfterReconcile(room.state, asEvent(input))) {
      return { status: 'redundant', roomId: room.roomId };
    }
    const entry = commit(room, input);
    if (input.event === 'peer:joined') {
      const peerId = (input.payload as { id: string }).id;
      peerRooms.set(peerId, room.roomId);
      room.peers.add(peerId);
      releaseHeld(peerId, room);
    }
    return { status: 'appended', roomId: room.roomId, epoch: entry.epoch, seq: entry.seq };
  }

  function releaseHeld(peerId: string, room: Room): void {
    const queue = held.get(peerId);
    if (!queue) return;
    held.delete(peerId);
    for (const item of queue) {
      clearTimeout(item.timer);
      commit(room, item.input);
    }
  }

  function snapshotOf(room: Room): RoomSnapshot {
    return { roomId: room.roomId, epoch: room.epoch, seq: room.seq, state: room.state };
  }

  return {
    async append(input) {
      if (closed) throw new Error('engine closed');
      if (!seenIds.add(input.webhookId, now())) return { status: 'duplicate' };
      return appendRouted(input);
    },

    async subscribe(roomId, listener) {
      const room = roomOf(roomId);
      room.listeners.add(listener);
      return async () => {
        room.listeners.delete(listener);
        // Keeps the room from idle eviction a while longer; the list orders by events only.
        room.lastActivity = now();
      };
    },

    async read(roomId, since: Position): Promise<ReadResult> {
      const room = roomOf(roomId);
      trimHistory(room, now());
      const head = { epoch: room.epoch, seq: room.seq };
      if (since.epoch !== room.epoch || since.seq > room.seq) {
        return { recovered: false, snapshot: snapshotOf(room) };
      }
      if (since.seq === room.seq) return { recovered: true, entries: [], head };
      const first = room.history[0];
      if (!first || first.seq > since.seq + 1) {
        return { recovered: false, snapshot: snapshotOf(room) };
      }
      return { recovered: true, entries: room.history.slice(since.seq + 1 - first.seq), head };
    },

    async snapshot(roomId) {
      return snapshotOf(roomOf(roomId));
    },

    async seen(webhookId) {
      return seenIds.has(webhookId, now());
    },

    async listRooms(query) {
      const { keys, nextCursor } = listed.page(query);
      return {
        rooms: keys.map((key) => summaryOf(rooms.get(key.roomId)!, key.updatedAt)),
        nextCursor,
      };
    },

    async deadLetter(letter) {
      if (!seenIds.add(letter.webhookId, now())) return 'duplicate';
      keepDeadLetter(letter);
      return 'kept';
    },

    async deadLetters({ offset = 0, limit = deadLetters.length } = {}) {
      return deadLetters.slice(offset, offset + limit);
    },

    watch(listener) {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },

    async ping() {
      if (closed) throw new Error('engine closed');
    },

    async lease() {
      return true; // one process: nobody to share the room with
    },

    async remember(id, value, ms) {
      remembered.delete(id);
      remembered.set(id, { value, until: now() + ms });
      // Oldest first (Map order): drop what expired, and the oldest past the bound.
      for (const [key, kept] of remembered) {
        if (kept.until > now() && remembered.size <= dedupMaxIds) break;
        remembered.delete(key);
      }
    },

    async recall(id) {
      const kept = remembered.get(id);
      return kept && kept.until > now() ? kept.value : undefined;
    },

    roomCount() {
      return rooms.size;
    },

    watchDeadLetters(listener) {
      letterWatchers.add(listener);
      return () => letterWatchers.delete(listener);
    },

    async close() {
      closed = true;
      clearInterval(sweepTimer);
      for (const queue of held.values()) for (const item of queue) clearTimeout(item.timer);
      held.clear();
    },
  };
}
