/**
 * One token-expiry sweep for every subscriber connection of both transports (a WebSocket's auth
 * deadline, token expiry and refresh grace; an SSE stream's token expiry). A connection is filed
 * under the tick of its next deadline and visited only when that tick comes, so a tick costs
 * what is due at it, not a visit of every connection: at rest, 20,000 connections cost nothing
 * between their deadlines (a visit of each once a second took ~0.8 % of a core). One timer
 * serves both transports.
 */

/** Something with deadlines of its own, checked when the next one is due. */
export interface Expiring {
  /** Acts on whatever deadline passed by `now` (sends its error frame, closes). */
  checkExpiry(now: number): void;
  /**
   * When it next needs a visit (ms since the epoch): its next deadline, a time already past to
   * be visited again at the next tick, or Infinity for none (until `reschedule`).
   */
  nextExpiryCheck(): number;
}

/** The running sweep. */
export interface ExpirySweep {
  add(item: Expiring): void;
  delete(item: Expiring): void;
  /** Its deadlines changed other than by its own `checkExpiry` (a new token): files it again. */
  reschedule(item: Expiring): void;
  stop(): void;
}

/** How late after its deadline a connection is visited, at most (plus the timer's lateness). */
const TICK_MS = 100;

/**
 * Visits per tick, at most: a crowd whose tokens were minted in the same second expires in the
 * same tick, and its notices go out over a few ticks instead of blocking the event loop at once.
 */
const MAX_VISITS_PER_TICK = 2_000;

/** Starts the sweep: every `tickMs`, the connections whose next deadline has passed are visited. */
export function createExpirySweep(
  tickMs = TICK_MS,
  maxVisitsPerTick = MAX_VISITS_PER_TICK,
): ExpirySweep {
  /** The connections due at each tick (tick n covers the times up to n × tickMs). */
  const dueAt = new Map<number, Set<Expiring>>();
  /** Each connection's tick; Infinity when it has no deadline. */
  const tickOf = new Map<Expiring, number>();
  /** Every tick up to this one has been visited. */
  let visited = Math.floor(Date.now() / tickMs);
  /** The earliest tick a connection may be filed under now. */
  let earliest = visited + 1;

  function unfile(item: Expiring): void {
    const tick = tickOf.get(item);
    if (tick === undefined || tick === Infinity) return;
    const items = dueAt.get(tick);
    items?.delete(item);
    if (items?.size === 0) dueAt.delete(tick);
  }

  function file(item: Expiring): void {
    unfile(item);
    // Never a tick already visited or being visited: a deadline past (or a check that could
    // not act yet, such as a token being verified at its auth deadline) waits for a later one.
    const tick = Math.max(Math.ceil(item.nextExpiryCheck() / tickMs), earliest);
    tickOf.set(item, tick);
    if (tick === Infinity) return;
    let items = dueAt.get(tick);
    if (!items) dueAt.set(tick, (items = new Set()));
    items.add(item);
  }

  function visitDue(now: number): void {
    const until = Math.floor(now / tickMs);
    let budget = maxVisitsPerTick;
    for (let tick = visited + 1; tick <= until; tick++) {
      const items = dueAt.get(tick);
      for (const item of items ?? []) {
        // Out of budget: `visited` stays before this tick, the rest of it goes next time.
        if (budget-- === 0) return;
        items!.delete(item);
        tickOf.set(item, Infinity);
        item.checkExpiry(now);
        // Deleted during its check (closed at once): not filed again.
        if (tickOf.has(item)) file(item);
      }
      dueAt.delete(tick);
      visited = tick;
    }
  }

  const timer = setInterval(() => {
    const now = Date.now();
    // What is filed again during the visits goes after every tick due now.
    earliest = Math.max(visited, Math.floor(now / tickMs)) + 1;
    try {
      visitDue(now);
    } finally {
      earliest = visited + 1;
    }
  }, tickMs);
  timer.unref();

  return {
    add: file,
    delete(item) {
      unfile(item);
      tickOf.delete(item);
    },
    reschedule(item) {
      if (tickOf.has(item)) file(item);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
