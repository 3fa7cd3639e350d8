/**
 * REDIS_URL forms (server/src/engine/redis/redis-url.ts) and the config errors for bad ones:
 * every refusal names REDIS_URL and says what was expected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFromEnv } from '../server/src/config.ts';
import { parseRedisUrl, redact } from '../server/src/engine/redis/redis-url.ts';

test('the four forms parse to their targets', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380/2'), {
    kind: 'standalone',
    tls: false,
    url: 'redis://127.0.0.1:6380/2',
    address: { host: '127.0.0.1', port: 6380 },
    db: 2,
  });
  assert.equal(parseRedisUrl('rediss://cache.internal').tls, true);
  assert.deepEqual(parseRedisUrl('redis+cluster://u:p%40ss@10.0.0.1:7000,10.0.0.2,[::1]:7002'), {
    kind: 'cluster',
    tls: false,
    username: 'u',
    password: 'p@ss',
    nodes: [
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 6379 },
      { host: '::1', port: 7002 },
    ],
  });
  assert.deepEqual(
    parseRedisUrl('rediss+sentinel://:secret@s1:26380,s2/mymaster/1?sentinelPassword=x'),
    {
      kind: 'sentinel',
      tls: true,
      password: 'secret',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      db: 1,
      sentinelPassword: 'x',
    },
  );
});

test('bad URLs are config errors naming REDIS_URL, with the accepted forms', () => {
  const bad: [string, RegExp][] = [
    ['not a url', /is not a URL/],
    ['http://127.0.0.1:6379', /unknown scheme "http:"/],
    ['redis://a:1,b:2', /redis\+cluster:\/\//],
    ['redis+sentinel://s1:26379', /no master name/],
    ['redis+cluster://a:1/3', /takes no path/],
    ['redis://h:99999', /out of range/],
    ['redis://h/x', /not a database number/],
  ];
  for (const [url, reason] of bad) {
    assert.throws(
      () => configFromEnv({ REDIS_URL: url }),
      (error: Error) =>
        /REDIS_URL/.test(error.message) &&
        reason.test(error.message) &&
        /redis\+sentinel:\/\/host:port,host:port\/<master>/.test(error.message),
      url,
    );
  }
});

test('ROOMCAST_REDIS_PREFIX: default roomcast, no braces', () => {
  assert.equal(configFromEnv({}).redisPrefix, 'roomcast');
  assert.equal(configFromEnv({ ROOMCAST_REDIS_PREFIX: 'app-a' }).redisPrefix, 'app-a');
  assert.throws(
    () => configFromEnv({ ROOMCAST_REDIS_PREFIX: 'a{b}' }),
    /ROOMCAST_REDIS_PREFIX: must not contain \{ or \}/,
  );
});

test('passwords are redacted in messages', () => {
  assert.equal(redact('redis://user:hunter2@h:1'), 'redis://user:***@h:1');
});
