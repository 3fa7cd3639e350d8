/**
 * `npm run bench [-- scenario ... --quick ...]`: runs the selected scenarios, prints machine info
 * and the tables, and (for a full run, or with --write) writes docs/benchmarks.md and
 * docs/benchmarks.svg from the figures just measured. `--render-only` rewrites them from the
 * saved results of the last written run.
 */
import { loadavg } from 'node:os';
import { parseBenchOptions } from './lib/bench-options.ts';
import type { ScenarioName } from './lib/bench-options.ts';
import { fileLimitProblem, machineInfo } from './lib/machine-info.ts';
import type { ScenarioResult } from './lib/results.ts';
import { consoleSummary } from './report/console-report.ts';
import { mergeIntoSaved, rewriteReportFromSaved, writeReport } from './report/write-report.ts';
import { runIngest } from './scenarios/ingest.ts';
import { runVerify } from './scenarios/verify.ts';
import { SSE_VARIANT, WS_VARIANT, runBurst, runFanout, runRooms } from './scenarios/fanout.ts';
import { runBundle } from './scenarios/bundle.ts';
import { runRedis } from './scenarios/redis.ts';
import { runRoomSize } from './scenarios/room-size.ts';
import { runRoomsList } from './scenarios/rooms-list.ts';
import { redisServerProblem } from './lib/redis-server.ts';
import { runJitter } from './scenarios/jitter.ts';
import { runAvalanche } from './scenarios/avalanche.ts';
import { runIdle } from './scenarios/idle.ts';

const argv = process.argv.slice(2);
const options = parseBenchOptions(argv);
const log = (line: string) => process.stdout.write(`${line}\n`);

if (options.renderOnly) {
  log(`rewrote ${(await rewriteReportFromSaved()).join(' and ')} from the saved results`);
  process.exit(0);
}
const startedAt = new Date();
const machine = machineInfo();

log(`roomcast benchmarks — ${startedAt.toISOString()}`);
log(
  `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}`,
);
log(
  `node ${machine.node}; ulimit -n ${machine.openFilesLimit}; ephemeral ports ${machine.ephemeralPorts}; ` +
    `somaxconn ${machine.somaxconn}; load ${machine.loadAverage}`,
);
log(
  `scenarios: ${options.scenarios.join(', ')}${options.quick ? ' (quick)' : ''}; runs: ` +
    `${options.ingestRuns} (ingest, verify), ${options.runs} (ws, sse, redis)`,
);
if (machine.cores < 2) log('warning: fewer than 2 cores: server and clients will share one core');
if (options.cpuProf) log(`profiling servers into ${options.profileDir}: figures are distorted`);
if (options.heapSnapshots)
  log(`heap snapshots into ${options.profileDir}: memory figures are distorted`);

// ws, sse and rooms cap their subscriber counts to the open files limit (and say so).
const burst = options.scenarios.includes('burst');
const redis = ['redis', 'room-size', 'rooms-list', 'avalanche'].some((name) =>
  options.scenarios.includes(name as ScenarioName),
);
const problem =
  (burst ? fileLimitProblem(machine, options.burstSubscribers) : undefined) ??
  (redis ? fileLimitProblem(machine, options.redisSubscribers) : undefined) ??
  (redis ? redisServerProblem() : undefined);
if (problem) {
  log(`\nerror: ${problem}`);
  process.exit(2);
}

/** Each scenario gives one result, or several (redis: latency, then throughput). */
const scenarios: Record<ScenarioName, () => Promise<ScenarioResult | ScenarioResult[]>> = {
  ingest: () => runIngest(options, log),
  verify: () => runVerify(options, log),
  ws: () => runFanout(WS_VARIANT, options, log, machine.openFilesLimit),
  sse: () => runFanout(SSE_VARIANT, options, log, machine.openFilesLimit),
  rooms: () => runRooms(options, log, machine.openFilesLimit),
  burst: () => runBurst(options, log),
  bundle: () => runBundle(options, log),
  redis: () => runRedis(options, log),
  'room-size': () => runRoomSize(options, log),
  'rooms-list': () => runRoomsList(options, log),
  jitter: () => runJitter(options, log),
  avalanche: () => runAvalanche(options, log, machine.openFilesLimit),
  idle: () => runIdle(options, log, machine.openFilesLimit),
};

const results: ScenarioResult[] = [];
for (const name of options.scenarios) {
  log(`\n-- ${name} --`);
  for (const result of [await scenarios[name]()].flat()) {
    results.push(result);
    log(consoleSummary(result));
  }
}

const durationMs = Date.now() - startedAt.getTime();
const loadAtEnd = loadavg()
  .map((value) => value.toFixed(2))
  .join(' ');
log(`\ndone in ${(durationMs / 60_000).toFixed(1)} min; load average ${loadAtEnd}`);

if (options.merge) {
  const command = `npm run bench -- ${argv.join(' ')}`;
  const when = startedAt.toISOString().replace('T', ' ').slice(0, 19);
  const measuredBy =
    `\`${command}\` on ${when} UTC (${(durationMs / 60_000).toFixed(1)} min), ` +
    `load average at start ${machine.loadAverage}, at the end ${loadAtEnd}`;
  for (const result of results) result.measuredBy = measuredBy;
  log(`merged into ${(await mergeIntoSaved(results)).join(', ')}`);
} else if (options.write) {
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  const written = await writeReport({
    command,
    startedAt,
    durationMs,
    machine,
    loadAtEnd,
    results,
    svgPath: 'benchmarks.svg',
  });
  log(`wrote ${written.join(', ')}`);
} else {
  log('(docs/benchmarks.md not written: subset or --quick run; pass --write to write it)');
}
