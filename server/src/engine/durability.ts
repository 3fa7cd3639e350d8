/**
 * What the engine's storage can lose. A webhook answered 200 is a promise that it is in the
 * room's log; whether Redis keeps that promise through a restart, a crash or a full memory
 * depends on settings roomcast does not own. They are read, judged here and shown (startup
 * log, `/readyz`, `roomcast_durability_risk`), so a setup that can break the promise is never
 * silent. docs/deployment.md says what each setting costs.
 */

/** What a risky setting can do to acknowledged webhooks or rooms. */
export type DurabilityRisk =
  /** A restart or crash can lose webhooks already answered 200. */
  | 'loses-acknowledged-webhooks'
  /** Redis may delete room keys (state, history, dedup markers) to free memory. */
  | 'evicts-room-keys'
  /** The setting could not be read (CONFIG disabled, as on some managed services). */
  | 'unknown';

/** One setting that can break the 200-means-kept promise. */
export interface DurabilityWarning {
  /** The Redis setting, as CONFIG names it (`appendonly`, `appendfsync`, `maxmemory-policy`). */
  setting: string;
  /** Its value (`?` when it could not be read). */
  value: string;
  risk: DurabilityRisk;
  /** The node it was read from (`host:port`), when the engine has several. */
  node?: string;
  /** What it costs and what to set instead. */
  message: string;
}

/** The storage settings the engine read, and what they risk. */
export interface DurabilityReport {
  /** The settings read, per node (`host:port` → setting → value). */
  nodes: Record<string, Record<string, string>>;
  /** Empty when nothing can lose an acknowledged webhook or evict a room key. */
  warnings: DurabilityWarning[];
  /** When it was read (ms since the epoch). */
  readAt: number;
}

/** The settings the judgement reads, in CONFIG GET's names. */
export const DURABILITY_SETTINGS = ['appendonly', 'appendfsync', 'maxmemory-policy'] as const;

/** Every setting a warning can name (the metric reports each, 0 or 1). */
export const DURABILITY_METRIC_SETTINGS = [...DURABILITY_SETTINGS, 'config'] as const;

/**
 * Judges one Redis node's settings. Only `noeviction` is safe for memory: every roomcast key
 * carries a TTL, so the `volatile-*` policies may evict them as readily as `allkeys-*`; with
 * `noeviction` a full Redis refuses writes, the webhook answers 503 and Huddle01 retries it.
 */
export function judgeRedisSettings(
  settings: Readonly<Record<string, string>>,
  node?: string,
): DurabilityWarning[] {
  const warnings: DurabilityWarning[] = [];
  const warn = (setting: string, risk: DurabilityRisk, message: string) =>
    warnings.push({
      setting,
      value: settings[setting] ?? '?',
      risk,
      ...(node === undefined ? {} : { node }),
      message,
    });
  if (settings.appendonly === 'no') {
    warn(
      'appendonly',
      'loses-acknowledged-webhooks',
      'appendonly no: a Redis restart or crash loses every webhook acknowledged since the last RDB snapshot; set appendonly yes',
    );
  } else if (settings.appendfsync === 'no') {
    warn(
      'appendfsync',
      'loses-acknowledged-webhooks',
      'appendfsync no: a machine crash loses the webhooks the OS had not flushed (up to ~30 s); set appendfsync everysec (at most ~1 s) or always',
    );
  }
  const policy = settings['maxmemory-policy'];
  if (policy !== undefined && policy !== 'noeviction') {
    warn(
      'maxmemory-policy',
      'evicts-room-keys',
      `maxmemory-policy ${policy}: a full Redis evicts room keys (state, history, dedup markers) and rooms silently restart; set noeviction so a full Redis answers 503 and Huddle01 retries`,
    );
  }
  return warnings;
}

/** The warning for a node whose settings could not be read. */
export function unreadableWarning(reason: string, node?: string): DurabilityWarning {
  return {
    setting: 'config',
    value: '?',
    risk: 'unknown',
    ...(node === undefined ? {} : { node }),
    message: `cannot read Redis persistence settings (${reason}): check appendonly yes and maxmemory-policy noeviction by hand`,
  };
}
