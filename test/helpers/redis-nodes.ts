/**
 * Two roomcast nodes sharing one redis-server under one key prefix, as a deployment runs them;
 * `close()` stops both apps, then their engines.
 */
import type { RoomcastOptions } from '../../server/src/config.ts';
import { createRedisEngine } from '../../server/src/engine/redis-engine.ts';
import { startServer } from './server.ts';
import type { TestServer } from './server.ts';

/** Two nodes and their shutdown. */
export interface RedisNodes {
  a: TestServer;
  b: TestServer;
  close(): Promise<void>;
}

/** Starts nodes A and B on `redisUrl`, each with `options`, sharing the key prefix `prefix`. */
export async function startRedisNodes(
  redisUrl: string,
  prefix: string,
  options: RoomcastOptions = {},
): Promise<RedisNodes> {
  const node = () =>
    startServer(
      options,
      createRedisEngine({ url: redisUrl, keyPrefix: `${prefix}-${process.pid}:` }),
    );
  const a = await node();
  const b = await node();
  return {
    a,
    b,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([a.engine?.close(), b.engine?.close()]);
    },
  };
}
