/**
 * The options every engine takes from roomcast's config, and their defaults: the options' own
 * (config.ts), so an engine built without a config behaves as one built from the defaults.
 */
import { DEFAULT_CONFIG, pickConfig } from '../config.ts';
import type { RoomcastConfig } from '../config.ts';

/** The config options both engines read. */
export const ENGINE_CONFIG_KEYS = [
  'historySize',
  'historyTtl',
  'roomIdleTtl',
  'dedupWindow',
  'trackHold',
  'deadLetterLimit',
  'presenceGrace',
] as const;

/** The slice of the config an engine is given (durations in ms). */
export type EngineConfig = Pick<RoomcastConfig, (typeof ENGINE_CONFIG_KEYS)[number]>;

/** Every engine option's default: the option's (`historySize` 1000, `historyTtl` 24 h…). */
export const ENGINE_DEFAULTS: EngineConfig = pickConfig(DEFAULT_CONFIG, ENGINE_CONFIG_KEYS);

/**
 * `options`' engine settings, each one it leaves out (or sets to undefined) at its default: what
 * both engines start from.
 */
export function engineSettings(options: Partial<EngineConfig>): EngineConfig {
  const settings: Record<string, unknown> = { ...ENGINE_DEFAULTS };
  for (const key of ENGINE_CONFIG_KEYS) {
    if (options[key] !== undefined) settings[key] = options[key];
  }
  return settings as unknown as EngineConfig;
}
