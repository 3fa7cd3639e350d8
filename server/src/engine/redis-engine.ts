/**
 * RedisEngine: the engine for several nodes behind a load balancer. Redis holds each room's
 * log (epoch, seq, a stream of recent entries, the state as a checkpoint hash that the stream's
 * tail completes), the dedup markers, the peer→room index, held track events and dead letters;
 * pub/sub carries new entries to every node. One Lua script per append gives each room one
 * order across all nodes, without a compare-and-set for ordinary events. docs/deployment.md has the key layout
 * and what happens when Redis or a node fails.
 */
import { notifySafely } from './entry-delivery.ts';
import { isTrackEvent } from '@roomcast/shared';
import { Cluster } from 'ioredis';
import { isAppAppend, EngineUnavailableError } from './engine.ts';
import type {
  AnyAppendInput,
  AppendResult,
  DeadLetter,
  Engine,
  EntryListener,
  RoomSnapshot,
} from './engine.ts';
import { newEpoch } from './epoch.ts';
import { engineSettings } from './engine-config.ts';
import type { EngineConfig } from './engine-config.ts';
import { DEFAULT_CONFIG } from '../config.ts';
import { decodeStream } from './redis/codec.ts';
import {
  closeConnection,
  commandOptions,
  createConnectionGate,
  openTarget,
  startHeartbeat,
  subscriberOptions,
} from './redis/connection.ts';
import { createDurabilityProbe } from './redis/durability-probe.ts';
import type { ConnectionGate, RedisClient } from './redis/connection.ts';
import { createPubSub } from './redis/pubsub.ts';
import { parseRedisUrl } from './redis/redis-url.ts';
import { createHeldTracks } from './redis/held-tracks.ts';
import { createKeyLayout } from './redis/keys.ts';
import { createRoomIndex } from './redis/room-index.ts';
import { createRoomWriter, loadState } from './redis/room-writer.ts';
import { defineScripts } from './redis/scripts.ts';
import { createSubscriptions } from './redis/subscriptions.ts';

/** How often the engine's own connections are pinged (see `startHeartbeat`), ms. */
const HEARTBEAT_MS = 5000;

/**
 * How long a node's reported occupancy counts stay valid without a refresh (the hub refreshes
 * every 15 s; a node that died stops counting after this).
 */
const OCCUPANCY_LAPSE_MS = 45_000;

/**
 * Options of the Redis engine. Those it shares with the memory engine (`historySize`,
 * `historyTtl`, `roomIdleTtl`, `dedupWindow`, `trackHold`, `deadLetterLimit`, `presenceGrace`)
 * default to the config option's of the same name (`DEFAULT_CONFIG`), in ms.
 */
export interface RedisEngineOptions extends Partial<EngineConfig> {
  /**
   * Redis URL: `redis://`, `rediss://` (TLS), `redis+cluster://h:p,h:p` (Redis Cluster, sharded
   * pub/sub) or `redis+sentinel://h:p,h:p/<master>` (redis-url.ts). Default
   * redis://127.0.0.1:6379. Ignored with `client`.
   */
  url?: string;
  /**
   * An existing ioredis client of the app (`Redis` or `Cluster`). Used for commands and scripts
   * and never closed by `close()`; the engine's pub/sub connection is a `duplicate()` of it
   * (sharded on a Cluster). Its own options apply (the engine still fails fast while it is not
   * connected).
   */
  client?: RedisClient;
  /**
   * Prefix of every key and channel (no `{` or `}`). Default: the `redisPrefix` option's and a
   * colon, `roomcast:`.
   */
  keyPrefix?: string;
  /**
   * How long a room's keys stay after its meeting:ended, ms (a later event keeps it for
   * `roomIdleTtl` again). Default 1 h (at most `roomIdleTtl`).
   */
  endedRoomTtl?: number;
  /**
   * Command timeout, and how long a command waits for the very first connection, ms. Once
   * connected, commands fail at once while Redis is away. Default 5000.
   */
  commandTimeout?: number;
  /**
   * Replicas that must hold an append before its webhook is acknowledged (Redis `WAIT`; one
   * server or sentinels, not a Cluster). With 1, a failover cannot lose an acknowledged webhook:
   * a write the old master took after the promotion is never confirmed, so it answers 503 and
   * Huddle01's retry lands on the new master. Default: the `redisReplicaAcks` option's, 0
   * (acknowledged once the master has it).
   */
  replicaAcks?: number;
  /** How long an append waits for `replicaAcks`, ms. Default 1000. */
  replicaAckTimeout?: number;
  /** Catch-up reads in flight at once after a reconnect or failover. Default 64. */
  catchUpConcurrency?: number;
  /** Rooms the room index keeps (the least recently active go first). Default 100,000. */
  maxIndexedRooms?: number;
  /** Called with connection and background errors (they also surface as failed calls). Default: ignored. */
  onError?: (error: unknown) => void;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

/** The Redis engine: an Engine, plus what it can tell of its recovery. */
export interface RedisEngine extends Engine {
  /**
   * The catch-up reads after reconnects so far: running now, the most that ever ran at once
   * (bounded by `catchUpConcurrency`), waiting for a turn; and the rooms this node listens to.
   */
  recoveryStats(): { inFlight: number; maxInFlight: number; waiting: number; rooms: number };
}

/** Creates the Redis engine (it connects in the background; `ping` tells when it is ready). */
export function createRedisEngine(options: RedisEngineOptions = {}): RedisEngine {
  const {
    historySize,
    historyTtl,
    roomIdleTtl,
    dedupWindow,
    trackHold,
    deadLetterLimit,
    presenceGrace,
  } = engineSettings(options);
  const {
    keyPrefix = `${DEFAULT_CONFIG.redisPrefix}:`,
    commandTimeout = 5000,
    replicaAcks = DEFAULT_CONFIG.redisReplicaAcks,
    replicaAckTimeout = 1000,
    onError = () => undefined,
    now = Date.now,
  } = options;

  const keys = createKeyLayout(keyPrefix);
  const owned = options.client === undefined;
  const target = parseRedisUrl(options.url ?? 'redis://127.0.0.1:6379');
  const redis = options.client ?? openTarget(target, commandOptions(commandTimeout));
  const subscriber = options.client
    ? duplicateForPubSub(options.client)
    : openTarget(target, subscriberOptions, true);
  if (owned) redis.on('error', onError);
  subscriber.on('error', onError);
  const pubsub = createPubSub(subscriber);

  const connectionGate = createConnectionGate(redis, commandTimeout);
  const verify = createServerCheck(redis, onError);
  /** The command connection is up and points at the kind of Redis it was told. */
  const gate: ConnectionGate = {
    async ready() {
      await connectionGate.ready();
      await verify();
    },
    settled: (ms) => connectionGate.settled(ms),
  };
  const scripts = defineScripts(redis, { publishCommand: pubsub.publishCommand });
  const roomIndex = createRoomIndex({
    redis,
    keys,
    roomIdleTtl,
    ...(options.maxIndexedRooms === undefined ? {} : { maxRooms: options.maxIndexedRooms }),
    now,
    onError,
  });
  const writer = createRoomWriter({
    scripts,
    keys,
    historySize,
    dedupWindow,
    roomIdleTtl,
    presenceGrace,
    historyTtl,
    endedRoomTtl: options.endedRoomTtl ?? 3_600_000,
    newEpoch,
    now,
    onError,
  });
  const subscriptions = createSubscriptions({
    pubsub,
    subscriberGate: createConnectionGate(subscriber, commandTimeout),
    commandGate: gate,
    scripts,
    keys,
    historySize,
    roomIdleTtl,
    newEpoch,
    ...(options.catchUpConcurrency === undefined
      ? {}
      : { catchUpConcurrency: options.catchUpConcurrency }),
    onError,
  });
  const held = createHeldTracks({
    redis,
    scripts,
    keys,
    trackHold,
    indexTtl: roomIdleTtl,
    appendTo,
    async keepDeadLetter(letter) {
      const kept = await keepDeadLetter(letter);
      if (kept) for (const watcher of letterWatchers) watcher(letter);
      return kept;
    },
    onError,
  });
  const stopHeartbeats = [subscriber, ...(owned ? [redis] : [])].map((connection) =>
    startHeartbeat(connection, HEARTBEAT_MS, commandTimeout),
  );
  const watchers = new Set<EntryListener>();
  const letterWatchers = new Set<(letter: DeadLetter) => void>();
  /** Names this node in the leases it holds (for whoever inspects Redis). */
  const nodeId = newEpoch();
  let closed = false;
  let connectedOnce = redis.status === 'ready';

  // A Cluster's settings are each master's own: every one is read and judged.
  const durability = createDurabilityProbe({
    nodes: () => (redis instanceof Cluster ? redis.nodes('master') : [redis]),
    now,
  });

  redis.on('ready', () => {
    // Redis may have restarted or failed over: positions remembered from before prove nothing,
    // and the node now answering may be configured differently.
    durability.forget();
    if (connectedOnce) writer.reset();
    connectedOnce = true;
  });

  async function open(): Promise<void> {
    if (closed) throw new Error('engine closed');
    await gate.ready();
  }

  /** Webhook id → its marker, sent and not answered yet. */
  const marking = new Map<string, Promise<void>>();

  /** Marks a handled webhook id outside any room (for `seen` and track duplicates). */
  function markSeen(webhookId: string): void {
    // Not awaited: the append is already durable; the marker only speeds up later checks.
    const mark = scripts
      .markSeen(keys, webhookId, now(), dedupWindow)
      .catch(onError)
      .finally(() => {
        if (marking.get(webhookId) === mark) marking.delete(webhookId);
      });
    marking.set(webhookId, mark);
  }

  /**
   * Whether a webhook id was handled (room-independently). This node's own marker in flight is
   * awaited first: order on the connection is not enough, as a command refused while a Cluster
   * node's connection is opening is retried by ioredis ~100 ms later, after this check.
   */
  async function isSeen(webhookId: string): Promise<boolean> {
    await marking.get(webhookId);
    return scripts.seen(keys, webhookId, now(), dedupWindow);
  }

  async function appendTo(roomId: string, input: AnyAppendInput): Promise<AppendResult> {
    const outcome = await writer.append(roomId, input);
    // A duplicate too: the first try may sit on a master that is being replaced.
    await replicated();
    markSeen(input.webhookId);
    if (outcome.kind === 'duplicate') return { status: 'duplicate' };
    if (outcome.kind === 'redundant') return { status: 'redundant', roomId };
    const { entry } = outcome;
    roomIndex.touch(roomId);
    for (const watcher of watchers) notifySafely(watcher, entry);
    return { status: 'appended', roomId, epoch: entry.epoch, seq: entry.seq };
  }

  /** Waits until `replicaAcks` replicas hold this connection's writes so far (see the option). */
  async function replicated(): Promise<void> {
    if (replicaAcks === 0 || redis instanceof Cluster) return;
    const acks = await redis.wait(replicaAcks, replicaAckTimeout);
    if (acks < replicaAcks) {
      throw new EngineUnavailableError(
        `redis: ${acks} of ${replicaAcks} replicas confirmed the append within ${replicaAckTimeout} ms`,
      );
    }
  }

  async function keepDeadLetter(letter: DeadLetter): Promise<boolean> {
    const kept = await scripts.deadLetter(
      keys.deadLetters,
      keys.deadLetterId(letter.webhookId),
      JSON.stringify(letter),
      deadLetterLimit,
      dedupWindow,
    );
    if (kept) markSeen(letter.webhookId);
    return kept;
  }

  async function snapshot(roomId: string): Promise<RoomSnapshot> {
    await open();
    // The checkpoint hash plus the entries after it, folded here (room-writer.ts).
    const { epoch, seq, state } = await loadState(scripts, keys.room(roomId), roomId, {
      newEpoch: newEpoch(),
      roomIdleTtl,
      presenceGrace,
    });
    return { roomId, epoch, seq, state };
  }

  return {
    async append(input) {
      await open();
      // An app event names its room; it never waits for a peer.
      if (isAppAppend(input)) return appendTo(input.roomId, input);
      if (isTrackEvent(input.event)) {
        const peerId = (input.payload as { id: string }).id;
        // The room-independent check: a track event's room can change between two tries.
        if (await isSeen(input.webhookId)) {
          return { status: 'duplicate' };
        }
        const roomId = await held.routeOrHold(peerId, input);
        if (roomId === undefined) {
          markSeen(input.webhookId);
          return { status: 'held', peerId };
        }
        return appendTo(roomId, input);
      }
      const roomId = (input.payload as { roomId: string }).roomId;
      const result = await appendTo(roomId, input);
      if (input.event === 'peer:joined') {
        // Also for a duplicate: the first try may have died between the append and the release,
        // and Huddle01's retry is what completes it.
        await held.release((input.payload as { id: string }).id, roomId);
      }
      return result;
    },

    async subscribe(roomId, listener) {
      if (closed) throw new Error('engine closed');
      return subscriptions.subscribe(roomId, listener);
    },

    async read(roomId, since) {
      await open();
      const room = keys.room(roomId);
      const reply = await scripts.read(room, {
        newEpoch: newEpoch(),
        from: Math.max(1, since.seq + 1),
        max: historySize,
        roomIdleTtl,
      });
      if (!reply) throw new Error(`room ${roomId} could not be created`);
      const head = { epoch: reply.epoch, seq: reply.seq };
      if (since.epoch === head.epoch && since.seq === head.seq) {
        return { recovered: true, entries: [], head };
      }
      if (
        since.epoch === head.epoch &&
        since.seq < head.seq &&
        head.seq - since.seq <= historySize
      ) {
        const entries = decodeStream(roomId, head.epoch, reply.entries);
        const first = entries[0];
        if (
          first?.seq === since.seq + 1 &&
          entries.length === head.seq - since.seq &&
          first.receivedAt >= now() - historyTtl
        ) {
          return { recovered: true, entries, head };
        }
      }
      return { recovered: false, snapshot: await snapshot(roomId) };
    },

    snapshot,

    async seen(webhookId) {
      await open();
      return isSeen(webhookId);
    },

    async listRooms(query) {
      await open();
      return roomIndex.list(query);
    },

    async deadLetter(letter) {
      await open();
      return (await keepDeadLetter(letter)) ? 'kept' : 'duplicate';
    },

    async deadLetters({ offset = 0, limit = deadLetterLimit } = {}) {
      await open();
      const last = Math.min(offset + limit, deadLetterLimit) - 1;
      if (last < offset) return [];
      const items = await redis.lrange(keys.deadLetters, offset, last);
      return items.map((item) => JSON.parse(item) as DeadLetter);
    },

    watch(listener) {
      watchers.add(listener);
      return () => {
        watchers.delete(listener);
      };
    },

    async ping() {
      await open();
      if (!(redis instanceof Cluster)) {
        await redis.ping();
        return;
      }
      // Any node answers PING while a shard without a master leaves its rooms failing: the
      // cluster's own verdict (the node ioredis picks shares it within cluster-node-timeout).
      const info = String(await redis.cluster('INFO'));
      if (!/^cluster_state:ok/m.test(info)) {
        throw new EngineUnavailableError('redis cluster_state is not ok (a shard has no master)');
      }
    },

    watchDeadLetters(listener) {
      letterWatchers.add(listener);
      return () => {
        letterWatchers.delete(listener);
      };
    },

    async lease(roomId, ms) {
      await open();
      const taken = await redis.set(keys.room(roomId).lease, nodeId, 'PX', ms, 'NX');
      return taken === 'OK';
    },

    async reportOccupancy(counts) {
      await open();
      const until = now() + OCCUPANCY_LAPSE_MS;
      // One command per room, sent together (each room's key is in its own Cluster slot).
      await Promise.all(
        [...counts].map(([roomId, count]) => {
          const key = keys.room(roomId).occupancy;
          if (count === 0) return redis.hdel(key, nodeId);
          return redis
            .multi()
            .hset(key, nodeId, `${count}:${until}`)
            .pexpire(key, OCCUPANCY_LAPSE_MS)
            .exec();
        }),
      );
    },

    async occupancy(roomIds) {
      await open();
      const replies = await Promise.all(
        roomIds.map((roomId) => redis.hgetall(keys.room(roomId).occupancy)),
      );
      const totals = new Map<string, number>();
      const at = now();
      roomIds.forEach((roomId, index) => {
        const fields = replies[index] ?? {};
        let total = 0;
        // A node that stopped reporting (it died) no longer counts once its entry lapsed.
        for (const value of Object.values(fields)) {
          const [count, until] = value.split(':').map(Number);
          if (count! > 0 && until! > at) total += count!;
        }
        totals.set(roomId, total);
      });
      return totals;
    },

    async durability() {
      await open();
      return durability.read();
    },

    async remember(id, value, ms) {
      await open();
      await redis.set(keys.answer(id), value, 'PX', ms);
    },

    recoveryStats() {
      const { inFlight, maxInFlight, waiting } = subscriptions.catchUps;
      return { inFlight, maxInFlight, waiting, rooms: subscriptions.size };
    },

    async recall(id) {
      await open();
      return (await redis.get(keys.answer(id))) ?? undefined;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const stop of stopHeartbeats) stop();
      held.close();
      roomIndex.close();
      subscriptions.close();
      watchers.clear();
      subscriber.disconnect();
      if (owned) await closeConnection(redis);
    },
  };
}

/** The pub/sub twin of an app's client: a Cluster's listens sharded. */
function duplicateForPubSub(client: RedisClient): RedisClient {
  if (client instanceof Cluster) {
    return client.duplicate([], {
      shardedSubscribers: true,
      enableOfflineQueue: true,
      redisOptions: { ...client.options.redisOptions, ...subscriberOptions },
    });
  }
  return client.duplicate(subscriberOptions);
}

/**
 * Checks once per connection that a plain `redis://` does not point at a Redis Cluster node: the
 * engine would answer MOVED for most rooms while its ping succeeded. Such a setup is refused
 * (every call, so /readyz too, fails with a message naming `redis+cluster://`).
 */
function createServerCheck(redis: RedisClient, onError: (error: unknown) => void) {
  if (redis instanceof Cluster) return async () => undefined;
  let checked: Promise<void> | undefined;
  redis.on('ready', () => {
    checked = undefined; // a sentinel may have moved us to another server
  });
  return (): Promise<void> => {
    checked ??= redis.info('cluster').then(
      (info) => {
        if (/^cluster_enabled:1/m.test(info)) {
          const error = new EngineUnavailableError(
            'REDIS_URL points at a Redis Cluster node: name the cluster as ' +
              'redis+cluster://host:port,host:port (keys of different rooms live on different nodes)',
          );
          onError(error);
          throw error;
        }
      },
      (error: unknown) => {
        // INFO renamed away or not permitted (ACL): nothing to tell, go on as told.
        if (/unknown command|NOPERM/i.test(String(error))) return;
        checked = undefined;
        throw error;
      },
    );
    return checked;
  };
}
