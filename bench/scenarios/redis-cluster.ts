/**
 * The "redis" scenario's cluster part: the same webhook load as its throughput part, on two
 * roomcast nodes with `REDIS_URL=redis+cluster://…`, against a Redis Cluster of 1 shard and of
 * 3 shards (masters, no replicas, started by the launcher of the tests). Throughput and latency
 * side by side; the latency is the mean answer time of the closed loop (concurrency ÷ answers
 * per second, Little's law), since the load generator counts answers, not their times.
 */
import { availableParallelism } from 'node:os';
import type { BenchOptions } from '../lib/bench-options.ts';
import type { BenchChild } from '../lib/ipc.ts';
import { rotate, startClient, startServer } from '../lib/processes.ts';
import { redisCpuUs } from '../lib/redis-server.ts';
import { addValue, newResult } from '../lib/results.ts';
import type { Contender, ScenarioResult } from '../lib/results.ts';
import { quietMachine } from './quiet-machine.ts';
import type { IngestPhaseResult } from '../clients/ingest-load.ts';
import type { ServerInfo } from '../servers/server-process.ts';
import { startRedisCluster } from '../../test/helpers/redis-topologies.ts';

interface ClusterContender extends Contender {
  shards: number;
}

const CONTENDERS: ClusterContender[] = [
  { id: 'cluster-1', label: 'Redis Cluster, 1 shard', short: '1 shard', role: 'floor', shards: 1 },
  {
    id: 'cluster-3',
    label: 'Redis Cluster, 3 shards',
    short: '3 shards',
    role: 'subject',
    shards: 3,
  },
];

/** roomcast nodes in front of the cluster (round-robin, as a load balancer would). */
const NODES = 2;
/** Rooms of the load: many, so that every shard gets its share. */
const ROOMS = 300;
/** Signed webhooks per second of phase the pool holds (ids never repeat within a run). */
const POOL_RATE = 4000;

/** Runs the 1-shard vs 3-shard comparison. */
export async function runRedisCluster(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const result = newResult({
    id: 'redis-cluster',
    title: 'Redis Cluster: 1 shard vs 3 shards',
    method:
      `${NODES} roomcast nodes with REDIS_URL=redis+cluster://… (sharded pub/sub), one ` +
      `load-generator process keeping ${options.concurrency} keep-alive connections busy ` +
      `(round-robin over the nodes), pre-signed whole meetings in ${ROOMS} rooms, for ` +
      `${options.ingestMs / 1000} s after a ${options.ingestWarmupMs / 1000} s warm-up; a fresh ` +
      `cluster (redis-server --cluster-enabled, slots spread by redis-cli --cluster create, no ` +
      `replicas, no persistence) per setup. webhooks/s counts answers 200. Mean answer time = ` +
      `concurrency ÷ answers per second (closed loop, Little's law). Redis CPU = INFO cpu of ` +
      `every shard over the timed phase ÷ accepted webhooks. ${availableParallelism()} cores ` +
      `run everything: the shards share them with the nodes and the load generator.`,
    params: {
      nodes: NODES,
      rooms: ROOMS,
      concurrency: options.concurrency,
      'timed phase': `${options.ingestMs / 1000} s`,
      runs: options.runs,
    },
    metrics: [
      { key: 'rps', label: 'accepted webhooks/s', unit: '/s', better: 'higher', digits: 0 },
      { key: 'answerMs', label: 'mean answer time', unit: 'ms', better: 'lower', digits: 2 },
      {
        key: 'redisCpuUs',
        label: 'Redis CPU per webhook (all shards)',
        unit: 'µs',
        better: 'lower',
        digits: 1,
      },
      {
        key: 'refused',
        label: 'answers other than 200',
        unit: '',
        better: 'lower',
        digits: 0,
        noRatio: true,
      },
    ],
    contenders: CONTENDERS.map(({ id, label, short, role }) => ({ id, label, short, role })),
    baseline: 'cluster-1',
    targets: [],
  });

  const load = await startClient('ingest-load');
  try {
    const poolSize = Math.ceil(((options.ingestMs + options.ingestWarmupMs) / 1000) * POOL_RATE);
    for (let run = 0; run < options.runs; run++) {
      for (const contender of rotate(CONTENDERS, run)) {
        await load.request('prepare', { size: poolSize, rooms: ROOMS, rewind: true });
        const cluster = await startRedisCluster({ masters: contender.shards });
        let nodes: BenchChild<ServerInfo>[] = [];
        try {
          nodes = await Promise.all(
            Array.from({ length: NODES }, (_, index) =>
              startServer('roomcast', options, `redis-cluster-${contender.id}-node${index + 1}`, {
                redisUrl: cluster.url,
              }),
            ),
          );
          const phase = {
            ports: nodes.map((node) => node.info.port),
            concurrency: options.concurrency,
          };
          await load.request('run', { ...phase, durationMs: options.ingestWarmupMs });
          await quietMachine(options, log);
          const cpu = async () =>
            (await Promise.all(cluster.nodes.map((node) => redisCpuUs(node)))).reduce(
              (a, b) => a + b,
              0,
            );
          const cpuStart = await cpu();
          const outcome = await load.request<IngestPhaseResult>('run', {
            ...phase,
            durationMs: options.ingestMs,
          });
          const redisUs = (await cpu()) - cpuStart;
          const accepted = outcome.statuses['200'] ?? 0;
          const rps = accepted / (outcome.wallMs / 1000);
          const answerMs =
            (options.concurrency / (outcome.completed / (outcome.wallMs / 1000))) * 1000;
          addValue(result, contender.id, 'rps', rps);
          addValue(result, contender.id, 'answerMs', answerMs);
          addValue(result, contender.id, 'redisCpuUs', redisUs / Math.max(1, accepted));
          addValue(result, contender.id, 'refused', outcome.completed - accepted);
          log(
            `  run ${run + 1} ${contender.id} ${rps.toFixed(0).padStart(6)} webhooks/s  ` +
              `${answerMs.toFixed(2)} ms mean answer  Redis ${(redisUs / Math.max(1, accepted)).toFixed(1)} µs/webhook  ` +
              `statuses ${JSON.stringify(outcome.statuses)}`,
          );
        } finally {
          await Promise.all(nodes.map((node) => node.stop()));
          await cluster.close();
        }
      }
    }
  } finally {
    await load.stop();
  }
  return result;
}
