/**
 * Scenario "ingest": webhooks per second and server CPU per webhook through roomcast's real
 * route, side by side with a fastify route verifying with the Huddle01 SDK and a bare fastify
 * route (the floor). One load-generator process drives every server in turn with the same
 * pre-signed requests; each server runs in its own process, which measures its own CPU.
 */
import type { BenchOptions } from '../lib/bench-options.ts';
import { rotate, startClient, startServer } from '../lib/processes.ts';
import { OTHER_LOAD_METRIC, addValue, newResult, noteOtherLoad } from '../lib/results.ts';
import { measureIngestPhase } from '../lib/ingest-phase.ts';
import { quietMachine } from './quiet-machine.ts';
import type { Contender, ScenarioResult } from '../lib/results.ts';
import type { ServerKind } from '../servers/server-kinds.ts';

/** Load-generator CPU above this share of its wall time: it, not the server, may be the limit. */
const CLIENT_BOUND = 0.9;
/** Pool size per second of load: above the fastest rate seen on a 2-core box. */
const POOL_RATE = 45_000;

const CONTENDERS: (Contender & { id: ServerKind })[] = [
  {
    id: 'roomcast',
    label: 'roomcast POST /webhooks/huddle01',
    short: 'roomcast',
    role: 'subject',
  },
  { id: 'sdk-ingest', label: 'fastify + SDK WebhookReceiver', short: 'SDK route', role: 'peer' },
  { id: 'bare-ingest', label: 'bare fastify route (floor)', short: 'bare route', role: 'floor' },
  {
    id: 'verify-ingest',
    label: 'bare route + roomcast verifier only',
    short: 'verify-only route',
    role: 'reference',
  },
];

/** Runs the ingest scenario. */
export async function runIngest(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const result = newResult({
    id: 'ingest',
    title: 'Ingest: signed webhooks through the route',
    method:
      `${options.concurrency} keep-alive connections, each with one request in flight, POST ` +
      `pre-signed webhooks with unique ids (whole meetings in 64 rooms: started, 4 × joined, ` +
      `trackPublished, left, ended) for ${options.ingestMs / 1000} s after a ` +
      `${options.ingestWarmupMs / 1000} s warm-up. The verify-only route is the bare route ` +
      `plus roomcast's signature and freshness checks (the least a route meeting the webhook ` +
      `contract can cost). Server CPU is process.cpuUsage() (user + ` +
      `system) inside the server process over the timed phase, divided by answered requests.`,
    params: {
      'timed phase': `${options.ingestMs / 1000} s`,
      warmup: `${options.ingestWarmupMs / 1000} s`,
      concurrency: options.concurrency,
      runs: options.ingestRuns,
    },
    metrics: [
      { key: 'rps', label: 'webhooks/s', unit: '/s', better: 'higher', digits: 0 },
      { key: 'cpuUs', label: 'server CPU per webhook', unit: 'µs', better: 'lower', digits: 1 },
      {
        key: 'clientCpu',
        label: 'load-generator CPU',
        unit: '% of a core',
        better: 'lower',
        digits: 0,
        noRatio: true,
      },
      OTHER_LOAD_METRIC,
    ],
    contenders: CONTENDERS,
    // Retired: "route throughput ≥ 0.5× the bare route" (a route that only answers is not a
    // webhook receiver; see docs/benchmarks.md). CPU per webhook is still reported against the
    // verify-only route.
    targets: [],
  });

  const load = await startClient('ingest-load');
  try {
    const poolSize = Math.ceil(((options.ingestMs + options.ingestWarmupMs) / 1000) * POOL_RATE);
    for (let run = 0; run < options.ingestRuns; run++) {
      for (const contender of rotate(CONTENDERS, run)) {
        const signed = await load.request<{ size: number; ms: number }>('prepare', {
          size: poolSize,
        });
        if (signed.ms > 0)
          log(`  signed ${signed.size} webhooks in ${(signed.ms / 1000).toFixed(1)} s`);
        const server = await startServer(contender.id, options, `ingest-${contender.id}`);
        try {
          const {
            load: measured,
            rps,
            cpuUs,
            otherLoad,
          } = await measureIngestPhase(load, server, {
            concurrency: options.concurrency,
            warmupMs: options.ingestWarmupMs,
            durationMs: options.ingestMs,
            quiet: () => quietMachine(options, log),
          });
          const clientCpu = measured.clientCpuUs / 1000 / measured.wallMs;
          addValue(result, contender.id, 'rps', rps);
          addValue(result, contender.id, 'cpuUs', cpuUs);
          addValue(result, contender.id, 'clientCpu', clientCpu * 100);
          addValue(result, contender.id, 'otherLoad', otherLoad);
          log(
            `  run ${run + 1} ${contender.id.padEnd(12)} ${rps.toFixed(0).padStart(6)} webhooks/s  ` +
              `${cpuUs.toFixed(1).padStart(6)} µs CPU/webhook  load generator ${(clientCpu * 100).toFixed(0)}% CPU  ` +
              `other processes ${otherLoad.toFixed(0)}% of a core  statuses ${JSON.stringify(measured.statuses)}`,
          );
          const failed = Object.entries(measured.statuses)
            .filter(([status]) => Number(status) >= 300)
            .reduce((sum, [, count]) => sum + count, 0);
          if (failed > 0)
            result.notes.push(`run ${run + 1} ${contender.id}: ${failed} non-2xx answers`);
          if (measured.connectionErrors > 0) {
            result.notes.push(
              `run ${run + 1} ${contender.id}: ${measured.connectionErrors} connection errors`,
            );
          }
          if (measured.poolWrapped > 0) {
            result.notes.push(
              `run ${run + 1} ${contender.id}: the signed pool ran out (ids repeated); raise POOL_RATE`,
            );
          }
          if (clientCpu > CLIENT_BOUND) {
            result.notes.push(
              `run ${run + 1} ${contender.id}: the load generator used ${(clientCpu * 100).toFixed(0)}% ` +
                `of a core; this throughput may be the client's limit, not the server's ` +
                `(CPU per webhook is unaffected)`,
            );
          }
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    await load.stop();
  }
  noteOtherLoad(result);
  return result;
}
