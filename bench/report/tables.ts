/**
 * A scenario's results as rows of text cells: one row per metric with every contender's
 * median, then roomcast's ratio to the floor and to the peer (or every contender's ratio to the
 * scenario's baseline); and one row per target. The console and markdown reports render the
 * same rows.
 */
import { checkTargets, contenderWithRole, medianOf, pairedRatio } from '../lib/results.ts';
import type { ScenarioResult, TargetOutcome } from '../lib/results.ts';
import { formatRatio, formatValue, metricTitle } from './format.ts';

/** A table: header cells and rows of cells. */
export interface TextTable {
  header: string[];
  rows: string[][];
}

/** The ratio columns of a result: which contender is divided by which, and the header. */
function ratioColumns(result: ScenarioResult): { a: string; b: string; header: string }[] {
  const base = result.contenders.find((contender) => contender.id === result.baseline);
  if (base) {
    return result.contenders
      .filter((contender) => contender !== base)
      .map((contender) => ({
        a: contender.id,
        b: base.id,
        header: `${contender.short} ÷ ${base.short}`,
      }));
  }
  const subject = contenderWithRole(result, 'subject');
  if (!subject) return [];
  return result.contenders
    .filter((contender) => contender.role !== 'subject')
    .map((other) => ({ a: subject.id, b: other.id, header: `roomcast ÷ ${other.short}` }));
}

/** Medians of every metric per contender, with roomcast's ratios (or ratios to the baseline). */
export function metricsTable(result: ScenarioResult): TextTable {
  const ratios = ratioColumns(result);
  const header = [
    'metric (median)',
    ...result.contenders.map((contender) => contender.label),
    ...ratios.map((column) => column.header),
  ];
  const rows = result.metrics.map((metric) => [
    metricTitle(metric),
    ...result.contenders.map((contender) =>
      formatValue(medianOf(result, contender.id, metric.key), metric.digits, ''),
    ),
    ...ratios.map(({ a, b }) =>
      metric.noRatio ? '—' : formatRatio(pairedRatio(result, a, b, metric.key)),
    ),
  ]);
  return { header, rows };
}

/** A target's figure: an absolute value with its unit, or a ratio. */
function targetFigure(spec: TargetOutcome['spec'], value: number): string {
  return spec.against === 'absolute' ? formatValue(value, 2, spec.unit ?? '') : formatRatio(value);
}

/** Every target: what it asks, the median, each run's figure, met or not. */
export function targetsTable(result: ScenarioResult): TextTable {
  return {
    header: ['target', 'measured (median)', 'each run', 'met'],
    rows: checkTargets(result).map(({ spec, measured, met, perRun, runsMet }) => [
      spec.label,
      `${targetFigure(spec, measured)}${spec.inverse ? ' (SDK ÷ roomcast)' : ''}`,
      `${perRun.map((value) => targetFigure(spec, value)).join(', ')} (${runsMet}/${perRun.length} met)`,
      met ? 'yes' : '**no**',
    ]),
  };
}

/** Every run's value, for the record. */
export function runsTable(result: ScenarioResult): TextTable {
  const runs = Math.max(
    0,
    ...Object.values(result.values).flatMap((series) =>
      Object.values(series).map((values) => values.length),
    ),
  );
  const header = ['contender', 'metric', ...Array.from({ length: runs }, (_, i) => `run ${i + 1}`)];
  const rows: string[][] = [];
  for (const contender of result.contenders) {
    for (const metric of result.metrics) {
      const values = result.values[contender.id]?.[metric.key] ?? [];
      rows.push([
        contender.label,
        metric.label,
        ...Array.from({ length: runs }, (_, i) =>
          values[i] === undefined ? '' : formatValue(values[i]!, metric.digits, ''),
        ),
      ]);
    }
  }
  return { header, rows };
}
