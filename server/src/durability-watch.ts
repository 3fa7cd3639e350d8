/**
 * Reads the engine's durability report once the engine is reachable and again every few
 * minutes, and logs each warning when it first appears (and once when all are gone), so a
 * Redis that can lose acknowledged webhooks is named in the log at startup, not discovered
 * after an outage. The metric and `/readyz` read the same report.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { DurabilityReport } from './engine/durability.ts';
import type { Engine } from './engine/engine.ts';

/** Options of the watch. */
export interface DurabilityWatchOptions {
  engine: Engine;
  log: FastifyBaseLogger;
  /** How often the settings are read again, ms. Default 5 min. */
  intervalMs?: number;
  /** How soon a read that failed (Redis not reachable yet) is tried again, ms. Default 2 s. */
  retryMs?: number;
}

/** The watch: the last report read, and a way to stop it. */
export interface DurabilityWatch {
  latest(): DurabilityReport | undefined;
  close(): void;
}

/** Starts watching; undefined for an engine without a durability report (memory). */
export function watchDurability({
  engine,
  log,
  intervalMs = 300_000,
  retryMs = 2000,
}: DurabilityWatchOptions): DurabilityWatch | undefined {
  if (engine.durability === undefined) return undefined;
  const read = engine.durability.bind(engine);
  let latest: DurabilityReport | undefined;
  let logged = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function report(next: DurabilityReport): void {
    latest = next;
    const now = new Set<string>();
    for (const warning of next.warnings) {
      const key = `${warning.node ?? ''}|${warning.setting}|${warning.value}`;
      now.add(key);
      if (!logged.has(key)) {
        const { message, ...setting } = warning;
        log.warn({ durability: setting }, message);
      }
    }
    if (now.size === 0 && logged.size > 0) {
      log.info('Redis persistence settings no longer risk acknowledged webhooks');
    }
    logged = now;
  }

  function schedule(ms: number): void {
    if (closed) return;
    timer = setTimeout(tick, ms);
    timer.unref();
  }

  function tick(): void {
    read().then(
      (next) => {
        report(next);
        schedule(intervalMs);
      },
      () => schedule(retryMs),
    );
  }

  tick();
  return {
    latest: () => latest,
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
