/**
 * The room list: `GET /rooms` (a `*` token) polled every couple of seconds. It works the same
 * on one node or many behind a load balancer (every node reads the shared engine), and tells
 * a refused token (401 / 403) apart from a server that cannot be reached.
 */

// The server's own type of a `GET /rooms` line (type-only: nothing of the server is bundled).
import type { RoomSummary } from '../../src/engine/engine.ts';

export type { RoomSummary };

/** The outcome of one poll. */
export type PollResult =
  | { ok: true; rooms: RoomSummary[] }
  | { ok: false; reason: 'unauthorized' | 'forbidden' | 'unreachable'; message: string };

/** Options of createRoomsFeed. */
export interface RoomsFeedOptions {
  /** The server's base URL (the page's folder: the console lives under the plugin's prefix). */
  base: string;
  token: string;
  /** Time between the end of one poll and the start of the next. Default 2000 ms. */
  intervalMs?: number;
  onResult(result: PollResult): void;
}

/** A running feed. */
export interface RoomsFeed {
  /** Polls now (e.g. back online), without waiting for the timer. */
  refresh(): void;
  stop(): void;
}

async function poll(base: string, token: string): Promise<PollResult> {
  let response: Response;
  try {
    response = await fetch(`${base}/rooms?limit=500`, {
      headers: { authorization: `Bearer ${token}` },
      cache: 'no-store',
      signal: AbortSignal.timeout(8000),
    });
  } catch {
    return { ok: false, reason: 'unreachable', message: 'The server cannot be reached.' };
  }
  if (response.status === 401) {
    return {
      ok: false,
      reason: 'unauthorized',
      message: 'The server refused this token: it is not valid here, or it has expired.',
    };
  }
  if (response.status === 403) {
    return {
      ok: false,
      reason: 'forbidden',
      message: 'This token does not grant every room. The console needs a token for rooms ["*"].',
    };
  }
  if (!response.ok) {
    return { ok: false, reason: 'unreachable', message: `The server answered ${response.status}.` };
  }
  try {
    const body = (await response.json()) as { rooms: RoomSummary[] };
    return { ok: true, rooms: body.rooms };
  } catch {
    return { ok: false, reason: 'unreachable', message: 'The server sent an unreadable answer.' };
  }
}

/** Starts polling at once. A refused token stops the feed (a new token makes a new feed). */
export function createRoomsFeed(options: RoomsFeedOptions): RoomsFeed {
  const interval = options.intervalMs ?? 2000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let inFlight = false;

  async function run() {
    clearTimeout(timer);
    if (stopped || inFlight) return;
    inFlight = true;
    const result = await poll(options.base, options.token);
    inFlight = false;
    if (stopped) return;
    options.onResult(result);
    const refused = !result.ok && result.reason !== 'unreachable';
    if (!refused) timer = setTimeout(run, interval);
  }
  void run();

  return {
    refresh: () => void run(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
