/**
 * The two Redis connections of the engine. Commands fail fast while Redis is away (no offline
 * queue, no retry of a command in flight), so a webhook gets a quick 503 and Huddle01 retries
 * it; the subscriber connection queues and reconnects forever, and ioredis resubscribes. The
 * target (redis-url.ts) picks the client: one server, a Cluster (ioredis `Cluster`; its
 * subscriber uses sharded pub/sub) or a master found through sentinels.
 */
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { EngineUnavailableError } from '../engine.ts';
import type { RedisTarget } from './redis-url.ts';

/** A connection of the engine: one server (or a sentinel-found master), or a whole Cluster. */
export type RedisClient = Redis | Cluster;

/** Reconnect delay: quick at first, then every 2 s for as long as it takes. */
const retryStrategy = (times: number) => Math.min(times * 100, 2000);

/** Options of the connection that runs commands and scripts. */
export function commandOptions(commandTimeout: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A command in flight when the connection drops is rejected, not sent again later: the
    // caller has already answered 503 by then (an append that did run is a duplicate on retry).
    autoResendUnfulfilledCommands: false,
    commandTimeout,
    connectTimeout: commandTimeout,
    retryStrategy,
  };
}

/** Options of the pub/sub connection. */
export const subscriberOptions: RedisOptions = {
  enableOfflineQueue: true,
  maxRetriesPerRequest: null,
  autoResubscribe: true,
  autoResendUnfulfilledCommands: true,
  retryStrategy,
};

/** Opens a connection to `url` (default redis://127.0.0.1:6379). */
export function openConnection(url: string | undefined, options: RedisOptions): Redis {
  return url === undefined ? new Redis(options) : new Redis(url, options);
}

/**
 * Opens a connection to `target` with `options`. A Cluster subscriber (`sharded`) listens with
 * SSUBSCRIBE on the shard that owns each channel (Redis ≥ 7), so an entry travels to the nodes
 * of its own shard only instead of being broadcast over the whole cluster bus.
 */
export function openTarget(
  target: RedisTarget,
  options: RedisOptions,
  sharded = false,
): RedisClient {
  const { username, password } = target;
  const auth = {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
  const tls = target.tls ? { tls: {} } : {};
  if (target.kind === 'standalone') return new Redis(target.url, options);
  if (target.kind === 'sentinel') {
    return new Redis({
      ...options,
      ...auth,
      ...tls,
      sentinels: target.sentinels,
      name: target.name,
      db: target.db,
      ...(target.sentinelPassword === undefined
        ? {}
        : { sentinelPassword: target.sentinelPassword }),
      // A demoted master answers READONLY: reconnect, and the sentinels name the new one.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    });
  }
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...options, ...auth, ...tls },
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    clusterRetryStrategy: retryStrategy,
    shardedSubscribers: sharded,
    // Writes and reads go to masters: a replica may lag behind what a webhook's 200 promised.
    scaleReads: 'master',
  };
  return new Cluster(target.nodes, clusterOptions);
}

/** Tells whether a connection can take a command now. */
export interface ConnectionGate {
  /**
   * Resolves when the connection is ready. Before its first connection it waits (up to the
   * gate's limit); after that, an outage rejects at once with EngineUnavailableError.
   */
  ready(): Promise<void>;
  /** Resolves once the connection is ready, or after `ms` (never rejects). */
  settled(ms: number): Promise<void>;
}

/** Creates the gate of `redis`, waiting at most `waitMs` for its first connection. */
export function createConnectionGate(redis: RedisClient, waitMs: number): ConnectionGate {
  let everReady = redis.status === 'ready';
  let first: Promise<void> | undefined;
  redis.on('ready', () => {
    everReady = true;
  });

  function waitFirst(): Promise<void> {
    // One shared wait, so a burst of callers adds one pair of listeners, not hundreds.
    first ??= new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        redis.off('ready', onReady);
        redis.off('end', onEnd);
        first = undefined;
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => done();
      const onEnd = () => done(new EngineUnavailableError('redis connection closed'));
      const timer = setTimeout(
        () => done(new EngineUnavailableError(`redis not reachable after ${waitMs} ms`)),
        waitMs,
      );
      redis.on('ready', onReady);
      redis.on('end', onEnd);
      if (redis.status === 'wait') redis.connect().catch(() => undefined);
    });
    return first;
  }

  return {
    settled(ms) {
      if (redis.status === 'ready') return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          redis.off('ready', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        redis.on('ready', done);
      });
    },
    async ready() {
      if (redis.status === 'ready') return;
      if (redis.status === 'end') throw new EngineUnavailableError('redis connection closed');
      if (everReady) throw new EngineUnavailableError(`redis unavailable (${redis.status})`);
      await waitFirst();
    },
  };
}

/** Closes a connection: politely when it is up, at once when it is not. */
export async function closeConnection(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  await redis.quit().catch(() => redis.disconnect());
}

/**
 * Pings `redis` every `intervalMs`; a ping unanswered within `timeoutMs` drops the connection
 * so that ioredis reconnects (and the engine catches up). A half-open TCP connection (a
 * network partition, a dead load balancer in between) would otherwise look alive for many
 * minutes, and a subscriber on it would silently receive nothing. Returns a stop function.
 */
export function startHeartbeat(
  redis: RedisClient,
  intervalMs: number,
  timeoutMs: number,
): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy || redis.status !== 'ready') return;
    busy = true;
    let expiry: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      expiry = setTimeout(() => reject(new Error('redis heartbeat timed out')), timeoutMs);
    });
    Promise.race([redis.ping(), expired])
      .catch(() => {
        if (redis.status === 'ready') redis.disconnect(true);
      })
      .finally(() => {
        clearTimeout(expiry);
        busy = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
