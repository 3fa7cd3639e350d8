/**
 * `roomcast serve` configuration from three sources over the one schema: an optional JSON
 * config file (`--config`, or ROOMCAST_CONFIG), environment variables (and a `.env` file in the
 * working directory), and flags. Later sources win: file < env < flags. Errors name the
 * variable, flag or file key that holds the bad value, and the accepted form.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, ENV_NAMES, OPTION_DOCS, optionsFromEnv, parseConfig } from './config.ts';
import type { OptionKey, RoomcastConfig, RoomcastOptions } from './config.ts';
import { flagOf, hasFlag, legacyFlagOf, serveHelp } from './config-docs.ts';
import { usageMessage } from './cli/args.ts';

/** What `loadServeConfig` found. */
export type ServeConfigResult =
  { help: true; text: string } | { help: false; config: RoomcastConfig };

/** Reads `.env` from `cwd` into `env` without overriding what is already set. */
export function loadDotEnv(cwd: string = process.cwd()): void {
  const path = `${cwd}/.env`;
  if (existsSync(path)) process.loadEnvFile(path);
}

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`config file ${path}: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path}: expected a JSON object of options`);
  }
  for (const key of Object.keys(parsed)) {
    if (!Object.hasOwn(OPTION_DOCS, key)) {
      throw new ConfigError(
        `config file ${path}: unknown option "${key}" (see roomcast serve --help)`,
      );
    }
  }
  return parsed as Record<string, unknown>;
}

/** Parses flags, the config file and the environment into one config. */
export function loadServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfigResult {
  const flagOptions: Record<string, { type: 'string' } | { type: 'boolean'; short?: string }> = {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const [key, doc] of Object.entries(OPTION_DOCS)) {
    if (!hasFlag(doc)) continue;
    // The flag mirrors the env name; the older spelling after the option key still works.
    flagOptions[flagOf(key)] = { type: 'string' };
    flagOptions[legacyFlagOf(key)] = { type: 'string' };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: flagOptions,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    const known = Object.keys(OPTION_DOCS).map(flagOf);
    throw new ConfigError(`${usageMessage(error, known)} (see roomcast serve --help)`);
  }
  if (values.help) return { help: true, text: serveHelp() };

  const sources: Record<string, string> = {};
  const merged: Record<string, unknown> = {};
  const configPath = (values.config as string | undefined) ?? env.ROOMCAST_CONFIG;
  if (configPath) {
    for (const [key, value] of Object.entries(readConfigFile(configPath))) {
      merged[key] = value;
      sources[key] = `${key} in ${configPath}`;
    }
  }
  for (const [key, value] of Object.entries(optionsFromEnv(env))) {
    // NODE_ENV unset (production false) leaves the file's `production` as it is.
    const byValue = OPTION_DOCS[key as OptionKey].envValue !== undefined;
    if (byValue && value === false && merged[key] !== undefined) continue;
    merged[key] = value;
    if (!byValue || value) sources[key] = ENV_NAMES[key as OptionKey];
  }
  for (const key of Object.keys(OPTION_DOCS)) {
    for (const name of new Set([legacyFlagOf(key), flagOf(key)])) {
      const value = values[name];
      if (typeof value === 'string') {
        merged[key] = value;
        sources[key] = `--${name}`;
      }
    }
  }
  const nameOf = (key: string) => sources[key] ?? ENV_NAMES[key as OptionKey] ?? key;
  const config = parseConfig(merged as RoomcastOptions, 'invalid configuration: ', nameOf);
  return { help: false, config };
}
