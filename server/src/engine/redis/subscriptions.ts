/**
 * The node's room subscriptions over Redis pub/sub. A node listens to a room's channel only
 * while it has local listeners. Pub/sub drops messages while a connection is down, so every
 * room keeps the position it delivered last and fills a gap from the room's stream before
 * delivering: on a seq jump, and after every reconnect (a node never silently stops
 * delivering, which is the known failure of adapters that trust pub/sub alone). The catch-up
 * reads after a reconnect go through a limiter (limiter.ts): a bounded number in flight.
 */
import type { EntryListener, LogEntry } from '../engine.ts';
import { decodeMessage, decodeStream } from './codec.ts';
import type { ConnectionGate } from './connection.ts';
import type { KeyLayout, RoomKeys } from './keys.ts';
import { createLimiter } from './limiter.ts';
import type { Limiter } from './limiter.ts';
import type { PubSub } from './pubsub.ts';
import type { Scripts } from './scripts.ts';

/** Options of the subscription manager. */
export interface SubscriptionsOptions {
  pubsub: PubSub;
  subscriberGate: ConnectionGate;
  /** Gate of the command connection (stream reads). */
  commandGate: ConnectionGate;
  scripts: Scripts;
  keys: KeyLayout;
  historySize: number;
  roomIdleTtl: number;
  newEpoch: () => string;
  /** Catch-up reads in flight at once after a reconnect. Default 64. */
  catchUpConcurrency?: number;
  onError: (error: unknown) => void;
}

/** Subscribes listeners to rooms. */
export interface Subscriptions {
  subscribe(roomId: string, listener: EntryListener): Promise<() => Promise<void>>;
  /** Rooms this node listens to (for tests and metrics). */
  readonly size: number;
  /** The limiter of the catch-up reads (for tests and the bench). */
  readonly catchUps: Limiter;
  close(): void;
}

type Task = { kind: 'start' } | { kind: 'entry'; entry: LogEntry } | { kind: 'catch-up' };

interface RoomSubscription {
  roomId: string;
  keys: RoomKeys;
  listeners: Set<{ listener: EntryListener }>;
  /** subscribe() calls waiting for `ready`; the room is not given up while there are any. */
  waiting: number;
  ready: Promise<void>;
  /** Position delivered last (set by the start task). */
  epoch: string | undefined;
  seq: number;
  /** Epochs this room left behind: a late message of one of them is stale. */
  retired: string[];
  tasks: Task[];
  running: boolean;
  closed: boolean;
  retryTimer: NodeJS.Timeout | undefined;
}

/** How long to wait before retrying a catch-up that failed (Redis still away). */
const CATCH_UP_RETRY_MS = 1000;

/** Longest wait for the command connection before the catch-ups start anyway, ms. */
const RESUBSCRIBE_WAIT_MS = 5000;

/** Creates the subscription manager. */
export function createSubscriptions(options: SubscriptionsOptions): Subscriptions {
  const { pubsub, scripts, keys, historySize, roomIdleTtl, newEpoch } = options;
  const rooms = new Map<string, RoomSubscription>();
  const byChannel = new Map<string, RoomSubscription>();
  const catchUps = createLimiter(options.catchUpConcurrency ?? 64);
  let closed = false;

  pubsub.onMessage((channel, message) => {
    const room = byChannel.get(channel);
    const entry = room && decodeMessage(room.roomId, message);
    if (room && entry) push(room, { kind: 'entry', entry });
  });

  pubsub.onResubscribed(() => {
    if (rooms.size === 0) return;
    // The reads go over the command connection, which reconnects on its own: wait for it
    // (a read refused meanwhile would only be retried a second later).
    void options.commandGate.settled(RESUBSCRIBE_WAIT_MS).then(() => {
      // Each room's catch-up waits in its own queue (after the entries before it); the reads
      // themselves take turns in the limiter.
      for (const room of rooms.values()) push(room, { kind: 'catch-up' });
    });
  });

  function push(room: RoomSubscription, task: Task): void {
    if (room.closed) return;
    room.tasks.push(task);
    if (!room.running) void run(room);
  }

  /** Runs the room's tasks one at a time: deliveries stay in order across awaits. */
  async function run(room: RoomSubscription): Promise<void> {
    room.running = true;
    while (!room.closed) {
      const task = room.tasks.shift();
      if (!task) break;
      try {
        if (task.kind === 'entry') await accept(room, task.entry);
        else if (task.kind === 'catch-up') await catchUps.run(() => catchUp(room));
      } catch (error) {
        options.onError(error);
      }
    }
    room.running = false;
  }

  function deliver(room: RoomSubscription, entry: LogEntry): void {
    if (room.epoch !== undefined && entry.epoch !== room.epoch) {
      room.retired.push(room.epoch);
      if (room.retired.length > 8) room.retired.shift();
    }
    room.epoch = entry.epoch;
    room.seq = entry.seq;
    for (const { listener } of room.listeners) {
      try {
        listener(entry);
      } catch {
        // A failing listener must not stop the room or the other listeners.
      }
    }
  }

  async function accept(room: RoomSubscription, entry: LogEntry): Promise<void> {
    if (room.retired.includes(entry.epoch)) return;
    if (entry.epoch === room.epoch && entry.seq <= room.seq) return; // a fill got there first
    if (entry.seq > after(room, entry.epoch) + 1) {
      try {
        await fill(room, entry.epoch, entry.seq - 1);
      } catch (error) {
        options.onError(error);
      }
    }
    if (entry.epoch === room.epoch && entry.seq <= room.seq) return;
    // Next in line, or past a gap the stream could not fill, or of another epoch: delivered
    // either way (the Hub resyncs its subscribers on a gap or another epoch).
    deliver(room, entry);
  }

  /** The seq delivered last in `epoch` (0 when the room is not in that epoch yet). */
  function after(room: RoomSubscription, epoch: string): number {
    return room.epoch === epoch ? room.seq : 0;
  }

  /** Delivers from the stream the entries of `epoch` after the room's position, up to `upTo`. */
  async function fill(room: RoomSubscription, epoch: string, upTo = Infinity): Promise<void> {
    const reply = await scripts.read(room.keys, {
      from: after(room, epoch) + 1,
      max: historySize,
      roomIdleTtl,
    });
    if (!reply || reply.epoch !== epoch) return;
    for (const entry of decodeStream(room.roomId, epoch, reply.entries)) {
      if (entry.seq > after(room, epoch) && entry.seq <= upTo) deliver(room, entry);
    }
  }

  /** After a reconnect: deliver what was published while the connection was down. */
  async function catchUp(room: RoomSubscription): Promise<void> {
    try {
      // One read: the head and, in the usual case (same epoch, moved on), the missed entries.
      const head = await scripts.read(room.keys, {
        from: room.seq + 1,
        max: historySize,
        roomIdleTtl,
      });
      // Gone (its next entry starts a new epoch and is delivered), or nothing missed.
      if (!head || (head.epoch === room.epoch && head.seq === room.seq)) return;
      if (head.epoch === room.epoch && head.seq > room.seq) {
        for (const entry of decodeStream(room.roomId, head.epoch, head.entries)) {
          if (entry.seq > after(room, head.epoch)) deliver(room, entry);
        }
        return;
      }
      if (head.epoch !== room.epoch) {
        // Missed entries of this epoch, or a new epoch (Redis lost the room): from its start.
        await fill(room, head.epoch);
        return;
      }
      // Same epoch but behind what this node delivered: Redis came back from an older copy
      // (a snapshot, a failover), so the positions subscribers hold mean nothing any more. A
      // new epoch, and its latest entry delivered now, make them resync at once.
      await scripts.bumpEpoch(room.keys, head.epoch, newEpoch());
      const latest = await scripts.read(room.keys, { from: head.seq, max: 1, roomIdleTtl });
      const entry = latest && decodeStream(room.roomId, latest.epoch, latest.entries).at(-1);
      if (entry && entry.epoch !== room.epoch) deliver(room, entry);
    } catch (error) {
      options.onError(error);
      scheduleCatchUp(room);
    }
  }

  function scheduleCatchUp(room: RoomSubscription): void {
    if (room.closed || room.retryTimer) return;
    room.retryTimer = setTimeout(() => {
      room.retryTimer = undefined;
      push(room, { kind: 'catch-up' });
    }, CATCH_UP_RETRY_MS);
    room.retryTimer.unref();
  }

  async function start(room: RoomSubscription): Promise<void> {
    await Promise.all([options.subscriberGate.ready(), options.commandGate.ready()]);
    await pubsub.listen(room.keys.channel);
    // The position after the SUBSCRIBE took effect: everything later comes as a message (or
    // is filled from the stream). Creating the room here gives it its epoch now.
    const head = await scripts.read(room.keys, { newEpoch: newEpoch(), roomIdleTtl });
    if (!head) throw new Error(`room ${room.roomId} could not be created`);
    room.epoch = head.epoch;
    room.seq = head.seq;
  }

  function open(roomId: string): RoomSubscription {
    const room: RoomSubscription = {
      roomId,
      keys: keys.room(roomId),
      listeners: new Set(),
      waiting: 0,
      ready: Promise.resolve(),
      epoch: undefined,
      seq: 0,
      retired: [],
      tasks: [],
      running: true,
      closed: false,
      retryTimer: undefined,
    };
    rooms.set(roomId, room);
    byChannel.set(room.keys.channel, room);
    // The start runs before any message of the room is looked at: messages that arrive while
    // it runs wait in `tasks`, and those at or before its position are dropped.
    room.ready = start(room).then(
      () => void run(room),
      (error: unknown) => {
        give(room);
        throw error;
      },
    );
    return room;
  }

  /** Stops listening to a room with no listener left. */
  function give(room: RoomSubscription): void {
    if (room.closed) return;
    room.closed = true;
    clearTimeout(room.retryTimer);
    if (rooms.get(room.roomId) === room) rooms.delete(room.roomId);
    if (byChannel.get(room.keys.channel) === room) byChannel.delete(room.keys.channel);
    // Not awaited: while Redis is away the UNSUBSCRIBE waits in the queue (sent after the
    // resubscription), and closing a room must not hang on it.
    pubsub.unlisten(room.keys.channel).catch(() => undefined);
  }

  return {
    async subscribe(roomId, listener) {
      if (closed) throw new Error('engine closed');
      const room = rooms.get(roomId) ?? open(roomId);
      room.waiting++;
      try {
        await room.ready;
      } finally {
        room.waiting--;
      }
      const handle = { listener };
      room.listeners.add(handle);
      let stopped = false;
      return async () => {
        if (stopped) return;
        stopped = true;
        room.listeners.delete(handle);
        if (room.listeners.size === 0 && room.waiting === 0) give(room);
      };
    },
    get size() {
      return rooms.size;
    },
    catchUps,
    close() {
      closed = true;
      for (const room of [...rooms.values()]) {
        room.closed = true;
        clearTimeout(room.retryTimer);
      }
      rooms.clear();
      byChannel.clear();
    },
  };
}
