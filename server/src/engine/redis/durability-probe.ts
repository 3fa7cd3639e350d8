/**
 * Reads the persistence and eviction settings of the Redis nodes that hold the rooms (CONFIG
 * GET) and judges them (../durability.ts). Cached for a while: `/readyz` and `/metrics` ask
 * often, the settings rarely change, and a reconnect (a restart, a failover to another node)
 * forgets the cache at once.
 */
import type { Redis } from 'ioredis';
import {
  DURABILITY_SETTINGS,
  judgeRedisSettings,
  unreadableWarning,
  type DurabilityReport,
  type DurabilityWarning,
} from '../durability.ts';

/** Options of the probe. */
export interface DurabilityProbeOptions {
  /** The nodes that hold room keys (one server, or a cluster's masters). */
  nodes: () => Redis[];
  /** How long a report is reused, ms. Default 30 s. */
  cacheMs?: number;
  now?: () => number;
}

/** The probe: the current report, and a way to drop the cached one. */
export interface DurabilityProbe {
  read(): Promise<DurabilityReport>;
  forget(): void;
}

/** The `host:port` a connection talks to (its name in warnings). */
function nodeName(node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

/** Reads one node's settings; an error (CONFIG renamed or refused) is a warning, not a failure. */
async function readNode(
  node: Redis,
  several: boolean,
): Promise<{ name: string; settings: Record<string, string>; warnings: DurabilityWarning[] }> {
  const name = nodeName(node);
  const label = several ? name : undefined;
  try {
    // One setting per CONFIG GET: several patterns in one call needs Redis 7.
    const replies = await Promise.all(
      DURABILITY_SETTINGS.map((setting) => node.config('GET', setting) as Promise<string[]>),
    );
    const settings: Record<string, string> = {};
    for (const reply of replies) {
      for (let index = 0; index + 1 < reply.length; index += 2) {
        settings[reply[index]!] = reply[index + 1]!;
      }
    }
    return { name, settings, warnings: judgeRedisSettings(settings, label) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // Unreachable is an outage (readiness says so), not a settings problem.
    if (/connection|closed|timed? ?out|ECONN|writeable/i.test(reason)) throw error;
    return { name, settings: {}, warnings: [unreadableWarning(reason, label)] };
  }
}

/** Creates the probe over `nodes`. */
export function createDurabilityProbe({
  nodes,
  cacheMs = 30_000,
  now = Date.now,
}: DurabilityProbeOptions): DurabilityProbe {
  let cached: { report: Promise<DurabilityReport>; until: number } | undefined;

  async function readAll(): Promise<DurabilityReport> {
    const list = nodes();
    const results = await Promise.all(list.map((node) => readNode(node, list.length > 1)));
    return {
      nodes: Object.fromEntries(results.map(({ name, settings }) => [name, settings])),
      warnings: results.flatMap(({ warnings }) => warnings),
      readAt: now(),
    };
  }

  return {
    read() {
      if (cached !== undefined && cached.until > now()) return cached.report;
      const report = readAll();
      const entry = { report, until: now() + cacheMs };
      cached = entry;
      // A failed read is not kept: the next caller tries again.
      report.catch(() => {
        if (cached === entry) cached = undefined;
      });
      return report;
    },
    forget() {
      cached = undefined;
    },
  };
}
