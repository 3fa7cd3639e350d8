/**
 * Redis engines for tests that share one redis-server: a fresh key prefix per engine group (so
 * tests never see each other's keys), and an engine on it that is closed after the test.
 */
import type { TestContext } from 'node:test';
import { createRedisEngine } from '../../server/src/engine/redis-engine.ts';
import type { RedisEngineOptions } from '../../server/src/engine/redis-engine.ts';
import { createKeyLayout } from '../../server/src/engine/redis/keys.ts';

let prefixes = 0;

/** A key prefix no other engine of this process uses: `rc-<label>-<pid>-<n>:`. */
export function freshPrefix(label: string): string {
  return `rc-${label}-${process.pid}-${++prefixes}:`;
}

/** A test's engine, its key prefix and the key layout under it. */
export interface TestRedisEngine {
  engine: ReturnType<typeof createRedisEngine>;
  keyPrefix: string;
  keys: ReturnType<typeof createKeyLayout>;
}

/** An engine at `url` on a fresh prefix (`label`), closed after the test `t`. */
export function testRedisEngine(
  t: TestContext,
  url: string,
  label: string,
  options: Omit<RedisEngineOptions, 'url' | 'keyPrefix'> = {},
): TestRedisEngine {
  const keyPrefix = freshPrefix(label);
  const engine = createRedisEngine({ url, keyPrefix, ...options });
  t.after(() => engine.close());
  return { engine, keyPrefix, keys: createKeyLayout(keyPrefix) };
}
