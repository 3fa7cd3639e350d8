/**
 * Before/after of the fan-out to many small rooms: roomcast of a git ref (extracted by
 * `treeAtRef`) against the working tree's roomcast and the bare `ws` floor, in one run.
 *
 *   node --import tsx bench/tools/rooms-ab.ts <ref> [--rounds N] [--rooms N] [--windows N]
 *     [--settle S]
 *
 * Each round starts every contender in turn (the order rotated per round), each in its own
 * server process with one subscriber process: `--rooms` rooms × 20 WebSocket subscribers, three
 * passes of warm-up events and of trigger-only posts, then `--windows` pairs of windows (one
 * event to every room, then as many posts to rooms nobody subscribes to), as the `rooms`
 * scenario measures them. With `taskset` at hand the server runs on core 0 and its subscribers
 * on core 1, so neither steals the other's core (the runs vary much less). Before each process
 * the run waits (up to `--settle` seconds, default 70; 0: never) until the previous process's
 * closed sockets have left TIME_WAIT: the kernel expires them 60 s after the close, in whichever
 * process runs then, and 20,000 of them landing in the next contender's windows looked like an
 * order effect (the one measured first in a round was the faster one).
 * Reported: CPU per delivery net of the trigger (the trigger windows paced like the events),
 * the median pair per process, and the medians over rounds with their ratio to the floor; and
 * each process's CPU at rest afterwards (everyone subscribed, no events: pings, timers).
 *
 * Never assert on these figures: they depend on the machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_ROOM, benchToken } from '../lib/bench-secrets.ts';
import { startChild } from '../lib/ipc.ts';
import { startClient } from '../lib/processes.ts';
import { median } from '../lib/stats.ts';
import { treeAtRef } from '../lib/tree-at-ref.ts';
import { ROOMS_WARMUP_PASSES, measureRest, measureWindows, warmUp } from '../scenarios/fanout.ts';
import type { FanoutSetup } from '../scenarios/fanout.ts';
import type { ServerInfo } from '../servers/server-process.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    rooms: { type: 'string', default: '993' },
    windows: { type: 'string', default: '6' },
    settle: { type: 'string', default: '70' },
  },
});
const ref = positionals[0];
if (!ref) {
  process.stderr.write(
    'usage: rooms-ab.ts <ref> [--rounds N] [--rooms N] [--windows N] [--settle S]\n',
  );
  process.exit(2);
}
const rounds = Number(values.rounds);
const rooms = Number(values.rooms);
const windows = Number(values.windows);
const settleMs = Number(values.settle) * 1000;
const PER_ROOM = 20;
/** The rooms scenario's setup, with `--rooms` and `--windows` of its own. */
const setup: FanoutSetup = {
  id: 'rooms-ab',
  title: 'rooms A/B',
  subscribers: rooms * PER_ROOM,
  rooms,
  events: rooms * windows,
  windows,
  warmupEvents: rooms * ROOMS_WARMUP_PASSES,
  gapMs: 1,
  netOfTrigger: true,
};

const here = new URL('../servers/server-process.ts', import.meta.url);
const before = pathToFileURL(join(treeAtRef(ref), 'bench/servers/server-process.ts'));
const contenders = [
  { name: `roomcast@${ref}`, script: before, kind: 'roomcast', trigger: 'webhook' },
  { name: 'roomcast (working tree)', script: here, kind: 'roomcast', trigger: 'webhook' },
  { name: 'bare ws (floor)', script: here, kind: 'bare-ws', trigger: 'publish' },
] as const;

/** Pins `pid` (every thread) to `core`, when taskset is installed. */
function pin(pid: number | undefined, core: number): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
  } catch {
    // Unpinned: the figures vary more, nothing else changes.
  }
}

/** TCP sockets in TIME_WAIT on this machine (0 where /proc/net/tcp cannot be read). */
function timeWaitSockets(): number {
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      // Column 4 is the state; 06 is TIME_WAIT.
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        if (line.trim().split(/\s+/)[3] === '06') count++;
      }
    } catch {
      // No such table here.
    }
  }
  return count;
}

/** Waits (at most `settleMs`) until fewer than 1,000 sockets are in TIME_WAIT; returns the ms waited. */
async function settle(): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < settleMs && timeWaitSockets() >= 1000) await sleep(1000);
  return performance.now() - start;
}

/** What one process of one contender came to. */
interface Measured {
  /** The median pair's net CPU per delivery, µs. */
  net: number;
  /** CPU at rest afterwards, % of a core. */
  rest: number;
}

/** One process of one contender. */
async function measure(contender: (typeof contenders)[number]): Promise<Measured> {
  const server = await startChild<ServerInfo>(contender.script, {
    args: [contender.kind],
    label: contender.name,
  });
  const subscribers = await startClient('fanout-subscribers');
  try {
    pin(server.pid, 0);
    pin(subscribers.pid, 1);
    await subscribers.request('connect', {
      transport: 'ws',
      port: server.info.port,
      room: BENCH_ROOM,
      token: benchToken(),
      subscribers: setup.subscribers,
      totalEvents: setup.warmupEvents + setup.events,
      trigger: contender.trigger,
      rooms,
    });
    const pace = { gapMs: setup.gapMs, timeoutMs: 10_000, burst: 1 };
    const triggersBefore = await warmUp(setup, subscribers, pace);
    const { netUs } = await measureWindows(setup, server, subscribers, pace, triggersBefore);
    return { net: median(netUs), rest: await measureRest(server) };
  } finally {
    await subscribers.stop();
    await server.stop();
  }
}

const results = new Map<string, Measured[]>(contenders.map(({ name }) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < contenders.length; i++) {
    const contender = contenders[(i + round) % contenders.length]!;
    const waited = await settle();
    if (waited >= 1000) process.stdout.write(`  (settled ${(waited / 1000).toFixed(0)} s)\n`);
    const measured = await measure(contender);
    results.get(contender.name)!.push(measured);
    process.stdout.write(
      `round ${round + 1} ${contender.name}: ${measured.net.toFixed(1)} µs, ` +
        `at rest ${measured.rest.toFixed(2)}% of a core\n`,
    );
  }
}
const floor = median(results.get('bare ws (floor)')!.map(({ net }) => net));
process.stdout.write(
  `\nCPU per delivery net of the trigger, ${rooms} rooms × ${PER_ROOM}; CPU at rest:\n`,
);
for (const [name, runs] of results) {
  const nets = runs.map(({ net }) => net);
  const value = median(nets);
  const rest = median(runs.map((run) => run.rest));
  process.stdout.write(
    `  ${name.padEnd(26)} ${value.toFixed(1).padStart(6)} µs  ${(value / floor).toFixed(2)}× floor` +
      `  (rounds ${nets.map((us) => us.toFixed(1)).join(', ')});  at rest ${rest.toFixed(2)}%\n`,
  );
}
