/**
 * A timer wheel for periodic work on every connection (WebSocket pings, SSE heartbeats): the
 * connections are spread over the wheel's slots and each tick visits one slot, so each is
 * visited once per turn, and a turn's work is spread over it. Doing it all in one round blocked
 * the event loop for ~100 ms at 20,000 connections, and every event in flight waited for it.
 * One timer for the whole wheel instead of one per connection.
 */

/** What `onTick` sees of the wheel. */
export interface WheelView<T> {
  /** The items of the slot visited `ticksAgo` ticks before this one (0: this tick's). */
  slot(ticksAgo: number): ReadonlySet<T>;
}

/** A running wheel. */
export interface TimerWheel<T> {
  add(item: T): void;
  delete(item: T): void;
  stop(): void;
}

/** Slots of a wheel, when its turn allows ticks of at least `MIN_TICK_MS`. */
const SLOTS = 100;
const MIN_TICK_MS = 10;

/** Milliseconds between the ticks of a wheel that turns once per `turnMs`. */
export function tickOf(turnMs: number): number {
  return Math.max(MIN_TICK_MS, Math.floor(turnMs / SLOTS));
}

/**
 * Starts a wheel that turns once per `turnMs`, calling `onTick` at each tick, every `tickMs`
 * (default `tickOf(turnMs)`: a coarser tick means fewer timer callbacks, each visiting more).
 */
export function createTimerWheel<T>(
  turnMs: number,
  onTick: (wheel: WheelView<T>, now: number) => void,
  tickMs: number = tickOf(turnMs),
): TimerWheel<T> {
  const slots = Array.from({ length: Math.max(1, Math.round(turnMs / tickMs)) }, () => {
    return new Set<T>();
  });
  const slotOf = new Map<T, Set<T>>();
  let cursor = 0;
  let placed = 0;
  const view: WheelView<T> = {
    slot: (ticksAgo) =>
      slots[(((cursor - ticksAgo) % slots.length) + slots.length) % slots.length]!,
  };
  const timer = setInterval(() => {
    onTick(view, Date.now());
    cursor = (cursor + 1) % slots.length;
  }, tickMs);
  timer.unref();
  return {
    add(item) {
      const slot = slots[placed++ % slots.length]!;
      slot.add(item);
      slotOf.set(item, slot);
    },
    delete(item) {
      slotOf.get(item)?.delete(item);
      slotOf.delete(item);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
