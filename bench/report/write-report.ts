/**
 * Writes a run's report: the raw results (bench/results/latest.json, every run's figures, so the
 * report can be re-rendered without measuring again), docs/benchmarks.md and docs/benchmarks.svg.
 * Text files are formatted with the project's prettier config, so `npm run check` accepts them
 * as written.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { renderMarkdown } from './markdown-report.ts';
import type { ReportInput } from './markdown-report.ts';
import { renderSvg } from './svg-chart.ts';
import type { ScenarioResult } from '../lib/results.ts';

const MARKDOWN = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const SVG = fileURLToPath(new URL('../../docs/benchmarks.svg', import.meta.url));
/** The raw results of the last written run. */
export const RESULTS_JSON = fileURLToPath(new URL('../results/latest.json', import.meta.url));

/** A run as saved: the report input with the date as text. */
type SavedRun = Omit<ReportInput, 'startedAt'> & { startedAt: string };

/** Saves the raw results and writes the markdown and the SVG; returns the paths written. */
export async function writeReport(input: ReportInput): Promise<string[]> {
  mkdirSync(dirname(RESULTS_JSON), { recursive: true });
  const saved: SavedRun = { ...input, startedAt: input.startedAt.toISOString() };
  writeFileSync(RESULTS_JSON, await prettierFormat(JSON.stringify(saved), RESULTS_JSON));
  await renderFiles(input);
  return [MARKDOWN, SVG, RESULTS_JSON];
}

/**
 * Merges `results` into the saved run (replacing results of the same ids, else appended), saves
 * it and renders docs/benchmarks.md and .svg again: a scenario measured alone joins the report
 * without measuring everything else again.
 */
export async function mergeIntoSaved(results: readonly ScenarioResult[]): Promise<string[]> {
  const saved = JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as SavedRun;
  const ids = new Set(results.map((result) => result.id));
  saved.results = [...saved.results.filter((result) => !ids.has(result.id)), ...results];
  writeFileSync(RESULTS_JSON, await prettierFormat(JSON.stringify(saved), RESULTS_JSON));
  await renderFiles({ ...saved, startedAt: new Date(saved.startedAt) });
  return [MARKDOWN, SVG, RESULTS_JSON];
}

/** Renders docs/benchmarks.md and .svg again from the saved results (no measuring). */
export async function rewriteReportFromSaved(): Promise<string[]> {
  const saved = JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as SavedRun;
  await renderFiles({ ...saved, startedAt: new Date(saved.startedAt) });
  return [MARKDOWN, SVG];
}

/** `text` formatted as prettier would format the file at `path` (its parser, the project's config). */
async function prettierFormat(text: string, path: string): Promise<string> {
  return format(text, { ...(await resolveConfig(path)), filepath: path });
}

/**
 * The hand-written sections of the current docs/benchmarks.md, each between
 * `<!-- name: start … -->` and `<!-- name: end -->`: figures a script outside the scenarios
 * measured (e.g. bench/tools/redis-recovery.ts). A rewrite keeps them, at the end.
 */
function handWrittenSections(): string[] {
  let current: string;
  try {
    current = readFileSync(MARKDOWN, 'utf8');
  } catch {
    return [];
  }
  return [...current.matchAll(/<!-- ([\w-]+): start[^>]*-->[\s\S]*?<!-- \1: end -->/g)].map(
    (match) => match[0],
  );
}

async function renderFiles(input: ReportInput): Promise<void> {
  const markdown = [renderMarkdown(input), ...handWrittenSections()].join('\n\n');
  writeFileSync(MARKDOWN, await prettierFormat(markdown, MARKDOWN));
  const { machine, startedAt } = input;
  const caption =
    `roomcast benchmarks, ${startedAt.toISOString().slice(0, 10)}, ${machine.cpuModel} × ` +
    `${machine.cores}, Node ${machine.node}: medians over runs`;
  writeFileSync(SVG, renderSvg(input.results, caption));
}
