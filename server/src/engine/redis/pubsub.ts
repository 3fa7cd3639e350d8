/**
 * The engine's pub/sub over one subscriber client: classic SUBSCRIBE on one server (or a
 * sentinel-found master), sharded SSUBSCRIBE on a Cluster (ioredis `shardedSubscribers`: one
 * connection per master, each channel on the shard that owns its slot). The append script
 * publishes with the matching command (`publishCommand`), so a Cluster never broadcasts an
 * entry over its whole bus.
 *
 * `onResubscribed` fires after a reconnect once the subscriptions are back, so the caller can
 * read what was published meanwhile (pub/sub drops it).
 */
import { Cluster } from 'ioredis';
import type { RedisClient } from './connection.ts';

/** Pub/sub of the engine (see the module comment). */
export interface PubSub {
  readonly connection: RedisClient;
  /** `PUBLISH` or `SPUBLISH`: what the append script must publish with. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  listen(channel: string): Promise<unknown>;
  unlisten(channel: string): Promise<unknown>;
  onMessage(handler: (channel: string, message: string) => void): void;
  onResubscribed(handler: () => void): void;
}

/**
 * After a Cluster's subscribers come back ioredis has sent the SSUBSCRIBEs but not waited for
 * them: the caller is told at once and once more after this long, ms, so that what was published
 * before the SSUBSCRIBE took effect is read too.
 */
const SHARDED_SETTLE_MS = 1000;

/** Creates the pub/sub of `connection` (sharded when it is a Cluster). */
export function createPubSub(connection: RedisClient): PubSub {
  if (connection instanceof Cluster) {
    const cluster = connection;
    return {
      connection,
      publishCommand: 'SPUBLISH',
      listen: (channel) => cluster.ssubscribe(channel),
      unlisten: (channel) => cluster.sunsubscribe(channel),
      onMessage(handler) {
        cluster.on('smessage', handler);
      },
      onResubscribed(handler) {
        let first = true;
        cluster.on('subscribersReady', () => {
          // The first one is the initial connect: nothing was subscribed before it.
          if (first) {
            first = false;
            return;
          }
          handler();
          setTimeout(handler, SHARDED_SETTLE_MS).unref();
        });
      },
    };
  }
  const redis = connection;
  return {
    connection,
    publishCommand: 'PUBLISH',
    listen: (channel) => redis.subscribe(channel),
    unlisten: (channel) => redis.unsubscribe(channel),
    onMessage(handler) {
      redis.on('message', handler);
    },
    onResubscribed(handler) {
      redis.on('ready', () => {
        // ioredis has just sent the SUBSCRIBEs again; a PING answered after them means they
        // are in place, so reading the streams now misses nothing published since.
        redis.ping().then(handler, () => undefined); // dropped again: the next 'ready' tells
      });
    },
  };
}
