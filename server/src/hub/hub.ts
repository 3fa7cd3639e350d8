/**
 * Hub (one per node): local rooms → subscriptions. It subscribes to the Engine when a room gets
 * its first local subscriber and unsubscribes after its last; it serializes each entry once per
 * room; it joins snapshot or replay to the live stream with no gap and no duplicate. A room's
 * snapshot is read and serialized once per position, however many subscribers need it at once
 * (a popular room at the start of a meeting, a resync after a gap or a new epoch).
 */
import { ErrorCode } from '@roomcast/shared';
import type { Position } from '@roomcast/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Engine, LogEntry, ReadResult, RoomSnapshot } from '../engine/engine.ts';
import type { Connection } from './connection.ts';
import { errorFrame, eventFrame, snapshotFrame, subscribedFrame } from './frames.ts';
import type { OutgoingFrame } from './frames.ts';
import { createOccupancy } from './occupancy.ts';
import type { Occupancy, OccupancyWatcher } from './occupancy.ts';

/** One connection's subscription to one room. */
export interface Subscription {
  readonly roomId: string;
  readonly connection: Connection;
  /** Position held by the subscriber (last frame sent); undefined until the first frame. */
  position: Position | undefined;
  /** Live entries that arrived while the snapshot or replay was being fetched. */
  pending: LogEntry[] | undefined;
  /** The channel's entry count when `pending` started collecting (see `sharedSnapshot`). */
  collectingFrom: number;
  closed: boolean;
  /** Set when the subscriber asked for occupancy frames. */
  watcher?: OccupancyWatcher;
}

/** Options of one subscription. */
export interface SubscribeOptions {
  /** Send `{type:"occupancy", room, subscribers}` frames (at most one a second). */
  occupancy?: boolean;
}

/** A snapshot read of one room, shared by the subscriptions that can use it. */
interface SnapshotRead {
  /** The channel's entry count when the read started: the snapshot holds at least those. */
  from: number;
  frame: Promise<OutgoingFrame>;
}

interface Channel {
  roomId: string;
  subscriptions: Set<Subscription>;
  /** Resolves to the engine unsubscribe function once the channel listens. */
  listening: Promise<() => Promise<void>>;
  /** Live entries this channel received so far. */
  entries: number;
  /** The latest snapshot read (in flight or done), while no entry came after it. */
  snapshot: SnapshotRead | undefined;
  /** The latest serialized snapshot frame, reused for another read at the same position. */
  lastFrame: OutgoingFrame | undefined;
  /** Resume reads by position (`epoch:seq`), while no entry came after they started. */
  reads: Map<string, SharedRead>;
}

/**
 * A resume read of one room from one position, shared by the subscriptions that resume from
 * there at once (a restarted node's subscribers of a room all hold about the same position).
 */
interface SharedRead {
  /** The channel's entry count when the read started (as `SnapshotRead.from`). */
  from: number;
  result: Promise<ReadResult>;
  /**
   * The replayed entries' event frames, by index in the result, made by the first subscription
   * that sends each. They live as long as the read (not as the entries, which history keeps).
   */
  frames: OutgoingFrame[];
}

/**
 * Live entries a starting subscription may hold while its snapshot or replay is written, before
 * the subscriber counts as too slow for the room (an array of references: entries are shared).
 */
const MAX_PENDING = 10_000;

/** Counters the hub keeps (exported as metrics later). */
export interface HubStats {
  /** Subscriptions currently open on this node. */
  subscriptions: number;
  deliveries: number;
  slowConsumerDrops: number;
  resumesRecovered: number;
  resumesSnapshot: number;
  /** Snapshot frames serialized (once per room position, however many subscribers got one). */
  snapshotsSerialized: number;
}

/** Options of the hub. */
export interface HubOptions {
  engine: Engine;
  log: FastifyBaseLogger;
  /** Unsent bytes after which a subscriber is dropped as slow. */
  maxBufferedBytes: number;
  /** Called once per entry after its fan-out with the ms since the webhook was accepted. */
  onFanout?: (latencyMs: number) => void;
  /** Called when the engine fails a snapshot or read. */
  onEngineError?: () => void;
  /**
   * Awaited before a subscription's snapshot or replay is read, once the room's channel
   * listens (so what it appends reaches the subscriber): reconcile's bootstrap. Must not reject.
   */
  beforeSnapshot?: (roomId: string) => Promise<void>;
}

/** The hub's API for transports. */
export interface Hub {
  /** Starts a subscription: snapshot (or the missed entries after `since`), then live entries. */
  subscribe(
    connection: Connection,
    roomId: string,
    since?: Position,
    options?: SubscribeOptions,
  ): Subscription;
  /** Ends a subscription (idempotent). */
  unsubscribe(subscription: Subscription): void;
  /** Number of rooms with local subscribers. */
  readonly roomCount: number;
  /** Who watches which room (all nodes): for the routes, and the subscribers that ask. */
  readonly occupancy: Occupancy;
  readonly stats: HubStats;
  close(): Promise<void>;
}

/** Creates the hub. */
export function createHub(options: HubOptions): Hub {
  const { engine, log, maxBufferedBytes, onFanout, onEngineError, beforeSnapshot } = options;
  const channels = new Map<string, Channel>();
  const occupancy = createOccupancy({ engine, log });
  /** Connections already dropped as slow: counted and logged once, however many frames follow. */
  const dropped = new WeakSet<Connection>();
  /** Bytes of the last snapshot or replay frame allowed past the limit while unread (see `send`). */
  const allowances = new WeakMap<Connection, number>();
  const stats: HubStats = {
    subscriptions: 0,
    deliveries: 0,
    slowConsumerDrops: 0,
    resumesRecovered: 0,
    resumesSnapshot: 0,
    snapshotsSerialized: 0,
  };

  /**
   * Sends a frame; drops the connection when its backlog passes the limit. Every queued byte
   * counts: a snapshot or replay frame (`burst`) is only written once the backlog is under the
   * limit (see `roomFor`), and the one such frame just written may take the backlog past the
   * limit by its own size until the client has read it (what is still queued bounds it). So a
   * backlog never exceeds the limit plus one frame, however often a client subscribes, and a
   * resume whose replay is larger than the limit is paced instead of dropped.
   */
  function send(subscription: Subscription, frame: OutgoingFrame, burst = false): void {
    const { connection } = subscription;
    const held = allowances.get(connection);
    const before = held === undefined && !burst ? 0 : connection.bufferedBytes();
    connection.send(frame);
    if (frame.position) subscription.position = frame.position;
    if (frame.kind === 'event') stats.deliveries++;
    const buffered = connection.bufferedBytes();
    const allowance = burst ? buffered - before : held === undefined ? 0 : Math.min(held, before);
    if (allowance > 0) allowances.set(connection, allowance);
    else if (held !== undefined) allowances.delete(connection);
    if (buffered > maxBufferedBytes + allowance) dropSlow(subscription);
  }

  function dropSlow(subscription: Subscription): void {
    const { connection } = subscription;
    if (dropped.has(connection)) return;
    dropped.add(connection);
    stats.slowConsumerDrops++;
    log.warn(
      { reason: 'slow_consumer', transport: connection.transport, roomId: subscription.roomId },
      'subscriber dropped: slow consumer',
    );
    connection.dropSlow();
  }

  /** Whether the connection's backlog is past the limit. */
  const full = (connection: Connection) => connection.bufferedBytes() > maxBufferedBytes;

  /**
   * Resolves once the subscription's connection has room for a snapshot or replay frame (its
   * backlog at most the limit): at once when it has, else as the client reads. False when the
   * subscription ended meanwhile. A client that subscribes again and again without reading
   * queues nothing more.
   */
  async function roomFor(subscription: Subscription): Promise<boolean> {
    const { connection } = subscription;
    while (!subscription.closed && full(connection)) {
      await connection.drained();
    }
    return !subscription.closed;
  }

  /** Delivers a live entry if it is the next one; resyncs on a gap or a new epoch. */
  function deliver(subscription: Subscription, entry: LogEntry, frame: () => OutgoingFrame): void {
    const held = subscription.position;
    if (!held) return;
    if (entry.epoch === held.epoch) {
      if (entry.seq <= held.seq) return; // already sent (replay overlap)
      if (entry.seq === held.seq + 1) return send(subscription, frame());
    }
    // A gap or another incarnation of the log: the only honest answer is a fresh snapshot.
    void start(subscription, undefined);
  }

  function onEntry(channel: Channel, entry: LogEntry): void {
    channel.entries++;
    // A read started before this entry may not hold it: later subscribers read afresh.
    channel.snapshot = undefined;
    channel.reads.clear();
    // Serialized once per room, lazily, and let go after the fan-out: history keeps the entry,
    // not its frame and encodings.
    let frame: OutgoingFrame | undefined;
    const shared = () => (frame ??= eventFrame(entry));
    for (const subscription of channel.subscriptions) {
      if (!subscription.pending) deliver(subscription, entry, shared);
      else if (subscription.pending.push(entry) > MAX_PENDING) dropSlow(subscription);
    }
    onFanout?.(Date.now() - entry.receivedAt);
  }

  function channelOf(roomId: string): Channel {
    let channel = channels.get(roomId);
    if (!channel) {
      const created: Channel = {
        roomId,
        subscriptions: new Set(),
        listening: undefined as never,
        entries: 0,
        snapshot: undefined,
        lastFrame: undefined,
        reads: new Map(),
      };
      created.listening = engine.subscribe(roomId, (entry) => onEntry(created, entry));
      channel = created;
      channels.set(roomId, channel);
    }
    return channel;
  }

  /** The snapshot frame of `snapshot`: serialized once per room position. */
  function frameOf(channel: Channel, snapshot: RoomSnapshot): OutgoingFrame {
    const last = channel.lastFrame?.position;
    if (last?.epoch === snapshot.epoch && last.seq === snapshot.seq) return channel.lastFrame!;
    stats.snapshotsSerialized++;
    channel.lastFrame = snapshotFrame(snapshot);
    return channel.lastFrame;
  }

  /**
   * The room's snapshot frame for `subscription`, from a read shared with every subscription
   * that needs one meanwhile. A subscription may share a read only if no entry reached the
   * channel between the read's start and the moment it began collecting live entries: what
   * the snapshot lacks is then in its pending list.
   */
  function sharedSnapshot(channel: Channel, subscription: Subscription): Promise<OutgoingFrame> {
    const read = channel.snapshot;
    if (read !== undefined && subscription.collectingFrom <= read.from) return read.frame;
    const started: SnapshotRead = {
      from: channel.entries,
      frame: engine.snapshot(channel.roomId).then((snapshot) => frameOf(channel, snapshot)),
    };
    channel.snapshot = started;
    // A failed read is not shared with later subscribers: they try again.
    started.frame.catch(() => {
      if (channel.snapshot === started) channel.snapshot = undefined;
    });
    return started.frame;
  }

  /**
   * The resume read of `since` for `subscription`, shared on the same terms as a snapshot read
   * (see `sharedSnapshot`): one engine read (one Redis round trip) and one set of replay frames
   * for every subscription of the room resuming from `since` meanwhile.
   */
  function sharedRead(channel: Channel, subscription: Subscription, since: Position): SharedRead {
    const key = `${since.epoch}:${since.seq}`;
    const read = channel.reads.get(key);
    if (read !== undefined && subscription.collectingFrom <= read.from) return read;
    const started: SharedRead = {
      from: channel.entries,
      result: engine.read(channel.roomId, since),
      frames: [],
    };
    channel.reads.set(key, started);
    started.result.catch(() => {
      if (channel.reads.get(key) === started) channel.reads.delete(key);
    });
    return started;
  }

  /** Snapshot or replay, then the entries that arrived meanwhile, then live. */
  async function start(subscription: Subscription, since: Position | undefined): Promise<void> {
    const { roomId, connection } = subscription;
    const channel = channelOf(roomId);
    subscription.pending = [];
    subscription.collectingFrom = channel.entries;
    try {
      await channel.listening;
      if (beforeSnapshot) await beforeSnapshot(roomId);
      // Nothing is read for a client that has not read what it was sent: at most one snapshot
      // or replay in flight. What arrived meanwhile is in the read below.
      if (full(connection)) {
        if (!(await roomFor(subscription))) return;
        subscription.pending = [];
      }
      const read = since ? sharedRead(channel, subscription, since) : undefined;
      const result = read
        ? await read.result
        : { recovered: false as const, frame: await sharedSnapshot(channel, subscription) };
      if (subscription.closed) return;
      if (result.recovered) {
        stats.resumesRecovered++;
        subscription.position = since;
        const frames = read!.frames;
        for (const [i, entry] of result.entries.entries()) {
          if (full(connection) && !(await roomFor(subscription))) return;
          if (subscription.closed) return;
          send(subscription, (frames[i] ??= eventFrame(entry)), true);
        }
        if (full(connection) && !(await roomFor(subscription))) return;
        send(
          subscription,
          subscribedFrame(roomId, subscription.position ?? result.head, true),
          true,
        );
      } else {
        if (since) stats.resumesSnapshot++;
        const frame = 'frame' in result ? result.frame : frameOf(channel, result.snapshot);
        send(subscription, frame, true);
        if (full(connection) && !(await roomFor(subscription))) return;
        send(subscription, subscribedFrame(roomId, subscription.position!, false), true);
      }
      const pending = subscription.pending;
      subscription.pending = undefined;
      for (const entry of pending) {
        if (subscription.closed || subscription.pending) break;
        deliver(subscription, entry, () => eventFrame(entry));
      }
    } catch (error) {
      if (subscription.closed) return;
      log.error({ err: error, roomId }, 'subscribe failed');
      onEngineError?.();
      subscription.pending = undefined;
      subscription.connection.send(
        errorFrame(ErrorCode.ENGINE_UNAVAILABLE, 'could not load the room, retry', roomId),
      );
      unsubscribe(subscription);
    }
  }

  function unsubscribe(subscription: Subscription): void {
    if (subscription.closed) return;
    subscription.closed = true;
    if (subscription.watcher) occupancy.unwatch(subscription.watcher);
    const channel = channels.get(subscription.roomId);
    if (!channel || !channel.subscriptions.delete(subscription)) return;
    stats.subscriptions--;
    occupancy.changed(channel.roomId, channel.subscriptions.size);
    if (channel.subscriptions.size === 0) {
      channels.delete(channel.roomId);
      channel.listening
        .then((stop) => stop())
        .catch((error) => log.warn({ err: error }, 'engine unsubscribe failed'));
    }
  }

  return {
    subscribe(connection, roomId, since, subscribeOptions = {}) {
      const subscription: Subscription = {
        roomId,
        connection,
        position: undefined,
        pending: [],
        collectingFrom: 0,
        closed: false,
      };
      const channel = channelOf(roomId);
      channel.subscriptions.add(subscription);
      stats.subscriptions++;
      occupancy.changed(roomId, channel.subscriptions.size);
      if (subscribeOptions.occupancy) {
        subscription.watcher = {
          roomId,
          // After the snapshot or replay: the client knows the room before who watches it.
          ready: () => !subscription.closed && !subscription.pending && !!subscription.position,
          send: (frame) => send(subscription, frame),
        };
        occupancy.watch(subscription.watcher);
      }
      void start(subscription, since);
      return subscription;
    },
    unsubscribe,
    get roomCount() {
      return channels.size;
    },
    occupancy,
    stats,
    async close() {
      occupancy.close();
      for (const channel of channels.values()) {
        for (const subscription of channel.subscriptions) subscription.closed = true;
        stats.subscriptions -= channel.subscriptions.size;
        channel.subscriptions.clear();
        await channel.listening.then((stop) => stop()).catch(() => undefined);
      }
      channels.clear();
    },
  };
}
