/**
 * The shape of scenario results, shared by the scenarios (which fill it run by run) and the
 * reports (console, markdown, SVG), plus the arithmetic on it: medians over runs, ratios to the
 * floor and to the peer, and target checks.
 *
 * Ratios are the median of per-run ratios: each run measures every contender back to back, so a
 * per-run ratio cancels the machine's drift between runs better than a ratio of medians.
 */
import { median, ratio } from './stats.ts';

/** A measured quantity. */
export interface Metric {
  key: string;
  label: string;
  unit: string;
  /** Which way is good (for the chart's caption). */
  better: 'lower' | 'higher';
  /** Decimals shown. */
  digits: number;
  /** A context figure (load, losses): no ratio to other contenders is shown. */
  noRatio?: boolean;
}

/** One of the servers compared in a scenario. */
export interface Contender {
  id: string;
  label: string;
  /** A few words for chart bars and ratio headers. */
  short: string;
  /**
   * `subject` is roomcast; `floor` is the least a server can do; `peer` a known alternative;
   * `reference` a part of roomcast's own work alone (where the subject's cost comes from).
   */
  role: 'subject' | 'floor' | 'peer' | 'reference';
}

/** A target the brief sets, checked against a median or a ratio. */
export interface TargetSpec {
  label: string;
  metric: string;
  /** `absolute`: roomcast's median; `floor` / `peer`: roomcast's ratio to that contender. */
  against: 'absolute' | 'floor' | 'peer';
  comparison: '<=' | '>=';
  limit: number;
  /** Shown after an absolute value. */
  unit?: string;
  /** When set, the check uses floor ÷ subject instead of subject ÷ floor (e.g. "20× cheaper"). */
  inverse?: boolean;
}

/** The results of one scenario. */
export interface ScenarioResult {
  id: string;
  title: string;
  /** What was measured and how, one paragraph of markdown. */
  method: string;
  params: Record<string, string | number>;
  metrics: Metric[];
  contenders: Contender[];
  /**
   * When set, the id of the contender every other one is compared with (ratio columns
   * "X ÷ baseline"), instead of roomcast ÷ the floor and the peer. For scenarios whose
   * contenders are all roomcast, in different setups (engines, node counts).
   */
  baseline?: string;
  /** values[contenderId][metricKey] = one value per run */
  values: Record<string, Record<string, number[]>>;
  targets: TargetSpec[];
  /** Warnings noticed while running (losses, errors, client-bound load generator…). */
  notes: string[];
  /** The chart panels it feeds (svg-chart.ts), when not those of its `id`. */
  chartKey?: string;
  /**
   * Set when it was measured apart from the rest of the report and merged in (`--merge`): the
   * command, when, and the machine's load.
   */
  measuredBy?: string;
}

/** CPU of other processes during a measurement window (see machine-load.ts). */
export const OTHER_LOAD_METRIC: Metric = {
  key: 'otherLoad',
  label: "other processes' CPU",
  unit: '% of a core',
  better: 'lower',
  digits: 0,
  noRatio: true,
};

/** Above this (% of a core), other work visibly competed with the measurement. */
const BUSY_MACHINE = 15;

/** Adds a note when other processes used the machine during the measurements. */
export function noteOtherLoad(result: ScenarioResult): void {
  const busiest = Math.max(
    ...Object.values(result.values).flatMap((series) => series[OTHER_LOAD_METRIC.key] ?? []),
  );
  if (busiest > BUSY_MACHINE) {
    result.notes.push(
      `other processes used up to ${busiest.toFixed(0)}% of a core during some measurements ` +
        `(see "other processes' CPU"): those runs are noisier, compare them with care`,
    );
  }
}

/** Creates an empty result to be filled run by run. */
export function newResult(fields: Omit<ScenarioResult, 'values' | 'notes'>): ScenarioResult {
  const values: ScenarioResult['values'] = {};
  for (const contender of fields.contenders) {
    values[contender.id] = Object.fromEntries(fields.metrics.map((metric) => [metric.key, []]));
  }
  return { ...fields, values, notes: [] };
}

/** Appends one run's value of `metric` for `contender`. */
export function addValue(result: ScenarioResult, contender: string, metric: string, value: number) {
  const series = (result.values[contender] ??= {});
  (series[metric] ??= []).push(value);
}

/** Median over runs. */
export function medianOf(result: ScenarioResult, contender: string, metric: string): number {
  return median(result.values[contender]?.[metric] ?? []);
}

/** The contender with a role (the first one). */
export function contenderWithRole(
  result: ScenarioResult,
  role: Contender['role'],
): Contender | undefined {
  return result.contenders.find((contender) => contender.role === role);
}

/** Per-run values of `a ÷ b` for one metric, runs paired by position. */
export function runRatios(result: ScenarioResult, a: string, b: string, metric: string): number[] {
  const left = result.values[a]?.[metric] ?? [];
  const right = result.values[b]?.[metric] ?? [];
  return Array.from({ length: Math.min(left.length, right.length) }, (_, run) =>
    ratio(left[run]!, right[run]!),
  );
}

/** Median over runs of `a ÷ b` for one metric, runs paired by position. */
export function pairedRatio(result: ScenarioResult, a: string, b: string, metric: string): number {
  return median(runRatios(result, a, b, metric));
}

/** A target checked against the results. */
export interface TargetOutcome {
  spec: TargetSpec;
  /** The median (of values or of per-run ratios). */
  measured: number;
  met: boolean;
  /** The same figure run by run, and how many runs met the target on their own. */
  perRun: number[];
  runsMet: number;
}

function meets(spec: TargetSpec, value: number): boolean {
  return (
    Number.isFinite(value) && (spec.comparison === '<=' ? value <= spec.limit : value >= spec.limit)
  );
}

/** Checks every target of a result against roomcast's figures. */
export function checkTargets(result: ScenarioResult): TargetOutcome[] {
  const subject = contenderWithRole(result, 'subject');
  return result.targets.map((spec) => {
    let perRun: number[] = [];
    if (subject) {
      if (spec.against === 'absolute') perRun = result.values[subject.id]?.[spec.metric] ?? [];
      else {
        const other = contenderWithRole(result, spec.against);
        if (other) {
          perRun = spec.inverse
            ? runRatios(result, other.id, subject.id, spec.metric)
            : runRatios(result, subject.id, other.id, spec.metric);
        }
      }
    }
    const measured = median(perRun);
    return {
      spec,
      measured,
      met: meets(spec, measured),
      perRun,
      runsMet: perRun.filter((value) => meets(spec, value)).length,
    };
  });
}
