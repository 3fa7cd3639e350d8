/**
 * A concurrency limit for the engine's background reads: after a reconnect or a failover every
 * room a node listens to wants its catch-up read at once; the limiter lets a bounded number run
 * and queues the rest in arrival order, so Redis (just back, perhaps just promoted) gets a
 * steady stream of reads instead of thousands in one burst.
 */

/** Runs work with at most `concurrency` pieces in flight. */
export interface Limiter {
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Pieces running now. */
  readonly inFlight: number;
  /** Most pieces that ever ran at once (for tests and the bench). */
  readonly maxInFlight: number;
  /** Pieces waiting for a turn. */
  readonly waiting: number;
}

/** Creates a limiter of `concurrency` (≥ 1) pieces in flight. */
export function createLimiter(concurrency: number): Limiter {
  const limit = Math.max(1, Math.floor(concurrency));
  const queue: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  function release(): void {
    inFlight--;
    queue.shift()?.();
  }

  return {
    async run(work) {
      if (inFlight >= limit) await new Promise<void>((resolve) => queue.push(resolve));
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await work();
      } finally {
        release();
      }
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get waiting() {
      return queue.length;
    },
  };
}
