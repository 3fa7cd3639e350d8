/**
 * Config: defaults, units, env names in error messages, production strictness.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConfigError,
  configFromEnv,
  parseOptions,
  reconcileIntervalOf,
  withDevSecrets,
} from '../server/src/config.ts';

describe('config', () => {
  test('defaults follow DESIGN.md', () => {
    const config = configFromEnv({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.webhookTolerance, 300_000);
    assert.equal(config.webhookMaxBytes, 256 * 1024);
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

describe('config: reconcile', () => {
  const production = { NODE_ENV: 'production', ROOMCAST_TOKEN_SECRET: 'x'.repeat(32) };

  test('on by default in production (60s), off in development; 0 or off turns it off', () => {
    assert.equal(
      reconcileIntervalOf(configFromEnv({ ...production, HUDDLE01_API_KEY: 'k' })),
      60_000,
    );
    assert.equal(reconcileIntervalOf(configFromEnv({ HUDDLE01_API_KEY: 'k' })), 0);
    assert.equal(
      reconcileIntervalOf(
        configFromEnv({ HUDDLE01_API_KEY: 'k', ROOMCAST_RECONCILE_INTERVAL: '30s' }),
      ),
      30_000,
    );
    for (const off of ['0', 'off', 'OFF']) {
      const config = configFromEnv({
        ...production,
        HUDDLE01_API_KEY: 'k',
        ROOMCAST_RECONCILE_INTERVAL: off,
      });
      assert.equal(reconcileIntervalOf(config), 0, off);
    }
    const tuned = configFromEnv({
      ROOMCAST_RECONCILE_BUDGET: '120',
      ROOMCAST_RECONCILE_CONCURRENCY: '2',
      ROOMCAST_RECONCILE_TIMEOUT: '2s',
      HUDDLE01_API_URL: 'http://egress.internal:8080',
    });
    assert.equal(tuned.reconcileBudget, 120);
    assert.equal(tuned.reconcileConcurrency, 2);
    assert.equal(tuned.reconcileTimeout, 2000);
    assert.equal(tuned.huddle01ApiUrl, 'http://egress.internal:8080');
    assert.throws(
      () => configFromEnv({ ROOMCAST_RECONCILE_INTERVAL: 'soon' }),
      /ROOMCAST_RECONCILE_INTERVAL/,
    );
    assert.throws(
      () => configFromEnv({ ROOMCAST_RECONCILE_BUDGET: '0' }),
      /ROOMCAST_RECONCILE_BUDGET/,
    );
  });

  test('a generated development key never reaches Huddle01: reconcile stays off and says so', () => {
    const asked = withDevSecrets(configFromEnv({ ROOMCAST_RECONCILE_INTERVAL: '30s' }));
    assert.equal(reconcileIntervalOf(asked.config), 0);
    assert.equal(asked.generated.reconcileOff, true);
    const quiet = withDevSecrets(configFromEnv({}));
    assert.equal(quiet.generated.reconcileOff, undefined);
  });
});
