// Durability you can see (issue 21): the Redis engine reads appendonly, appendfsync and
// maxmemory-policy from a real redis-server, and a setup that can lose acknowledged webhooks
// or evict room keys is named in the log, in /readyz's body and in a metric.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { judgeRedisSettings } from '../server/src/engine/durability.ts';
import type { DurabilityReport } from '../server/src/engine/durability.ts';
import { createRedisEngine } from '../server/src/engine/redis-engine.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import type { RedisServer } from './helpers/redis-server.ts';
import { startLoggedServer } from './helpers/server.ts';

describe('judging Redis settings', () => {
  test('appendonly yes + noeviction: nothing to warn about, whatever appendfsync', () => {
    for (const appendfsync of ['always', 'everysec']) {
      const settings = { appendonly: 'yes', appendfsync, 'maxmemory-policy': 'noeviction' };
      assert.deepEqual(judgeRedisSettings(settings), []);
    }
  });

  test('each risky setting is named with its value and risk', () => {
    const warnings = judgeRedisSettings(
      { appendonly: 'no', appendfsync: 'everysec', 'maxmemory-policy': 'volatile-lru' },
      '10.0.0.1:6379',
    );
    assert.deepEqual(
      warnings.map(({ setting, value, risk, node }) => ({ setting, value, risk, node })),
      [
        {
          setting: 'appendonly',
          value: 'no',
          risk: 'loses-acknowledged-webhooks',
          node: '10.0.0.1:6379',
        },
        {
          setting: 'maxmemory-policy',
          value: 'volatile-lru',
          risk: 'evicts-room-keys',
          node: '10.0.0.1:6379',
        },
      ],
    );
    const fsync = judgeRedisSettings({ appendonly: 'yes', appendfsync: 'no' });
    assert.equal(fsync[0]?.setting, 'appendfsync');
    assert.match(fsync[0]!.message, /everysec/);
  });
});

describe('a real redis-server', () => {
  let redis: RedisServer | undefined;
  let admin: Redis;

  before(async () => {
    redis = await startRedisServer();
    if (redis) admin = new Redis(redis.url);
  });
  after(async () => {
    admin?.disconnect();
    await redis?.close();
  });

  test('risky settings: warned at startup, in /readyz and in roomcast_durability_risk', async (t) => {
    if (!redis) return t.skip('redis-server not installed');
    await admin.config('SET', 'appendonly', 'no');
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const server = await startLoggedServer({ redisUrl: redis.url });
    t.after(() => server.close());

    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200, 'a risky setting is shown, not a reason to refuse traffic');
    const body = (await ready.json()) as { ok: boolean; durability: DurabilityReport };
    assert.deepEqual(
      body.durability.warnings.map((warning) => `${warning.setting}=${warning.value}`),
      ['appendonly=no', 'maxmemory-policy=allkeys-lru'],
    );
    assert.equal(Object.values(body.durability.nodes)[0]?.appendonly, 'no');

    // The startup read happens in the background: wait for its log line.
    const deadline = Date.now() + 10_000;
    while (!server.logs().includes('maxmemory-policy allkeys-lru') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const warned = server
      .logs()
      .split('\n')
      .filter((line) => line.includes('"durability"'))
      .map((line) => JSON.parse(line) as { level: number; durability: { setting: string } });
    assert.deepEqual(warned.map((line) => [line.level, line.durability.setting]).sort(), [
      [40, 'appendonly'],
      [40, 'maxmemory-policy'],
    ]);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /roomcast_durability_risk\{setting="appendonly"\} 1/);
    assert.match(metrics, /roomcast_durability_risk\{setting="maxmemory-policy"\} 1/);
    assert.match(metrics, /roomcast_durability_risk\{setting="appendfsync"\} 0/);
  });

  test('safe settings: no warning, and the report says what was read', async (t) => {
    if (!redis) return t.skip('redis-server not installed');
    await admin.config('SET', 'appendonly', 'yes');
    await admin.config('SET', 'appendfsync', 'everysec');
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    const engine = createRedisEngine({ url: redis.url });
    t.after(() => engine.close());
    const report = await engine.durability!();
    assert.deepEqual(report.warnings, []);
    assert.deepEqual(Object.values(report.nodes), [
      { appendonly: 'yes', appendfsync: 'everysec', 'maxmemory-policy': 'noeviction' },
    ]);
  });

  test('a user without CONFIG: the settings are reported unknown, the engine still ready', async (t) => {
    if (!redis) return t.skip('redis-server not installed');
    await admin.acl('SETUSER', 'no-config', 'on', '>secret', '~*', '&*', '+@all', '-config');
    t.after(() => admin.acl('DELUSER', 'no-config'));
    const url = `redis://no-config:secret@127.0.0.1:${redis.port}`;
    const server = await startLoggedServer({ redisUrl: url });
    t.after(() => server.close());
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    const { durability } = (await ready.json()) as { durability: DurabilityReport };
    assert.equal(durability.warnings.length, 1);
    assert.equal(durability.warnings[0]?.setting, 'config');
    assert.equal(durability.warnings[0]?.risk, 'unknown');
    assert.match(durability.warnings[0]!.message, /appendonly yes/);
  });
});
