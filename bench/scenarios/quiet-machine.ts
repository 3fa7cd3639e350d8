/**
 * The gate every scenario passes right before a measured phase: wait (bounded) for other
 * processes to leave the cores alone, and say so when it had to wait or gave up.
 */
import type { BenchOptions } from '../lib/bench-options.ts';
import { waitForQuiet } from '../lib/machine-load.ts';

/** Time spent waiting so far in this run, against `quietBudgetMs`. */
let spentMs = 0;

/** Waits for a quiet machine as the options say; logs waits of more than one sample. */
export async function quietMachine(
  options: Pick<BenchOptions, 'quietPercent' | 'quietWaitMs' | 'quietBudgetMs'>,
  log: (line: string) => void,
): Promise<void> {
  const left = Math.max(0, Math.min(options.quietWaitMs, options.quietBudgetMs - spentMs));
  const { waitedMs, otherPercent } = await waitForQuiet(options.quietPercent, left);
  spentMs += waitedMs;
  if (otherPercent > options.quietPercent) {
    log(
      `  (other processes still use ${otherPercent.toFixed(0)}% of a core after ` +
        `${(waitedMs / 1000).toFixed(0)} s: measuring anyway)`,
    );
  } else if (waitedMs > 1000) {
    log(`  (waited ${(waitedMs / 1000).toFixed(1)} s for other processes to calm down)`);
  }
}
