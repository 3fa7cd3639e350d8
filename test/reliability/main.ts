/**
 * The long forms of the reliability suite, outside the test runner (whose per-file timeout
 * they exceed), with progress on stderr and a JSON report on stdout:
 *
 *   npm run load   # 10,000 WS + 1,000 SSE over 200 rooms, meetings from `roomcast simulate`
 *   npm run soak   # 10 minutes of meetings, churn and resumes; memory, timers, listeners flat
 *
 * Options: `load --ws 10000 --sse 1000 --rooms 200 --peers 20 --duration 60s --drops 50`,
 * `soak --duration 10m`. Exits 1 when an invariant broke.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../../server/src/units.ts';
import { runLoad } from './load-scenario.ts';
import { runSoak } from './soak-scenario.ts';
import { openFileLimit, requireOpenFiles } from './open-files.ts';

const [command, ...rest] = process.argv.slice(2);
const log = (line: string) =>
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function requireFiles(needed: number): void {
  log(`open-file limit ${openFileLimit() ?? 'unknown'} (need about ${needed})`);
  try {
    requireOpenFiles(needed);
  } catch (error) {
    log((error as Error).message);
    process.exit(2);
  }
}

if (command === 'load') {
  const { values } = parseArgs({
    args: rest,
    options: {
      ws: { type: 'string', default: '10000' },
      sse: { type: 'string', default: '1000' },
      rooms: { type: 'string', default: '200' },
      peers: { type: 'string', default: '20' },
      duration: { type: 'string', default: '60s' },
      drops: { type: 'string', default: '50' },
    },
  });
  const ws = Number(values.ws);
  const sse = Number(values.sse);
  requireFiles(ws + sse + 200);
  const report = await runLoad({
    ws,
    sse,
    rooms: Number(values.rooms),
    peers: Number(values.peers),
    duration: values.duration,
    dropsPerSecond: Number(values.drops),
    progress: log,
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  log(`violations: ${report.check.violations.length}`);
  process.exit(report.check.violations.length === 0 ? 0 : 1);
} else if (command === 'soak') {
  const { values } = parseArgs({
    args: rest,
    options: { duration: { type: 'string', default: '10m' } },
  });
  const durationMs = parseDuration(values.duration);
  if (durationMs === undefined) throw new Error('--duration like 90s or 10m');
  requireFiles(2000);
  const report = await runSoak({ durationMs, progress: log });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  log(`violations: ${report.violations.length}, memory flat: ${report.flat.ok}`);
  process.exit(report.violations.length === 0 && report.flat.ok ? 0 : 1);
} else {
  process.stderr.write(
    'usage: main.ts load [--ws n --sse n --rooms n --peers n --duration 60s --drops n] | soak [--duration 10m]\n',
  );
  process.exit(2);
}
