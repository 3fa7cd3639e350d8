/**
 * Scenario "redis": roomcast on the Redis engine (docs/deployment.md), against roomcast on the
 * memory engine as the reference, with its own redis-server (no persistence) for the scenario.
 * Two parts, each its own result:
 *
 * - latency: N WebSocket subscribers of one room, events emitted one at a time (as in the ws
 *   scenario), on one node with the memory engine, on one node with Redis, and across nodes (the
 *   webhook POSTed to node A, the subscribers on node B: append script on A, pub/sub to B);
 * - throughput: signed webhooks (whole meetings in many rooms) spread by the load generator over
 *   1, 2 and 3 nodes of one Redis, and the memory engine on one node; webhooks/s accepted and
 *   every node's CPU per webhook, Redis's CPU and its command counts.
 *
 * Redis is emptied (FLUSHALL) before each contender: rooms start at seq 1 and webhook ids are
 * new again, so every contender does the same work.
 */
import { availableParallelism } from 'node:os';
import type { BenchOptions } from '../lib/bench-options.ts';
import { BENCH_ROOM, benchToken } from '../lib/bench-secrets.ts';
import type { BenchChild } from '../lib/ipc.ts';
import type { DeliveryReport } from '../lib/delivery-tracker.ts';
import { otherLoadPercent, readBusy } from '../lib/machine-load.ts';
import { rotate, startClient, startServer } from '../lib/processes.ts';
import { startBenchRedis } from '../lib/redis-server.ts';
import type { BenchRedis } from '../lib/redis-server.ts';
import { OTHER_LOAD_METRIC, addValue, newResult, noteOtherLoad } from '../lib/results.ts';
import type { Contender, Metric, ScenarioResult } from '../lib/results.ts';
import { quietMachine } from './quiet-machine.ts';
import { runRedisCluster } from './redis-cluster.ts';
import { runRedisMemory } from './redis-memory.ts';
import type { ConnectArgs } from '../clients/fanout-subscribers.ts';
import type { IngestPhaseResult } from '../clients/ingest-load.ts';
import type { CpuWindow, ServerInfo } from '../servers/server-process.ts';

/** Rooms of the throughput workload: many, so appends to one room rarely meet. */
const ROOMS = 200;
/** Signed webhooks per second of load phase: above the fastest rate seen here (memory engine). */
const POOL_RATE = 20_000;
/** Load-generator CPU above this share of its wall time: it may be the limit (as in ingest). */
const CLIENT_BOUND = 0.9;
/** Commands the runner itself sends, left out of the per-webhook counts (and the heartbeats). */
const RUNNER_COMMANDS = new Set(['info', 'config', 'flushall', 'ping']);

interface LatencyContender extends Contender {
  redis: boolean;
  /** Webhook to node A, subscribers on node B (else both on one node). */
  crossNode: boolean;
}

const LATENCY_CONTENDERS: LatencyContender[] = [
  {
    id: 'memory',
    label: '1 node, memory engine (reference)',
    short: 'memory',
    role: 'floor',
    redis: false,
    crossNode: false,
  },
  {
    id: 'redis-local',
    label: '1 node, Redis engine',
    short: 'Redis 1 node',
    role: 'subject',
    redis: true,
    crossNode: false,
  },
  {
    id: 'redis-cross',
    label: 'Redis, webhook to node A, subscribers on node B',
    short: 'Redis A → B',
    role: 'subject',
    redis: true,
    crossNode: true,
  },
];

interface ThroughputContender extends Contender {
  redis: boolean;
  nodes: number;
}

const THROUGHPUT_CONTENDERS: ThroughputContender[] = [
  {
    id: 'memory-1',
    label: '1 node, memory engine (reference)',
    short: 'memory',
    role: 'floor',
    redis: false,
    nodes: 1,
  },
  {
    id: 'redis-1',
    label: '1 node, Redis',
    short: 'Redis 1 node',
    role: 'subject',
    redis: true,
    nodes: 1,
  },
  {
    id: 'redis-2',
    label: '2 nodes, Redis',
    short: 'Redis 2 nodes',
    role: 'subject',
    redis: true,
    nodes: 2,
  },
  {
    id: 'redis-3',
    label: '3 nodes, Redis',
    short: 'Redis 3 nodes',
    role: 'subject',
    redis: true,
    nodes: 3,
  },
];

const MAX_NODES = Math.max(...THROUGHPUT_CONTENDERS.map((contender) => contender.nodes));

type Node = BenchChild<ServerInfo>;

/** Runs both parts on one redis-server; returns the latency result, then the throughput one. */
export async function runRedis(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult[]> {
  const redis = await startBenchRedis();
  log(`  ${redis.version} on 127.0.0.1:${redis.port} (pid ${redis.pid}, no persistence)`);
  try {
    const latency = await runLatency(redis, options, log);
    const throughput = await runThroughput(redis, options, log);
    const memory = await runRedisMemory(redis, Math.min(options.runs, 2), log);
    // The cluster part starts clusters of its own (1 shard, then 3).
    const cluster = await runRedisCluster(options, log);
    return [latency, throughput, memory, cluster];
  } finally {
    await redis.stop();
  }
}

/** Starts `count` roomcast nodes in parallel, on Redis or on the memory engine. */
function startNodes(
  count: number,
  redis: BenchRedis | undefined,
  options: BenchOptions,
  tag: string,
): Promise<Node[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      startServer(
        'roomcast',
        options,
        count > 1 ? `${tag}-node${index + 1}` : tag,
        redis ? { redisUrl: redis.url } : {},
      ),
    ),
  );
}

async function stopAll(children: readonly (BenchChild<unknown> | undefined)[]): Promise<void> {
  await Promise.all(children.map((child) => child?.stop()));
}

/** CPU windows of every node and of Redis around `work`. */
async function measured<T>(
  nodes: readonly Node[],
  redis: BenchRedis,
  work: () => Promise<T>,
): Promise<{ outcome: T; nodeCpuUs: number[]; redisCpuUs: number }> {
  const redisStart = await redis.cpuUs();
  await Promise.all(nodes.map((node) => node.request('cpu-start')));
  const outcome = await work();
  const windows = await Promise.all(nodes.map((node) => node.request<CpuWindow>('cpu-stop')));
  return {
    outcome,
    nodeCpuUs: windows.map((window) => window.cpuUs),
    redisCpuUs: (await redis.cpuUs()) - redisStart,
  };
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

async function runLatency(
  redis: BenchRedis,
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const n = options.redisSubscribers;
  const totalEvents = options.warmupEvents + options.events;
  const result = newResult({
    id: 'redis-latency',
    title: 'Redis: cross-node delivery latency',
    method:
      `${n} WebSocket subscribers of one room in one client process; ${options.warmupEvents} ` +
      `warm-up events, then ${options.events} measured peer:joined webhooks emitted one at a ` +
      `time (each waits until every subscriber has the previous one, then ${options.gapMs} ms), ` +
      `as in the WebSocket fan-out. Three setups: one roomcast node on the memory engine ` +
      `(webhook and subscribers on it: the reference), one node on the Redis engine (webhook ` +
      `and subscribers on it: append script, then pub/sub back to the same node), and two ` +
      `nodes of one Redis with the webhook POSTed to node A and every subscriber on node B ` +
      `(append script on A, pub/sub to B, B fans out). Latency = receive − send in the client ` +
      `process (send = just before the POST), over every delivery. roomcast CPU per delivery = ` +
      `the CPU of every roomcast node over the measured events ÷ deliveries; Redis CPU (INFO cpu: ` +
      `the whole process, its idle timers included) ÷ events. Ratios are each setup ÷ the memory engine. Redis ` +
      `(${redis.version}, no persistence, on the same machine) is emptied before each setup.`,
    params: {
      subscribers: n,
      'measured events': options.events,
      'warm-up events': options.warmupEvents,
      gap: `${options.gapMs} ms`,
      runs: options.runs,
    },
    metrics: [
      { key: 'p50', label: 'latency p50', unit: 'ms', better: 'lower', digits: 1 },
      { key: 'p99', label: 'latency p99', unit: 'ms', better: 'lower', digits: 1 },
      {
        key: 'cpuUs',
        label: 'CPU per delivery, all nodes',
        unit: 'µs',
        better: 'lower',
        digits: 2,
      },
      {
        key: 'redisCpuUs',
        label: 'Redis CPU per event',
        unit: 'µs',
        better: 'lower',
        digits: 0,
        noRatio: true,
      },
      {
        key: 'lost',
        label: 'lost deliveries',
        unit: '',
        better: 'lower',
        digits: 0,
        noRatio: true,
      },
      OTHER_LOAD_METRIC,
    ] satisfies Metric[],
    contenders: LATENCY_CONTENDERS.map(({ id, label, short, role }) => ({
      id,
      label,
      short,
      role,
    })),
    baseline: 'memory',
    targets: [],
  });
  const token = benchToken();

  for (let run = 0; run < options.runs; run++) {
    for (const contender of rotate(LATENCY_CONTENDERS, run)) {
      await redis.command('FLUSHALL');
      const tag = `redis-latency-${contender.id}`;
      const nodes = await startNodes(
        contender.crossNode ? 2 : 1,
        contender.redis ? redis : undefined,
        options,
        tag,
      );
      // Node A takes the webhooks, node B (the last) holds the subscribers; one node: both.
      const ingestNode = nodes[0]!;
      const fanoutNode = nodes[nodes.length - 1]!;
      let subscribers: BenchChild<unknown> | undefined;
      try {
        subscribers = await startClient('fanout-subscribers');
        const { connectMs } = await subscribers.request<{ connectMs: number }>('connect', {
          transport: 'ws',
          port: fanoutNode.info.port,
          triggerPort: ingestNode.info.port,
          room: BENCH_ROOM,
          token,
          subscribers: n,
          totalEvents,
          trigger: 'webhook',
        } satisfies ConnectArgs);
        const batch = { gapMs: options.gapMs, timeoutMs: 10_000 };
        await subscribers.request('events', { ...batch, from: 0, count: options.warmupEvents });
        await quietMachine(options, log);
        const busy = readBusy();
        const client = subscribers;
        const window = await measured(nodes, redis, () =>
          client.request<DeliveryReport>('events', {
            ...batch,
            from: options.warmupEvents,
            count: options.events,
          }),
        );
        const report = window.outcome;
        const nodesCpuUs = sum(window.nodeCpuUs);
        const redisCpuUs = contender.redis ? window.redisCpuUs : Number.NaN;
        const otherLoad = otherLoadPercent(
          busy,
          nodesCpuUs + report.clientCpuUs + window.redisCpuUs,
        );
        const cpuUs = nodesCpuUs / Math.max(1, report.delivered);
        addValue(result, contender.id, 'p50', report.p50Ms);
        addValue(result, contender.id, 'p99', report.p99Ms);
        addValue(result, contender.id, 'cpuUs', cpuUs);
        addValue(result, contender.id, 'redisCpuUs', redisCpuUs / report.events);
        addValue(result, contender.id, 'lost', report.lost);
        addValue(result, contender.id, 'otherLoad', otherLoad);
        log(
          `  run ${run + 1} ${contender.id.padEnd(11)} p50 ${report.p50Ms.toFixed(1)} ms  ` +
            `p99 ${report.p99Ms.toFixed(1)} ms  ${cpuUs.toFixed(2)} µs roomcast CPU/delivery  ` +
            `${report.delivered}/${report.expected} delivered  (connect ` +
            `${(connectMs / 1000).toFixed(1)} s, other processes ${otherLoad.toFixed(0)}% of a core)`,
        );
        if (report.lost > 0 || report.outOfOrder > 0 || report.disconnects > 0) {
          result.notes.push(
            `run ${run + 1} ${contender.id}: ${report.lost} deliveries lost, ${report.outOfOrder} ` +
              `duplicated or out of order, ${report.disconnects} subscribers disconnected, ` +
              `${report.timeouts} events timed out`,
          );
        }
      } finally {
        await subscribers?.stop();
        await stopAll(nodes);
      }
    }
  }
  noteOtherLoad(result);
  return result;
}

async function runThroughput(
  redis: BenchRedis,
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const cores = availableParallelism();
  const result = newResult({
    id: 'redis-throughput',
    title: 'Redis: webhook throughput on 1, 2 and 3 nodes',
    method:
      `One load-generator process keeps ${options.concurrency} keep-alive connections busy ` +
      `(one request in flight each), spread round-robin over the nodes as a load balancer ` +
      `without sticky sessions would: pre-signed webhooks with unique ids, whole meetings in ` +
      `${ROOMS} rooms (started, 4 × joined, trackPublished, left, ended), so two appends to ` +
      `one room are rarely in flight at once, for ${options.ingestMs / 1000} s after a ` +
      `${options.ingestWarmupMs / 1000} s warm-up. webhooks/s counts answers 200 (appended; ` +
      `any other answer is listed). Every node reads its own CPU (process.cpuUsage()) over ` +
      `the timed phase; node k's CPU per webhook is its CPU ÷ the webhooks it answered, ` +
      `"all nodes" is their sum ÷ all webhooks; Redis CPU comes from Redis ` +
      `(INFO cpu) and its command counts from INFO commandstats (reset before the phase; ` +
      `commands run inside the scripts are counted too). On one node a webhook takes ` +
      `about 1.6 script calls (the append, plus the peer-index script of a peer:joined and the ` +
      `routing script of a track event); what 2 and 3 nodes add are compare-and-set ` +
      `conflicts: the room's previous webhook went through another node, so this node's ` +
      `remembered position is stale, the script answers with the current state and the node ` +
      `reduces and appends again. Ratios are each setup ÷ one node on the memory engine. This machine has ${cores} cores: with 2 or 3 nodes, Redis ` +
      `and the load generator, more processes want CPU than there are cores (see "CPU of all ` +
      `these processes"), so the 2- and 3-node rows show how the work divides, not how a ` +
      `deployment with a machine per node scales.`,
    params: {
      'timed phase': `${options.ingestMs / 1000} s`,
      warmup: `${options.ingestWarmupMs / 1000} s`,
      concurrency: options.concurrency,
      rooms: ROOMS,
      runs: options.runs,
    },
    metrics: [
      { key: 'rps', label: 'accepted webhooks/s', unit: '/s', better: 'higher', digits: 0 },
      {
        key: 'cpuUs',
        label: 'CPU per webhook, all nodes',
        unit: 'µs',
        better: 'lower',
        digits: 1,
      },
      ...Array.from({ length: MAX_NODES }, (_, index): Metric => ({
        key: `node${index + 1}CpuUs`,
        label: `node ${index + 1} CPU per webhook`,
        unit: 'µs',
        better: 'lower',
        digits: 1,
        // The reference has one node: only node 1 has a counterpart to divide by.
        ...(index > 0 ? { noRatio: true } : {}),
      })),
      {
        key: 'redisCpuUs',
        label: 'Redis CPU per webhook',
        unit: 'µs',
        better: 'lower',
        digits: 1,
        noRatio: true,
      },
      {
        key: 'scripts',
        label: 'Redis script calls per webhook',
        unit: '',
        better: 'lower',
        digits: 2,
        noRatio: true,
      },
      {
        key: 'commands',
        label: 'Redis commands per webhook',
        unit: '',
        better: 'lower',
        digits: 2,
        noRatio: true,
      },
      {
        key: 'clientCpu',
        label: 'load-generator CPU',
        unit: '% of a core',
        better: 'lower',
        digits: 0,
        noRatio: true,
      },
      {
        key: 'suiteCpu',
        label: 'CPU of all these processes',
        unit: '% of a core',
        better: 'lower',
        digits: 0,
        noRatio: true,
      },
      {
        key: 'refused',
        label: 'answers other than 200',
        unit: '',
        better: 'lower',
        digits: 0,
        noRatio: true,
      },
      OTHER_LOAD_METRIC,
    ],
    contenders: THROUGHPUT_CONTENDERS.map(({ id, label, short, role }) => ({
      id,
      label,
      short,
      role,
    })),
    baseline: 'memory-1',
    targets: [],
  });

  const load = await startClient('ingest-load');
  try {
    const poolSize = Math.ceil(((options.ingestMs + options.ingestWarmupMs) / 1000) * POOL_RATE);
    for (let run = 0; run < options.runs; run++) {
      for (const contender of rotate(THROUGHPUT_CONTENDERS, run)) {
        await redis.command('FLUSHALL');
        // Redis forgot every id: replay the pool from its start (re-signed when old).
        const signed = await load.request<{ size: number; ms: number }>('prepare', {
          size: poolSize,
          rooms: ROOMS,
          rewind: true,
        });
        if (signed.ms > 0)
          log(`  signed ${signed.size} webhooks in ${(signed.ms / 1000).toFixed(1)} s`);
        const nodes = await startNodes(
          contender.nodes,
          contender.redis ? redis : undefined,
          options,
          `redis-throughput-${contender.id}`,
        );
        try {
          const phase = {
            ports: nodes.map((node) => node.info.port),
            concurrency: options.concurrency,
          };
          await load.request('run', { ...phase, durationMs: options.ingestWarmupMs });
          await quietMachine(options, log);
          await redis.command('CONFIG', 'RESETSTAT');
          const busy = readBusy();
          const window = await measured(nodes, redis, () =>
            load.request<IngestPhaseResult>('run', { ...phase, durationMs: options.ingestMs }),
          );
          const phaseResult = window.outcome;
          const calls = await redis.commandCalls();
          const nodesCpuUs = sum(window.nodeCpuUs);
          const wallS = phaseResult.wallMs / 1000;
          const accepted = phaseResult.statuses['200'] ?? 0;
          const refused = phaseResult.completed - accepted;
          const scripts = (calls.evalsha ?? 0) + (calls.eval ?? 0);
          const commands = sum(
            Object.entries(calls)
              .filter(([name]) => !RUNNER_COMMANDS.has(name))
              .map(([, count]) => count),
          );
          const suiteCpuUs = nodesCpuUs + window.redisCpuUs + phaseResult.clientCpuUs;
          const otherLoad = otherLoadPercent(busy, suiteCpuUs);
          const rps = accepted / wallS;
          const cpuUs = nodesCpuUs / phaseResult.completed;
          // Each node's CPU ÷ the webhooks that node answered.
          const perNodeUs = window.nodeCpuUs.map(
            (cpu, index) => cpu / Math.max(1, phaseResult.completedByPort[index] ?? 0),
          );
          const clientCpu = phaseResult.clientCpuUs / 1000 / phaseResult.wallMs;
          const suitePercent = suiteCpuUs / 10 / phaseResult.wallMs;
          addValue(result, contender.id, 'rps', rps);
          addValue(result, contender.id, 'cpuUs', cpuUs);
          for (let index = 0; index < MAX_NODES; index++) {
            addValue(result, contender.id, `node${index + 1}CpuUs`, perNodeUs[index] ?? Number.NaN);
          }
          const redisMetric = (value: number) => (contender.redis ? value : Number.NaN);
          addValue(result, contender.id, 'redisCpuUs', redisMetric(window.redisCpuUs / accepted));
          addValue(result, contender.id, 'scripts', redisMetric(scripts / accepted));
          addValue(result, contender.id, 'commands', redisMetric(commands / accepted));
          addValue(result, contender.id, 'clientCpu', clientCpu * 100);
          addValue(result, contender.id, 'suiteCpu', suitePercent);
          addValue(result, contender.id, 'refused', refused);
          addValue(result, contender.id, 'otherLoad', otherLoad);
          log(
            `  run ${run + 1} ${contender.id.padEnd(8)} ${rps.toFixed(0).padStart(6)} webhooks/s  ` +
              `${cpuUs.toFixed(1).padStart(6)} µs CPU/webhook (per node ` +
              `${perNodeUs.map((us) => us.toFixed(0)).join(' / ')})  ` +
              (contender.redis
                ? `Redis ${(window.redisCpuUs / accepted).toFixed(1)} µs, ` +
                  `${(scripts / accepted).toFixed(2)} scripts, ` +
                  `${(commands / accepted).toFixed(2)} commands per webhook  `
                : '') +
              `all ${suitePercent.toFixed(0)}% CPU  ` +
              `other processes ${otherLoad.toFixed(0)}%  statuses ${JSON.stringify(phaseResult.statuses)}`,
          );
          if (refused > 0) {
            result.notes.push(
              `run ${run + 1} ${contender.id}: ${refused} answers other than 200 ` +
                `(${JSON.stringify(phaseResult.statuses)})`,
            );
          }
          if (phaseResult.connectionErrors > 0) {
            result.notes.push(
              `run ${run + 1} ${contender.id}: ${phaseResult.connectionErrors} connection errors`,
            );
          }
          if (phaseResult.poolWrapped > 0) {
            result.notes.push(
              `run ${run + 1} ${contender.id}: the signed pool ran out (ids repeated, answered ` +
                `as duplicates); raise POOL_RATE in bench/scenarios/redis.ts`,
            );
          }
          if (clientCpu > CLIENT_BOUND) {
            result.notes.push(
              `run ${run + 1} ${contender.id}: the load generator used ` +
                `${(clientCpu * 100).toFixed(0)}% of a core; this throughput may be its limit`,
            );
          }
        } finally {
          await stopAll(nodes);
        }
      }
    }
  } finally {
    await load.stop();
  }
  if (cores < MAX_NODES + 2) {
    result.notes.push(
      `${cores} cores for up to ${MAX_NODES} roomcast nodes + Redis + the load generator: the ` +
        `machine is oversubscribed in the multi-node rows ("CPU of all these processes" near ` +
        `${cores * 100}% means every core was busy), so they measure how the same work divides ` +
        `over more processes on the same cores, not the capacity of more machines`,
    );
  }
  noteOtherLoad(result);
  return result;
}
