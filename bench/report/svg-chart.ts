/**
 * docs/benchmarks.svg: one small horizontal bar panel per headline metric (median of runs), a
 * bar per contender coloured by role, each panel on its own scale. Hand-written SVG text: no
 * chart library, nothing to load in a browser.
 */
import { medianOf } from '../lib/results.ts';
import type { ScenarioResult } from '../lib/results.ts';
import { formatValue, metricTitle } from './format.ts';

/** The metrics charted, per scenario id, and the scenario's name in panel titles. */
const CHARTED: Record<string, { name: string; metrics: string[] }> = {
  ingest: { name: 'Ingest', metrics: ['rps', 'cpuUs'] },
  verify: { name: 'Verification', metrics: ['us'] },
  ws: { name: 'WebSocket', metrics: ['cpuUs', 'p99', 'rssKiB'] },
  sse: { name: 'SSE', metrics: ['cpuUs', 'p99', 'rssKiB'] },
  burst: { name: 'Bursts', metrics: ['perCpuS', 'p99'] },
  bundle: { name: 'Client', metrics: ['gzipKiB'] },
  'redis-latency': { name: 'Redis', metrics: ['p50', 'p99'] },
  'redis-throughput': { name: 'Redis', metrics: ['rps', 'cpuUs'] },
  jitter: { name: 'Jitter', metrics: ['exactlyOnce', 'replayP99'] },
  avalanche: { name: 'Avalanche', metrics: ['backIn5s', 'backP99'] },
  idle: { name: 'Idle', metrics: ['rssKiB', 'p99'] },
};

const COLORS = {
  subject: '#2563eb',
  floor: '#9ca3af',
  peer: '#f59e0b',
  // Drawn like a floor: the legend's "floor or reference".
  reference: '#9ca3af',
} as const;
const PANEL_WIDTH = 470;
const LABEL_WIDTH = 110;
const VALUE_WIDTH = 80;
const BAR_HEIGHT = 18;
const BAR_GAP = 6;
const PANEL_PAD = 34;
const COLUMNS = 2;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

interface Panel {
  title: string;
  bars: { label: string; value: number; text: string; color: string }[];
}

function panelsOf(results: readonly ScenarioResult[]): Panel[] {
  const panels: Panel[] = [];
  for (const result of results) {
    const charted = CHARTED[result.chartKey ?? result.id];
    if (!charted) continue;
    for (const key of charted.metrics) {
      const metric = result.metrics.find((candidate) => candidate.key === key);
      if (!metric) continue;
      const better = metric.better === 'lower' ? 'lower is better' : 'higher is better';
      panels.push({
        title: `${charted.name}: ${metricTitle(metric)}, ${better}`,
        bars: result.contenders.map((contender) => {
          const value = medianOf(result, contender.id, key);
          return {
            label: contender.short,
            value,
            text: formatValue(value, metric.digits, metric.unit),
            color: COLORS[contender.role],
          };
        }),
      });
    }
  }
  return panels;
}

function panelHeight(panel: Panel): number {
  return PANEL_PAD + panel.bars.length * (BAR_HEIGHT + BAR_GAP) + 10;
}

function renderPanel(panel: Panel, x: number, y: number): string {
  const max = Math.max(...panel.bars.map((bar) => (Number.isFinite(bar.value) ? bar.value : 0)));
  const scale = max > 0 ? (PANEL_WIDTH - LABEL_WIDTH - VALUE_WIDTH - 10) / max : 0;
  const lines = [`<text x="${x}" y="${y + 18}" class="title">${escapeXml(panel.title)}</text>`];
  panel.bars.forEach((bar, index) => {
    const top = y + PANEL_PAD + index * (BAR_HEIGHT + BAR_GAP);
    const width = Number.isFinite(bar.value) ? Math.max(1, bar.value * scale) : 0;
    const barX = x + LABEL_WIDTH;
    lines.push(
      `<text x="${barX - 6}" y="${top + 13}" class="label" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${barX}" y="${top}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" rx="2" fill="${bar.color}"/>`,
      `<text x="${(barX + width + 6).toFixed(1)}" y="${top + 13}" class="value">${escapeXml(bar.text)}</text>`,
    );
  });
  return lines.join('\n');
}

/** The whole chart as SVG text. */
export function renderSvg(results: readonly ScenarioResult[], caption: string): string {
  const panels = panelsOf(results);
  const rows: Panel[][] = [];
  for (let i = 0; i < panels.length; i += COLUMNS) rows.push(panels.slice(i, i + COLUMNS));
  const body: string[] = [];
  let y = 40;
  for (const row of rows) {
    row.forEach((panel, column) => body.push(renderPanel(panel, 10 + column * PANEL_WIDTH, y)));
    y += Math.max(...row.map(panelHeight));
  }
  const legendY = y + 8;
  const names = {
    subject: 'roomcast',
    floor: 'floor or reference (bare loop / route, memory engine)',
    peer: 'peer (SDK, Socket.IO)',
  } as const;
  let lx = 10;
  const legend = (['subject', 'floor', 'peer'] as const)
    .map((role) => {
      const item =
        `<rect x="${lx}" y="${legendY}" width="12" height="12" fill="${COLORS[role]}"/>` +
        `<text x="${lx + 18}" y="${legendY + 11}" class="label">${names[role]}</text>`;
      // About 6.5 px per character at 12 px, then a gap.
      lx += 18 + Math.ceil(names[role].length * 6.5) + 30;
      return item;
    })
    .join('\n');
  const width = 10 + COLUMNS * PANEL_WIDTH;
  const height = legendY + 26;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">
<style>
.title { font-size: 13px; font-weight: 600; fill: #111827; }
.label { font-size: 12px; fill: #374151; }
.value { font-size: 12px; fill: #111827; }
.caption { font-size: 12px; fill: #6b7280; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="22" class="caption">${escapeXml(caption)}</text>
${body.join('\n')}
${legend}
</svg>
`;
}
