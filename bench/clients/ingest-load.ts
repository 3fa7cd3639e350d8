/**
 * Child process: the ingest load generator. It signs a pool of unique webhooks once (signing is
 * kept out of the timed phases), then replays them against each server it is pointed at. Every
 * server process is fresh, so the same pool is "unique ids" to each of them; the pool is signed
 * again when its timestamps near roomcast's ±5 min freshness limit. A phase can spread its
 * connections over several ports (nodes sharing one Redis): they then draw from one sequence, so
 * ids stay unique across the nodes.
 */
import { randomBytes } from 'node:crypto';
import { serveRequests } from '../lib/ipc.ts';
import { runLoad } from '../lib/raw-http-client.ts';
import type { LoadResult } from '../lib/raw-http-client.ts';
import { mixWebhook, webhookRequestBytes } from '../lib/webhook-mix.ts';

/** Re-sign after this age: roomcast refuses signatures more than 5 min old. */
const MAX_POOL_AGE_MS = 3 * 60_000;

/** Rooms of the workload unless `prepare` says otherwise. */
const DEFAULT_ROOMS = 64;

let pool: Buffer[] = [];
let poolRooms = DEFAULT_ROOMS;
let signedAt = 0;
/** Next pool index per target (its ports): ids never repeat against one server or cluster. */
const cursors = new Map<string, number>();
let wrapped = 0;

function sign(size: number, rooms: number): { size: number; ms: number } {
  const started = performance.now();
  const tag = randomBytes(4).toString('hex');
  const now = Date.now();
  pool = Array.from({ length: size }, (_, index) =>
    webhookRequestBytes(mixWebhook(index, { rooms, tag, start: now })),
  );
  poolRooms = rooms;
  signedAt = now;
  return { size, ms: performance.now() - started };
}

/** Result of a phase, plus whether the pool ran out (ids would then repeat). */
export interface IngestPhaseResult extends LoadResult {
  poolWrapped: number;
}

serveRequests({
  /**
   * Signs the pool if it is missing, too small, too old or for another room count. `rewind`
   * starts every target at the pool's beginning again (for servers whose dedup state was wiped).
   */
  prepare: ({
    size,
    rooms = DEFAULT_ROOMS,
    rewind = false,
  }: {
    size: number;
    rooms?: number;
    rewind?: boolean;
  }) => {
    if (rewind) cursors.clear();
    if (pool.length < size || rooms !== poolRooms || Date.now() - signedAt > MAX_POOL_AGE_MS) {
      cursors.clear();
      return sign(size, rooms);
    }
    return { size: pool.length, ms: 0 };
  },
  run: async ({
    port,
    ports = [port!],
    concurrency,
    durationMs,
  }: {
    /** One server… */
    port?: number;
    /** …or several, sharing the connections round-robin. */
    ports?: number[];
    concurrency: number;
    durationMs: number;
  }): Promise<IngestPhaseResult> => {
    wrapped = 0;
    const target = ports.join(',');
    let cursor = cursors.get(target) ?? 0;
    const result = await runLoad({
      ports,
      concurrency,
      durationMs,
      nextRequest: () => {
        if (cursor >= pool.length) {
          wrapped++;
          cursor = 0;
        }
        return pool[cursor++]!;
      },
    });
    cursors.set(target, cursor);
    return { ...result, poolWrapped: wrapped };
  },
});
