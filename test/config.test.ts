/**
 * Config: defaults, units, env names in error messages, production strictness.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, configFromEnv, parseOptions, withDevSecrets } from '../server/src/config.ts';

describe('config', () => {
  test('defaults follow DESIGN.md', () => {
    const config = configFromEnv({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.webhookTolerance, 300_000);
    assert.equal(config.webhookMaxBytes, 1024 * 1024);
    assert.equal(config.dedupWindow, 86_400_000);
    assert.equal(config.historySize, 1000);
    assert.equal(config.maxSubscriptions, 100);
    assert.equal(config.redisUrl, undefined);
    assert.ok(Object.isFrozen(config));
  });

  test('env values with units and comma lists', () => {
    const config = configFromEnv({
      PORT: '8080',
      HUDDLE01_API_KEY: 'new-key, old-key',
      ROOMCAST_WEBHOOK_TOLERANCE: '90s',
      ROOMCAST_MAX_BUFFERED: '256KiB',
    });
    assert.equal(config.port, 8080);
    assert.deepEqual(config.huddle01ApiKeys, ['new-key', 'old-key']);
    assert.equal(config.webhookTolerance, 90_000);
    assert.equal(config.maxBufferedBytes, 256 * 1024);
  });

  test('an invalid value fails naming the variable and the accepted form', () => {
    assert.throws(
      () => configFromEnv({ PORT: 'eighty' }),
      (error: Error) => error instanceof ConfigError && /PORT/.test(error.message),
    );
    assert.throws(
      () => configFromEnv({ ROOMCAST_DEDUP_WINDOW: 'forever' }),
      /ROOMCAST_DEDUP_WINDOW: expected a duration/,
    );
    assert.throws(() => configFromEnv({ REDIS_URL: 'not a url' }), /REDIS_URL/);
    assert.throws(() => parseOptions({ historySize: -1 }), /historySize/);
  });

  test('production without secrets fails naming the variable', () => {
    assert.throws(
      () => withDevSecrets(configFromEnv({ NODE_ENV: 'production' })),
      /HUDDLE01_API_KEY is required/,
    );
    assert.throws(
      () => withDevSecrets(configFromEnv({ NODE_ENV: 'production', HUDDLE01_API_KEY: 'k' })),
      /ROOMCAST_TOKEN_SECRET is required/,
    );
    assert.throws(
      () =>
        withDevSecrets(
          configFromEnv({
            NODE_ENV: 'production',
            HUDDLE01_API_KEY: 'k',
            ROOMCAST_TOKEN_SECRET: 'short',
          }),
        ),
      /ROOMCAST_TOKEN_SECRET must be at least 32 bytes/,
    );
    const ok = withDevSecrets(
      configFromEnv({
        NODE_ENV: 'production',
        HUDDLE01_API_KEY: 'k',
        ROOMCAST_TOKEN_SECRET: 'x'.repeat(32),
      }),
    );
    assert.deepEqual(ok.generated, {});
  });

  test('development generates the missing secrets and says so', () => {
    const { config, generated } = withDevSecrets(configFromEnv({}));
    assert.equal(config.huddle01ApiKeys[0], generated.huddle01ApiKey);
    assert.ok((generated.huddle01ApiKey?.length ?? 0) > 20);
    assert.equal(config.tokenSecrets[0], generated.tokenSecret);
  });
});
