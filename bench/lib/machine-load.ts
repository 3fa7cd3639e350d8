/**
 * How busy the whole machine was during a measurement window, from the kernel's per-CPU time
 * counters (os.cpus(), 10 ms resolution). Minus the CPU of the suite's own processes in that
 * window, it tells how much other work (another test run, a build) shared the cores: the usual
 * cause of a run that disagrees with the others.
 */
import { cpus } from 'node:os';

/** A reading of the machine's busy CPU time. */
export interface BusyReading {
  /** CPU time spent not idle, summed over every core, µs. */
  busyUs: number;
  at: number;
}

/** Reads the machine's busy time now. */
export function readBusy(): BusyReading {
  let busyMs = 0;
  for (const { times } of cpus()) busyMs += times.user + times.nice + times.sys + times.irq;
  return { busyUs: busyMs * 1000, at: performance.now() };
}

/**
 * CPU used by processes other than the suite's between `start` and now, in % of one core:
 * machine busy time − `ownCpuUs` (the suite's processes over the same window), ÷ wall time.
 * Never below 0 (the counters' resolution makes small windows jitter).
 */
export function otherLoadPercent(start: BusyReading, ownCpuUs: number): number {
  const end = readBusy();
  const wallUs = (end.at - start.at) * 1000;
  if (wallUs <= 0) return Number.NaN;
  return Math.max(0, ((end.busyUs - start.busyUs - ownCpuUs) / wallUs) * 100);
}

/** Outcome of `waitForQuiet`. */
export interface QuietWait {
  waitedMs: number;
  /** Other processes' CPU in the last sample, % of one core. */
  otherPercent: number;
}

/**
 * Waits, in samples of `sampleMs`, until the machine's busy time is below `maxPercent` of one
 * core, or `maxWaitMs` passed. Called while the suite's own processes are idle (between warm-up
 * and the measured phase), so what is busy is someone else: on a shared 2-core box a test run
 * next door can double the figures of one contender and not the next.
 */
export async function waitForQuiet(
  maxPercent: number,
  maxWaitMs: number,
  sampleMs = 500,
): Promise<QuietWait> {
  const started = performance.now();
  let otherPercent = Number.NaN;
  while (true) {
    const start = readBusy();
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    otherPercent = otherLoadPercent(start, 0);
    const waitedMs = performance.now() - started;
    if (otherPercent <= maxPercent || waitedMs >= maxWaitMs) return { waitedMs, otherPercent };
  }
}
