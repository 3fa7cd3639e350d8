/**
 * Ticks of the event loop, for coalescing: a WebSocket that already got a frame in this tick
 * holds the next ones and sends them together when the tick ends (one `setImmediate` for the
 * whole process, only in ticks that sent something). A burst of events then costs each
 * subscriber two writes instead of one per event; a lone event is written at once, as before.
 */

/** Something holding frames until the end of the tick. */
export interface TickFlushable {
  /** Sends what it holds; `shared` lets connections with the same frames share one batch. */
  flushTick(shared: Map<unknown, unknown>): void;
}

let tick = 0;
let ending = false;
let holding: TickFlushable[] = [];

function endTick(): void {
  tick++;
  ending = false;
  const flushing = holding;
  holding = [];
  const shared = new Map<unknown, unknown>();
  for (const target of flushing) target.flushTick(shared);
}

/** The current tick's number (and makes sure the tick's end is noticed). */
export function currentTick(): number {
  if (!ending) {
    ending = true;
    setImmediate(endTick);
  }
  return tick;
}

/** Flushes `target` when the current tick ends. */
export function flushAtTickEnd(target: TickFlushable): void {
  currentTick();
  holding.push(target);
}
