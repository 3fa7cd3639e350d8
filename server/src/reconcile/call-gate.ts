/**
 * The good-citizen gate in front of Huddle01's API: every call waits here for
 * - the budget: calls start at least `windowMs / perWindow` apart, so no window of `windowMs`
 *   ever holds more than `perWindow` of them, and the load on Huddle01 is smooth, not bursty;
 * - a concurrency slot: at most `concurrency` calls in flight;
 * - the backoff: after a failure every call pauses, for Retry-After when Huddle01 gave one,
 *   else exponentially (with jitter) until a call succeeds again.
 * Urgent calls (a subscriber waiting for its first snapshot) go before the periodic ones.
 */

/** Options of the gate. */
export interface CallGateOptions {
  /** Calls allowed per window. */
  perWindow: number;
  /** The window, ms. Default 60 s (the budget is "per minute"). */
  windowMs?: number;
  /** Calls in flight at once. */
  concurrency: number;
  /** First pause after a failure, ms (doubles per failure in a row). Default 1 s. */
  backoffBaseMs?: number;
  /** Longest pause, Retry-After included, ms. Default 5 min. */
  backoffMaxMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
}

/** The gate. */
export interface CallGate {
  /** Runs `call` once the budget, a slot and any backoff allow it. */
  run<T>(call: () => Promise<T>, urgent?: boolean): Promise<T>;
  /** Pauses every call after a failure; `retryAfterMs` (from Huddle01) wins over the backoff. */
  failed(retryAfterMs?: number): number;
  /** Ends a failure streak. */
  succeeded(): void;
  /** Calls waiting for their turn. */
  readonly waiting: number;
  /** Refuses every waiting and later call. */
  close(): void;
}

/** Raised for calls still waiting when the gate closes. */
export class GateClosedError extends Error {
  override name = 'GateClosedError';
}

interface Waiter {
  start: () => void;
  refuse: (error: Error) => void;
}

/** Creates a gate. */
export function createCallGate(options: CallGateOptions): CallGate {
  const {
    perWindow,
    windowMs = 60_000,
    concurrency,
    backoffBaseMs = 1000,
    backoffMaxMs = 300_000,
    now = Date.now,
    random = Math.random,
  } = options;
  const gap = windowMs / perWindow;
  const urgent: Waiter[] = [];
  const normal: Waiter[] = [];
  let inFlight = 0;
  let lastStart = -Infinity;
  let pausedUntil = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function pump(): void {
    if (timer !== undefined || closed) return;
    while (inFlight < concurrency && urgent.length + normal.length > 0) {
      const at = now();
      const earliest = Math.max(pausedUntil, lastStart + gap);
      if (at < earliest) {
        // One timer for the whole queue; it re-checks the clock when it fires. Not unref'd:
        // waiting calls are work in progress, and close() clears it.
        timer = setTimeout(
          () => {
            timer = undefined;
            pump();
          },
          Math.ceil(earliest - at),
        );
        return;
      }
      lastStart = at;
      inFlight++;
      (urgent.shift() ?? normal.shift())!.start();
    }
  }

  return {
    run(call, isUrgent = false) {
      if (closed) return Promise.reject(new GateClosedError('gate closed'));
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          start: () => {
            call()
              .then(resolve, reject)
              .finally(() => {
                inFlight--;
                pump();
              });
          },
          refuse: reject,
        };
        (isUrgent ? urgent : normal).push(waiter);
        pump();
      });
    },

    failed(retryAfterMs) {
      failures++;
      const backoff = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (failures - 1));
      // Half fixed, half random: nodes that failed together do not come back together.
      const delay =
        retryAfterMs !== undefined
          ? Math.min(backoffMaxMs, retryAfterMs)
          : backoff / 2 + (random() * backoff) / 2;
      pausedUntil = Math.max(pausedUntil, now() + delay);
      return delay;
    },

    succeeded() {
      failures = 0;
    },

    get waiting() {
      return urgent.length + normal.length;
    },

    close() {
      closed = true;
      clearTimeout(timer);
      for (const waiter of [...urgent.splice(0), ...normal.splice(0)]) {
        waiter.refuse(new GateClosedError('gate closed'));
      }
    },
  };
}
