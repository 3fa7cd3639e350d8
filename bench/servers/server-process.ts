/**
 * Child process hosting ONE server under test
 * (`node --import tsx server-process.ts <kind> [--profile file.cpuprofile] [--redis-url url]`).
 *
 * The server gets a core of its own, so its CPU can be read with `process.cpuUsage()` here (user
 * + system, every thread of the process) and its memory with `process.memoryUsage()` after
 * forced GCs, and both are reported to the runner over IPC at the moments the runner picks.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { serveRequests } from '../lib/ipc.ts';
import { SERVER_KINDS, isServerKind } from './server-kinds.ts';

/** CPU used by the server between `cpu-start` and `cpu-stop`. */
export interface CpuWindow {
  /** user + system CPU time, µs */
  cpuUs: number;
  userUs: number;
  systemUs: number;
  wallMs: number;
}

/** Memory after forced garbage collection. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** What the server process announces when it listens. */
export interface ServerInfo {
  port: number;
  kind: string;
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { profile: { type: 'string' }, 'redis-url': { type: 'string' } },
});
const kind = positionals[0] ?? '';
const profilePath = values.profile;
if (!isServerKind(kind)) {
  throw new Error(`unknown server kind ${JSON.stringify(kind)} (${Object.keys(SERVER_KINDS)})`);
}
const redisUrl = values['redis-url'];
const server = await SERVER_KINDS[kind](redisUrl ? { redisUrl } : {});

async function collectedMemory(): Promise<MemorySample> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with --expose-gc');
  // Several passes, with turns of the event loop between them, so that objects freed by
  // finalizers and weak callbacks of the previous pass are gone too.
  for (let pass = 0; pass < 3; pass++) {
    gc();
    await nextTurn();
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

let cpuStart: NodeJS.CpuUsage | undefined;
let wallStart = 0;
let profiler: Session | undefined;

async function startProfile(): Promise<void> {
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}

/** CPU windows profiled so far: each after the first gets its own file (`…-window2.cpuprofile`). */
let profiledWindows = 0;

async function stopProfile(): Promise<void> {
  if (!profiler || !profilePath) return;
  const { profile } = await profiler.post('Profiler.stop');
  profiledWindows++;
  const path =
    profiledWindows === 1
      ? profilePath
      : profilePath.replace(/(\.cpuprofile)?$/, `-window${profiledWindows}$1`);
  writeFileSync(path, JSON.stringify(profile));
  profiler.disconnect();
  profiler = undefined;
}

// A deploy's restart, as `roomcast serve` takes it (serve.ts): drain, close (WebSocket
// subscribers get 1012), exit.
// It tells how long that took (stderr): until every WebSocket was gone, and until exit.
process.once('SIGTERM', () => {
  const started = performance.now();
  const open = () => server.stats?.().connections ?? 0;
  const atStart = open();
  let goneMs = Number.NaN;
  const poll = setInterval(() => {
    if (open() === 0 && Number.isNaN(goneMs)) goneMs = performance.now() - started;
  }, 20);
  server.drain?.();
  void server.close().finally(() => {
    clearInterval(poll);
    const ms = (performance.now() - started).toFixed(0);
    process.stderr.write(
      `    [${kind} ${process.pid}] SIGTERM: ${atStart} WebSockets, all gone after ${goneMs.toFixed(0)} ms, closed after ${ms} ms\n`,
    );
    process.exit(0);
  });
});

serveRequests(
  {
    'cpu-start': async () => {
      if (profilePath) await startProfile();
      cpuStart = process.cpuUsage();
      wallStart = performance.now();
    },
    'cpu-stop': async (): Promise<CpuWindow> => {
      if (!cpuStart) throw new Error('cpu-stop without cpu-start');
      const { user, system } = process.cpuUsage(cpuStart);
      const wallMs = performance.now() - wallStart;
      cpuStart = undefined;
      await stopProfile();
      return { cpuUs: user + system, userUs: user, systemUs: system, wallMs };
    },
    memory: collectedMemory,
    stats: () => server.stats?.() ?? {},
    'heap-snapshot': async ({ dir, name }: { dir: string; name: string }) => {
      await collectedMemory();
      return writeHeapSnapshot(join(dir, `${name}.heapsnapshot`));
    },
    close: () => server.close(),
  },
  { port: server.port, kind } satisfies ServerInfo,
);
