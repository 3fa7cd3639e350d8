/**
 * Occupancy: how many subscribers (WebSocket + SSE) watch each room, summed across nodes when
 * the engine is shared. The hub tells it when a room's local count changes; once a second it
 * reports changed counts to the engine (and refreshes the others before they lapse), reads the
 * totals of rooms that have subscribers who asked for them (`occupancy: true`), and sends each
 * of those an `occupancy` frame when the total changed: at most one frame a second per room.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import { occupancyFrame } from './frames.ts';
import type { OutgoingFrame } from './frames.ts';

/** How often counts are reported and totals pushed, ms. */
export const OCCUPANCY_INTERVAL_MS = 1000;
/** Unchanged local counts are reported again this often, so the engine keeps them. */
export const OCCUPANCY_REFRESH_MS = 15_000;

/** A subscription that wants occupancy frames, as the tracker sees it. */
export interface OccupancyWatcher {
  readonly roomId: string;
  /** False until the subscription's snapshot or replay is out (frames after it, not before). */
  ready(): boolean;
  send(frame: OutgoingFrame): void;
}

/** The tracker's API for the hub and the routes. */
export interface Occupancy {
  /** The room's local subscriber count is now `count` (0 when its last one left). */
  changed(roomId: string, count: number): void;
  watch(watcher: OccupancyWatcher): void;
  unwatch(watcher: OccupancyWatcher): void;
  /** Current totals (all nodes) of `roomIds`. */
  totals(roomIds: readonly string[]): Promise<Map<string, number>>;
  /** This node's `n` most-watched rooms and their local counts, most first (the metric). */
  topLocal(n: number): [string, number][];
  close(): void;
}

/** Options of the tracker. */
export interface OccupancyOptions {
  engine: Engine;
  log: FastifyBaseLogger;
  intervalMs?: number;
  now?: () => number;
}

/** Creates the tracker (its timer runs only while some room has local subscribers). */
export function createOccupancy(options: OccupancyOptions): Occupancy {
  const { engine, log, intervalMs = OCCUPANCY_INTERVAL_MS, now = Date.now } = options;
  const local = new Map<string, number>();
  /** Rooms whose count changed since the last report (0 included: it must be withdrawn). */
  const dirty = new Set<string>();
  const watchers = new Map<string, Set<OccupancyWatcher>>();
  /** The total each room's watchers were last told. */
  const told = new Map<string, number>();
  let lastRefresh = now();
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  const shared = engine.reportOccupancy !== undefined && engine.occupancy !== undefined;

  function ensureTimer(): void {
    if (timer || (local.size === 0 && dirty.size === 0)) return;
    timer = setInterval(() => void tick(), intervalMs);
    timer.unref();
  }

  async function tick(): Promise<void> {
    if (running) return; // a slow engine: skip a beat rather than pile up
    running = true;
    try {
      if (shared) {
        const refresh = now() - lastRefresh >= OCCUPANCY_REFRESH_MS;
        const rooms = refresh ? new Set([...local.keys(), ...dirty]) : new Set(dirty);
        if (refresh) lastRefresh = now();
        dirty.clear();
        if (rooms.size > 0) {
          const counts = new Map([...rooms].map((room) => [room, local.get(room) ?? 0]));
          await engine.reportOccupancy!(counts);
        }
      } else {
        dirty.clear();
      }
      if (watchers.size > 0) await push();
    } catch (error) {
      log.warn({ err: error }, 'occupancy update failed');
    } finally {
      running = false;
      if (local.size === 0 && dirty.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    }
  }

  async function push(): Promise<void> {
    const totals = await readTotals([...watchers.keys()]);
    for (const [roomId, set] of watchers) {
      const total = totals.get(roomId) ?? 0;
      const frame = occupancyFrame(roomId, total);
      for (const watcher of set) {
        // A watcher that is not ready yet gets the current total with its first tick after.
        if (!watcher.ready()) continue;
        if (told.get(roomId) === total && !fresh.has(watcher)) continue;
        fresh.delete(watcher);
        watcher.send(frame);
      }
      told.set(roomId, total);
    }
  }

  /** Watchers that have not been told any total yet. */
  const fresh = new WeakSet<OccupancyWatcher>();

  async function readTotals(roomIds: readonly string[]): Promise<Map<string, number>> {
    if (!shared) return new Map(roomIds.map((room) => [room, local.get(room) ?? 0]));
    return engine.occupancy!(roomIds);
  }

  return {
    changed(roomId, count) {
      if (count > 0) local.set(roomId, count);
      else local.delete(roomId);
      dirty.add(roomId);
      ensureTimer();
    },
    watch(watcher) {
      let set = watchers.get(watcher.roomId);
      if (!set) watchers.set(watcher.roomId, (set = new Set()));
      set.add(watcher);
      fresh.add(watcher);
      ensureTimer();
    },
    unwatch(watcher) {
      const set = watchers.get(watcher.roomId);
      if (!set?.delete(watcher)) return;
      if (set.size === 0) {
        watchers.delete(watcher.roomId);
        told.delete(watcher.roomId);
      }
    },
    totals: readTotals,
    topLocal(n) {
      return [...local].sort((a, b) => b[1] - a[1]).slice(0, n);
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      watchers.clear();
      // Withdraw this node's counts at once instead of waiting for them to lapse.
      if (shared && local.size > 0) {
        const gone = new Map([...local.keys()].map((room) => [room, 0]));
        local.clear();
        engine.reportOccupancy!(gone).catch(() => undefined);
      }
    },
  };
}
