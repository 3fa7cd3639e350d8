/**
 * One token-expiry sweep for every subscriber connection of both transports: each connection is
 * visited once per period and checks its own deadlines (a WebSocket's auth deadline, token
 * expiry and refresh grace; an SSE stream's token expiry). On a timer wheel (timer-wheel.ts), so
 * a sweep over 20,000 connections is spread over the period instead of blocking the event loop
 * in one go, and one timer serves both transports.
 */
import { createTimerWheel } from './timer-wheel.ts';

/** Something with deadlines of its own, checked at each visit. */
export interface Expiring {
  /** Acts on whatever deadline passed by `now` (sends its error frame, closes). */
  checkExpiry(now: number): void;
}

/** The running sweep. */
export interface ExpirySweep {
  add(item: Expiring): void;
  delete(item: Expiring): void;
  stop(): void;
}

/** Ticks of the sweep: ten a period (the connections visited at a tick, a tenth of them). */
const TICKS_PER_PERIOD = 10;

/** Starts a sweep that visits every item once per `periodMs` (default 1 s). */
export function createExpirySweep(periodMs = 1000): ExpirySweep {
  return createTimerWheel<Expiring>(
    periodMs,
    (slots, now) => {
      for (const item of slots.slot(0)) item.checkExpiry(now);
    },
    Math.max(1, Math.floor(periodMs / TICKS_PER_PERIOD)),
  );
}
