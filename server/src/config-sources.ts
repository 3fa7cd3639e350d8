/**
 * `roomcast serve` configuration from three sources over the one schema: an optional JSON
 * config file (`--config`, or ROOMCAST_CONFIG), environment variables (and a `.env` file in the
 * working directory), and flags. Later sources win: file < env < flags. Errors name the
 * variable, flag or file key that holds the bad value, and the accepted form.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, ENV_NAMES, optionsFromEnv, optionsSchema } from './config.ts';
import type { RoomcastConfig, RoomcastOptions } from './config.ts';
import { OPTION_DOCS, flagOf, formatDefault, legacyFlagOf } from './config-docs.ts';
import { usageMessage } from './cli/args.ts';

/** Option keys that have no flag (set by NODE_ENV only). */
const NO_FLAG = new Set(['production']);

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

/** `roomcast serve --help`, generated from the option docs and the schema's defaults. */
export function serveHelp(): string {
  const defaults = optionsSchema.parse({}) as Record<string, unknown>;
  const rows = Object.entries(OPTION_DOCS).map(([key, doc]) => {
    const flag = NO_FLAG.has(key) ? '' : `--${flagOf(key)} <${doc.unit}>`;
    return [flag, doc.env, formatDefault(doc.unit, defaults[key]), doc.help];
  });
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map(
    (row) =>
      `  ${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]!.padEnd(widths[2]!)}  ${row[3]}`,
  );
  return [
    'Usage: roomcast serve [options]',
    '',
    'Runs the server. Every option can be a flag, an environment variable (also read from',
    'a .env file in the working directory) or a key of a JSON file given with --config',
    '(camelCase, e.g. {"historySize": 500}). Flags win over the environment, which wins over',
    'the file. Durations: 500ms, 30s, 5m, 24h. Sizes: 512KiB, 1MiB or bytes.',
    '',
    `  ${'flag'.padEnd(widths[0]!)}  ${'env'.padEnd(widths[1]!)}  ${'default'.padEnd(widths[2]!)}  meaning`,
    ...lines,
    `  ${'--config <file>'.padEnd(widths[0]!)}  ${'ROOMCAST_CONFIG'.padEnd(widths[1]!)}  ${'(unset)'.padEnd(widths[2]!)}  JSON file of options`,
    `  ${'-h, --help'.padEnd(widths[0]!)}`,
  ].join('\n');
}

/** Parses flags, the config file and the environment into one config. */
export function loadServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfigResult {
  const flagOptions: Record<string, { type: 'string' } | { type: 'boolean'; short?: string }> = {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const key of Object.keys(OPTION_DOCS)) {
    if (NO_FLAG.has(key)) continue;
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
    if (key === 'production' && value === false && merged.production !== undefined) continue;
    merged[key] = value;
    if (key !== 'production' || value) sources[key] = ENV_NAMES[key as keyof typeof ENV_NAMES];
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
  const result = optionsSchema.safeParse(merged as RoomcastOptions);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '?');
      return `${sources[key] ?? ENV_NAMES[key as keyof typeof ENV_NAMES] ?? key}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return { help: false, config: Object.freeze(result.data) };
}
