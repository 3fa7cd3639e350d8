/**
 * Plain-text rendering of the tables for the terminal.
 */
import type { ScenarioResult } from '../lib/results.ts';
import { metricsTable, targetsTable } from './tables.ts';
import type { TextTable } from './tables.ts';

/** Renders a table with padded columns. */
export function renderText({ header, rows }: TextTable): string {
  const clean = (cell: string) => cell.replaceAll('**', '');
  const all = [header, ...rows].map((row) => row.map(clean));
  const widths = header.map((_, column) =>
    Math.max(...all.map((row) => (row[column] ?? '').length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ');
  return [
    line(all[0]!),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...all.slice(1).map(line),
  ].join('\n');
}

/** The summary of one scenario: medians, ratios, targets, notes. */
export function consoleSummary(result: ScenarioResult): string {
  const parts = [`\n== ${result.title} ==`, renderText(metricsTable(result))];
  if (result.targets.length > 0) parts.push('', renderText(targetsTable(result)));
  for (const note of result.notes) parts.push(`note: ${note}`);
  return parts.join('\n');
}
