/**
 * One entry per option (config.ts): its docs, its default and what is made from them agree —
 * the README's table, the schema's JSDoc, the engines' defaults; the config is deep-frozen, each
 * route gets its slice, and a parsed config is handed to the plugin as it is.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { buildApp } from '../server/src/app.ts';
import {
  DEFAULT_CONFIG,
  OPTION_DOCS,
  configFromEnv,
  isParsedConfig,
  optionsSchema,
  parseOptions,
  pickConfig,
  withDevSecrets,
} from '../server/src/config.ts';
import type { OptionKey, RoomcastConfig } from '../server/src/config.ts';
import {
  README_TABLE_END,
  README_TABLE_START,
  defaultOf,
  readmeOptionRows,
} from '../server/src/config-docs.ts';
import { loadServeConfig } from '../server/src/config-sources.ts';
import {
  ENGINE_CONFIG_KEYS,
  ENGINE_DEFAULTS,
  engineSettings,
} from '../server/src/engine/engine-config.ts';
import { roomcast } from '../server/src/plugin.ts';
import { WEBSOCKET_CONFIG_KEYS } from '../server/src/transports/websocket-route.ts';
import { TEST_KEY, TEST_SECRET } from './helpers/server.ts';

const source = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** Fails unless `value` and everything in it is frozen. */
function assertDeepFrozen(value: unknown, path = 'config'): void {
  if (value === null || typeof value !== 'object') return;
  assert.ok(Object.isFrozen(value), `${path} is frozen`);
  for (const [key, item] of Object.entries(value)) assertDeepFrozen(item, `${path}.${key}`);
}

describe('options: one entry each', () => {
  test('every option of the schema has its docs, in the schema order', () => {
    assert.deepEqual(Object.keys(OPTION_DOCS), Object.keys(optionsSchema.shape));
    for (const [key, doc] of Object.entries(OPTION_DOCS)) {
      assert.match(doc.env, /^[A-Z][A-Z0-9_]+$/, key);
      assert.ok(doc.help.length > 0, key);
    }
  });

  test("each option's JSDoc names its variable and the default the schema gives", () => {
    const text = source('server/src/config.ts');
    const schema = text.slice(text.indexOf('export const optionsSchema'));
    for (const [key, doc] of Object.entries(OPTION_DOCS)) {
      const match = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*\\n\\s*${key}:`).exec(schema);
      assert.ok(match, `${key} has a JSDoc`);
      const jsdoc = match[1]!.replace(/\s*\*\s*/g, ' ');
      assert.ok(jsdoc.includes(`Env \`${doc.env}\``), `${key}: the JSDoc names ${doc.env}`);
      const value = DEFAULT_CONFIG[key as OptionKey];
      if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
      const written = defaultOf(key as OptionKey);
      assert.ok(jsdoc.includes(`Default ${written}`), `${key}: the JSDoc says Default ${written}`);
    }
  });

  test("the README's table is the one the options make (npm run option-docs)", () => {
    const readme = source('README.md');
    const start = readme.indexOf(README_TABLE_START);
    const end = readme.indexOf(README_TABLE_END);
    assert.ok(start >= 0 && end > start, 'README.md has the table markers');
    const rows = readme
      .slice(start, end)
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .slice(2) // the header and its rule
      .map((line) =>
        line
          .slice(1, -1)
          .split(' | ')
          .map((cell) => cell.trim()),
      );
    assert.deepEqual(rows, readmeOptionRows(), 'README.md is stale: run npm run option-docs');
  });

  test("the engines' defaults are the options' defaults", () => {
    assert.deepEqual(ENGINE_DEFAULTS, pickConfig(optionsSchema.parse({}), ENGINE_CONFIG_KEYS));
    assert.equal(ENGINE_DEFAULTS.historySize, 1000);
    assert.equal(ENGINE_DEFAULTS.trackHold, 30_000);
    // What an engine starts from: the given settings, the defaults for the rest (undefined too).
    assert.deepEqual(engineSettings({ historySize: 5, historyTtl: undefined }), {
      ...ENGINE_DEFAULTS,
      historySize: 5,
    });
    for (const file of ['memory-engine.ts', 'redis-engine.ts']) {
      // A default written out again in an engine would drift from the option's.
      assert.doesNotMatch(
        source(`server/src/engine/${file}`),
        /(historySize|historyTtl|roomIdleTtl|dedupWindow|trackHold|deadLetterLimit|presenceGrace|dedupMaxIds) = [0-9]/,
        file,
      );
    }
  });

  test('config.ts does not import what is rendered from it (no import circle)', () => {
    const imports = (path: string) =>
      [...source(path).matchAll(/^import[^;]*from '([^']+)'/gm)].map((match) => match[1]);
    assert.ok(!imports('server/src/config.ts').includes('./config-docs.ts'));
    assert.deepEqual(imports('server/src/config-meta.ts'), ['zod']);
  });
});

describe('config: deep-frozen, sliced, parsed once', () => {
  test('every way of making a config deep-freezes it, lists included', () => {
    const fromEnv = configFromEnv({ HUDDLE01_API_KEY: 'a,b', ROOMCAST_TRUST_PROXY: '10.0.0.1' });
    const fromOptions = parseOptions({ tokenSecrets: ['s'], allowedOrigins: 'https://a.example' });
    const withSecrets = withDevSecrets(fromEnv).config;
    const served = loadServeConfig(['--publish-key', 'k1,k2'], {});
    assert.ok(!served.help);
    for (const config of [fromEnv, fromOptions, withSecrets, DEFAULT_CONFIG, served.config]) {
      assertDeepFrozen(config);
      assert.ok(isParsedConfig(config));
    }
    assert.throws(() => (fromEnv.huddle01ApiKeys as string[]).push('c'), TypeError);
    assert.deepEqual(fromEnv.huddle01ApiKeys, ['a', 'b']);
  });

  test('a slice holds only its keys, frozen', () => {
    const slice = pickConfig(DEFAULT_CONFIG, WEBSOCKET_CONFIG_KEYS);
    assert.deepEqual(Object.keys(slice), [...WEBSOCKET_CONFIG_KEYS]);
    assert.ok(Object.isFrozen(slice));
    assert.ok(!('tokenSecrets' in slice));
  });

  test('buildApp hands its parsed config to the plugin as it is', async () => {
    const config = parseOptions({
      huddle01ApiKeys: [TEST_KEY],
      tokenSecrets: [TEST_SECRET],
      logLevel: 'silent',
    });
    const app = await buildApp({ config, logger: false });
    try {
      await app.ready();
      assert.equal(app.roomcast.config, config);
    } finally {
      await app.close();
    }
  });

  test('the plugin refuses a config that was not parsed', async () => {
    const app = Fastify({ logger: false });
    const lookAlike = { ...parseOptions({ huddle01ApiKeys: [TEST_KEY] }) } as RoomcastConfig;
    await assert.rejects(async () => {
      await app.register(roomcast, { config: lookAlike });
      await app.ready();
    }, /`config` must come from parseOptions\(\) or configFromEnv\(\)/);
    await app.close();
  });
});
