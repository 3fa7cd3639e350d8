/**
 * Counts deliveries of fan-out events per subscriber and collects their latencies: every
 * subscriber must receive every event exactly once and in order; what is missing is reported as
 * lost, what comes twice or backwards as out of order.
 */
import { percentileOfSorted } from './stats.ts';

/** Wall-clock milliseconds with sub-millisecond resolution (same clock as the sent time). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Delivery figures of a measured batch of events. */
export interface DeliveryReport {
  subscribers: number;
  events: number;
  /** subscribers × events */
  expected: number;
  delivered: number;
  lost: number;
  /** Duplicates and events arriving after a later one. */
  outOfOrder: number;
  /** Events for which the wait for every subscriber timed out. */
  timeouts: number;
  /** Subscribers whose connection closed during the batch. */
  disconnects: number;
  /** CPU used by the subscriber process during the batch, µs. */
  clientCpuUs: number;
  /** Delivery latency percentiles (receive − send), ms. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Tracks events numbered 0…`totalEvents`−1 for `subscribers` subscribers, each event due to
 * `perEvent` of them (all of them in one room; a room's share with many rooms).
 */
export class DeliveryTracker {
  private readonly counts: Uint32Array;
  private readonly lastIndex: Int32Array;
  private latencies = new Float64Array(0);
  private latencyCount = 0;
  private measureFrom = Number.POSITIVE_INFINITY;
  private outOfOrder = 0;
  private disconnects = 0;
  private waiter: { index: number; resolve: () => void } | undefined;
  private cpuStart: NodeJS.CpuUsage | undefined;

  constructor(
    readonly subscribers: number,
    readonly totalEvents: number,
    readonly perEvent: number = subscribers,
  ) {
    this.counts = new Uint32Array(totalEvents);
    this.lastIndex = new Int32Array(subscribers).fill(-1);
  }

  /** Starts a measured batch: latencies of events from `from` on are kept. */
  beginBatch(from: number, count: number): void {
    this.measureFrom = from;
    this.latencies = new Float64Array(this.perEvent * count);
    this.latencyCount = 0;
    this.outOfOrder = 0;
    this.disconnects = 0;
    this.cpuStart = process.cpuUsage();
  }

  /** Records that `subscriber` received event `index`, sent at `sentAt` (ms, `nowMs` clock). */
  record(subscriber: number, index: number, sentAt: number): void {
    const receivedAt = nowMs();
    if (!(index >= 0 && index < this.totalEvents)) return; // also NaN: not a fan-out event
    if (index <= this.lastIndex[subscriber]!) {
      this.outOfOrder++;
      return;
    }
    this.lastIndex[subscriber] = index;
    const count = ++this.counts[index]!;
    if (index >= this.measureFrom && this.latencyCount < this.latencies.length) {
      this.latencies[this.latencyCount++] = receivedAt - sentAt;
    }
    if (this.waiter && this.waiter.index === index && count >= this.perEvent) this.waiter.resolve();
  }

  /** Notes a subscriber's connection closing. */
  disconnected(): void {
    this.disconnects++;
  }

  /** Resolves true once every subscriber due has event `index`, false after `timeoutMs`. */
  waitFor(index: number, timeoutMs: number): Promise<boolean> {
    if (this.counts[index]! >= this.perEvent) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(false);
      }, timeoutMs);
      this.waiter = {
        index,
        resolve: () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve(true);
        },
      };
    });
  }

  /** Figures of the batch of `count` events from `from`, with `timeouts` waits that expired. */
  report(from: number, count: number, timeouts: number): DeliveryReport {
    let delivered = 0;
    for (let index = from; index < from + count; index++) delivered += this.counts[index]!;
    const sorted = this.latencies.subarray(0, this.latencyCount).sort();
    const expected = this.perEvent * count;
    const cpu = process.cpuUsage(this.cpuStart);
    return {
      subscribers: this.subscribers,
      events: count,
      expected,
      delivered,
      lost: expected - delivered,
      outOfOrder: this.outOfOrder,
      timeouts,
      disconnects: this.disconnects,
      clientCpuUs: cpu.user + cpu.system,
      p50Ms: percentileOfSorted(sorted, 50),
      p90Ms: percentileOfSorted(sorted, 90),
      p99Ms: percentileOfSorted(sorted, 99),
      maxMs: percentileOfSorted(sorted, 100),
    };
  }
}
