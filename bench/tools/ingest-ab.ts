/**
 * Before/after measurements of the ingest path: the code of a git ref (extracted next to the
 * working tree by `treeAtRef`) against the working tree, in one run.
 *
 *   node --import tsx bench/tools/ingest-ab.ts <ref> [--rounds N] [--http RUNS]
 *
 * Micro-benchmarks, in one process (each round runs every contender once, alternately, and
 * reads the process CPU time around it, so load from other processes lands on both alike;
 * reported: min and median µs per call):
 * - verifier: the verifier of <ref> (its `createSignatureVerifier`, or `verifySignature` before
 *   that existed) against the working tree's `createSignatureVerifier`
 *   (made once, as the route makes it), on the bench's realistic signed peer:joined;
 * - reducer: `reduceRoom` of <ref> against the working tree's, folding the ingest workload
 *   (whole meetings in 64 rooms) with peer ids never seen before, as a server sees them;
 * - history at capacity: dropping the oldest of 1000 entries per append, `splice(0, 1)` against
 *   `shift()` (the memory engine's trim), needs no ref.
 *
 * `--http RUNS`: the ingest scenario's load (bench/clients/ingest-load.ts) against roomcast of
 * <ref>, roomcast of the working tree and the bare fastify route, each in its own process, in a
 * rotated order per run, each phase after a wait for a quiet machine; reported: server CPU per
 * webhook and webhooks/s, medians over runs and medians of the per-run ratios.
 *
 * Never assert on these figures: they depend on the machine.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { emptyRoomState, reduceRoom } from '@roomcast/shared';
import type { RoomState } from '@roomcast/shared';
import { createSignatureVerifier } from '../../server/src/webhooks/verify-signature.ts';
import { BENCH_API_KEY } from '../lib/bench-secrets.ts';
import { startChild } from '../lib/ipc.ts';
import { measureIngestPhase } from '../lib/ingest-phase.ts';
import { waitForQuiet } from '../lib/machine-load.ts';
import { rotate } from '../lib/processes.ts';
import { median } from '../lib/stats.ts';
import { treeAtRef } from '../lib/tree-at-ref.ts';
import { mixWebhook } from '../lib/webhook-mix.ts';
import type { ServerInfo } from '../servers/server-process.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string' }, http: { type: 'string' } },
});
const ref = positionals[0];
if (!ref) {
  process.stderr.write('usage: ingest-ab.ts <git ref> [--rounds N] [--http RUNS]\n');
  process.exit(2);
}
const rounds = Number(values.rounds ?? 31) || 31;
const httpRuns = Number(values.http ?? 0) || 0;
const tree = treeAtRef(ref);
const atRef = (path: string) => import(pathToFileURL(join(tree, path)).href);

/** CPU time of `work()`, µs. */
function cpuOf(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const { user, system } = process.cpuUsage(start);
  return user + system;
}

/**
 * CPU µs per call of each contender: `run(n)` makes n calls and returns the CPU µs they took
 * (so that a contender can leave its preparation out). Rounds alternate the order.
 */
function compare(title: string, calls: number, contenders: Record<string, (n: number) => number>) {
  const names = Object.keys(contenders);
  const times = new Map(names.map((name) => [name, [] as number[]]));
  for (const name of names) contenders[name]!(calls); // warm-up
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) times.get(name)!.push(contenders[name]!(calls) / calls);
  }
  process.stdout.write(`\n${title} (CPU µs per call, ${rounds} rounds × ${calls} calls)\n`);
  for (const [name, values] of times) {
    values.sort((a, b) => a - b);
    const median = values[values.length >> 1]!;
    process.stdout.write(
      `  ${name.padEnd(28)} min ${values[0]!.toFixed(2).padStart(7)}  median ${median.toFixed(2).padStart(7)}\n`,
    );
  }
}

type Verify = (raw: string, header: string) => { ok: boolean };
const verifierAtRef = await atRef('server/src/webhooks/verify-signature.ts');
const keys = [BENCH_API_KEY];
const before = {
  // The ref's verifier made once, as its route made it; a ref older than
  // `createSignatureVerifier` verified with `verifySignature` and a key list per call.
  verify: (verifierAtRef.createSignatureVerifier?.(keys) ??
    ((raw: string, header: string) => verifierAtRef.verifySignature(raw, header, keys))) as Verify,
  reduce: (await atRef('shared/src/room-state.ts')).reduceRoom as typeof reduceRoom,
};

const { body, signature } = mixWebhook(64, { tag: 'ab' });
const verify = createSignatureVerifier(keys);
compare('verifier', 5000, {
  [`${ref} verifier`]: (n) =>
    cpuOf(() => {
      for (let i = 0; i < n; i++) if (!before.verify(body, signature).ok) throw new Error();
    }),
  createSignatureVerifier: (n) =>
    cpuOf(() => {
      for (let i = 0; i < n; i++) if (!verify(body, signature).ok) throw new Error();
    }),
});

// Each call of a reducer contender folds the next events of its own sequence into its own
// rooms, its peer ids prefixed with its name: new peers keep arriving, as on a server, and
// the contenders never share one.
const ROOMS = 64;
const fold = (name: string, reduce: typeof reduceRoom) => {
  const rooms = new Map<string, RoomState>();
  let next = 0;
  return (n: number) => {
    const events = Array.from({ length: n }, () => {
      const index = next++;
      const { event, payload } = JSON.parse(mixWebhook(index, { rooms: ROOMS }).body);
      if (typeof payload.id === 'string') payload.id = payload.id.replace('peer-', `${name}-`);
      // Track events carry no roomId: the engine routes them to their peer's room.
      return { roomId: `room-${index % ROOMS}`, event: { event, payload } };
    });
    return cpuOf(() => {
      for (const { roomId, event } of events) {
        const state = rooms.get(roomId) ?? emptyRoomState(roomId);
        rooms.set(roomId, reduce(state, event, 1));
      }
    });
  };
};
compare('reducer over the ingest workload, new peer ids', 2000, {
  [`${ref} reduceRoom`]: fold('before', before.reduce),
  reduceRoom: fold('after', reduceRoom),
});

const full = () => Array.from({ length: 1000 }, (_, seq) => ({ seq }));
const spliced = full();
const shifted = full();
compare('append to a full 1000-entry history', 20000, {
  'push + splice(0, 1)': (n) =>
    cpuOf(() => {
      for (let i = 0; i < n; i++) {
        spliced.push({ seq: i });
        spliced.splice(0, spliced.length - 1000);
      }
    }),
  'push + shift()': (n) =>
    cpuOf(() => {
      for (let i = 0; i < n; i++) {
        shifted.push({ seq: i });
        shifted.shift();
      }
    }),
});

/** The ingest scenario's phases, as in bench/scenarios/ingest.ts. */
const PHASE = { concurrency: 32, warmupMs: 1500, durationMs: 5000 };
const POOL_RATE = 45_000;

/** Roomcast of <ref>, of the working tree, and the floor, over real HTTP (see the header). */
async function compareRoutes(runs: number): Promise<void> {
  const here = new URL('../servers/server-process.ts', import.meta.url);
  const servers = [
    {
      name: `roomcast ${ref}`,
      script: pathToFileURL(join(tree, 'bench/servers/server-process.ts')),
      kind: 'roomcast',
    },
    { name: 'roomcast', script: here, kind: 'roomcast' },
    { name: 'bare route', script: here, kind: 'bare-ingest' },
  ];
  const cpu = new Map(servers.map(({ name }) => [name, [] as number[]]));
  const rps = new Map(servers.map(({ name }) => [name, [] as number[]]));
  const load = await startChild(new URL('../clients/ingest-load.ts', import.meta.url), {
    label: 'ingest-load',
  });
  process.stdout.write(`\nroute over HTTP (${runs} runs)\n`);
  try {
    const size = Math.ceil(((PHASE.durationMs + PHASE.warmupMs) / 1000) * POOL_RATE);
    for (let run = 0; run < runs; run++) {
      for (const { name, script, kind } of rotate(servers, run)) {
        await load.request('prepare', { size });
        const server = await startChild<ServerInfo>(script, { args: [kind], label: name });
        try {
          const measured = await measureIngestPhase(load, server, {
            ...PHASE,
            quiet: () => waitForQuiet(25, 15_000),
          });
          cpu.get(name)!.push(measured.cpuUs);
          rps.get(name)!.push(measured.rps);
          process.stdout.write(
            `  run ${run + 1} ${name.padEnd(18)} ${rps.get(name)!.at(-1)!.toFixed(0).padStart(6)} webhooks/s ` +
              `${cpu.get(name)!.at(-1)!.toFixed(1).padStart(6)} µs CPU/webhook  other processes ` +
              `${measured.otherLoad.toFixed(0)}% of a core  statuses ${JSON.stringify(measured.load.statuses)}\n`,
          );
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    await load.stop();
  }
  const perRun = (values: Map<string, number[]>, a: string, b: string) =>
    median(values.get(a)!.map((value, run) => value / values.get(b)![run]!)).toFixed(2);
  for (const { name } of servers) {
    process.stdout.write(
      `  median ${name.padEnd(18)} ${median(rps.get(name)!).toFixed(0).padStart(6)} webhooks/s ` +
        `${median(cpu.get(name)!).toFixed(1).padStart(6)} µs CPU/webhook\n`,
    );
  }
  const [old, now, floor] = servers.map(({ name }) => name) as [string, string, string];
  process.stdout.write(
    `  CPU per webhook: ${now} ÷ ${old} ${perRun(cpu, now, old)}×, ${old} ÷ floor ` +
      `${perRun(cpu, old, floor)}×, ${now} ÷ floor ${perRun(cpu, now, floor)}×\n` +
      `  webhooks/s: ${old} ÷ floor ${perRun(rps, old, floor)}×, ${now} ÷ floor ` +
      `${perRun(rps, now, floor)}×\n`,
  );
}

if (httpRuns > 0) await compareRoutes(httpRuns);
