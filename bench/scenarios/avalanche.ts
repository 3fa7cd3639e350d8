/**
 * Scenario "avalanche" (a deploy under load, after AnyCable's "deploy avalanche"): subscribers
 * behind a load balancer (the fault proxy of each client process, round robin, retrying a
 * refused node on the next), events flowing, then one node is replaced as a rolling deploy
 * does it: its replacement starts and joins the rotation, the node leaves it and gets SIGTERM,
 * drains, closes its WebSocket subscribers with 1012 and exits. Two results:
 * - two roomcast nodes on one redis-server: every subscriber of the restarted node must be back
 *   on the other within 5 s, resumed with `recovered: true`, no event lost or repeated;
 * - one node and its replacement, side by side: roomcast on the memory engine (nothing survives
 *   the process, so every subscriber must get an honest not-recovered snapshot) and Socket.IO 4
 *   (in-memory adapter; its connection-state recovery lives in the process too).
 * Socket.IO on two nodes would need its Redis adapter, which this repo does not install.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { selected } from '../lib/bench-options.ts';
import type { BenchOptions } from '../lib/bench-options.ts';
import { benchToken } from '../lib/bench-secrets.ts';
import type { BenchChild } from '../lib/ipc.ts';
import { startEventFlow } from '../lib/event-flow.ts';
import { benchRoomName } from '../lib/fanout-events.ts';
import { SERVER_SPARE_FILES, rotate, startServer, stopServer } from '../lib/processes.ts';
import { startBenchRedis } from '../lib/redis-server.ts';
import { addValue, newResult } from '../lib/results.ts';
import type { Metric, ScenarioResult } from '../lib/results.ts';
import { percentileOfSorted } from '../lib/stats.ts';
import { settled, startCrowd } from '../lib/subscriber-crowd.ts';
import type { ClientCpu } from '../lib/subscriber-crowd.ts';
import type { CpuWindow } from '../servers/server-process.ts';
import { describePhases } from '../lib/sequence-check.ts';
import type { ServerInfo } from '../servers/server-process.ts';
import type { ServerParams } from '../servers/server-kinds.ts';
import { DELIVERY_METRICS, DOWNTIME_METRICS, addDelivery, waitUntil } from './jitter.ts';
import type { ResilienceContender } from './jitter.ts';
import { quietMachine } from './quiet-machine.ts';

/** How long after the restart a subscriber counts as back in time. */
const BACK_WITHIN_MS = 5000;

const METRICS: Metric[] = [
  {
    key: 'dropped',
    label: 'subscribers dropped by the restart',
    unit: '',
    better: 'lower',
    digits: 0,
    noRatio: true,
  },
  {
    key: 'backIn5s',
    label: 'dropped ones back within 5 s',
    unit: '%',
    better: 'higher',
    digits: 1,
  },
  { key: 'neverBack', label: 'never back (30 s)', unit: '%', better: 'lower', digits: 1 },
  ...DOWNTIME_METRICS,
  {
    key: 'recovered',
    label: 'reconnects resumed with recovered: true',
    unit: '%',
    better: 'higher',
    digits: 1,
  },
  {
    key: 'snapshots',
    label: 'reconnects given a not-recovered snapshot',
    unit: '%',
    better: 'higher',
    digits: 1,
  },
  ...DELIVERY_METRICS,
];

const ROOMCAST: Omit<ResilienceContender, 'id' | 'label' | 'short' | 'role'> = {
  server: 'roomcast',
  client: 'roomcast',
  trigger: 'webhook',
};

interface Setup {
  contender: ResilienceContender;
  /** Nodes behind the balancer (the first one is restarted). */
  nodes: number;
  params: ServerParams;
}

async function measure(
  result: ScenarioResult,
  { contender, nodes, params }: Setup,
  options: BenchOptions,
  firstIndex: number,
  log: (line: string) => void,
) {
  const { subscribers, rooms, rate, beforeMs, afterMs, perProcess } = options.avalanche;
  const roomNames = Array.from({ length: rooms }, (_, i) => benchRoomName(i));
  const start = () => startServer(contender.server, options, contender.id, params);
  const servers: BenchChild<ServerInfo>[] = await Promise.all(Array.from({ length: nodes }, start));
  let live = servers.map((server) => server.info.port);
  try {
    const crowd = await startCrowd({
      kind: contender.client,
      ports: live,
      proxy: true,
      token: benchToken(),
      rooms: roomNames,
      count: subscribers,
      perProcess,
      parallel: 50,
      timeoutMs: 900_000,
    });
    try {
      const flow = startEventFlow({
        trigger: contender.trigger,
        ports: () => live,
        rooms: roomNames,
        rate,
        firstIndex,
      });
      await sleep(beforeMs);
      // A rolling deploy (maxSurge): the replacement (a new process on a new port, as a new
      // pod) starts and joins the rotation first, then the old node leaves it and gets SIGTERM.
      const replacement = await start();
      const [restarted] = servers.splice(0, 1, replacement);
      live = [...live.slice(1), replacement.info.port];
      await crowd.setTargets(live);
      // Where the CPU goes while the dropped subscribers come back (--cpu-prof: a profile of
      // each surviving node over this window).
      await Promise.all([
        ...servers.map((server) => server.request('cpu-start')),
        crowd.cpuStart(),
      ]);
      const sigterm = Date.now();
      process.kill(restarted!.pid!, 'SIGTERM');
      await restarted!.exited;
      log(`    node exited ${Date.now() - sigterm} ms after SIGTERM; ${await crowd.down()} down`);
      const allBack = async () => (await crowd.down()) === 0;
      const backSoon = await waitUntil(allBack, afterMs);
      const backAfter = Date.now() - sigterm;
      const [clientCpu, ...serverCpu] = await Promise.all([
        crowd.cpuStop(),
        ...servers.map((server) => server.request<CpuWindow>('cpu-stop')),
      ]);
      log(
        `    ${backSoon ? 'everyone back' : 'not everyone back'} ${backAfter} ms after SIGTERM; CPU meanwhile: nodes ${serverCpu
          .map((cpu) => `${(cpu.cpuUs / 1000).toFixed(0)} ms`)
          .join(', ')}; client processes ${(clientCpu as ClientCpu[])
          .map(
            (cpu) =>
              `${(cpu.cpuUs / 1000).toFixed(0)} ms (loop delay p99 ${cpu.loopP99Ms.toFixed(0)}, max ${cpu.loopMaxMs.toFixed(0)} ms)`,
          )
          .join(', ')}`,
      );
      await sleep(Math.max(0, afterMs - backAfter));
      await flow.stop();
      const back = backSoon || (await waitUntil(allBack, 30_000));
      const stillDown = back ? 0 : await crowd.down();
      await settled(crowd); // the last deliveries
      const report = await crowd.report(flow.published);
      const dropped = report.droppedSubscribers;
      const pct = (part: number) => (dropped === 0 ? Number.NaN : (100 * part) / dropped);
      const perReconnect = (part: number) =>
        report.reconnects === 0 ? Number.NaN : (100 * part) / report.reconnects;
      const backs = [...report.backMs].sort((a, b) => a - b);
      addValue(result, contender.id, 'dropped', dropped);
      addValue(
        result,
        contender.id,
        'backIn5s',
        pct(backs.filter((ms) => ms <= BACK_WITHIN_MS).length),
      );
      addValue(result, contender.id, 'neverBack', pct(stillDown));
      addValue(result, contender.id, 'backP50', percentileOfSorted(backs, 50));
      addValue(result, contender.id, 'backP99', percentileOfSorted(backs, 99));
      addValue(result, contender.id, 'recovered', perReconnect(report.recovered));
      addValue(result, contender.id, 'snapshots', perReconnect(report.resyncs));
      addDelivery(result, contender.id, report);
      log(
        `  ${contender.short}: ${dropped} dropped, ${backs.filter((ms) => ms <= BACK_WITHIN_MS).length} back within 5 s, ` +
          `${stillDown} never back, downtime p99 ${percentileOfSorted(backs, 99).toFixed(0)} ms, ` +
          `${report.recovered} recovered, ${report.resyncs} resyncs; ${report.exactlyOnceInOrder} of ` +
          `${report.expected} exactly once in order, ${report.duplicates} duplicates; flow retries ${flow.retries}`,
      );
      const { phases } = report;
      if (phases.attempts.length > 0) log(`    reconnect phases: ${describePhases(phases)}`);
      log(`    drops by code: ${JSON.stringify(report.dropCodes)}`);
      if (report.subscribersWithLoss > 0) {
        log(
          `    missing: ${report.missingInHoles} events before a subscriber's last received one, ` +
            `${report.missingAtTail} after it; ${report.lossWhileDown} of ${report.subscribersWithLoss} ` +
            `subscribers with loss still down when counted`,
        );
      }
    } finally {
      await crowd.stop();
    }
  } finally {
    for (const server of servers) {
      await stopServer(server);
    }
  }
}

function describe(options: BenchOptions, nodes: string): string {
  const { subscribers, rooms, rate, beforeMs, afterMs, perProcess } = options.avalanche;
  return (
    `${subscribers} subscribers over ${rooms} rooms (@roomcast/client on Node's ws; Socket.IO: ` +
    `socket.io-client, default reconnection), in ${Math.ceil(subscribers / perProcess)} processes, ` +
    `each subscriber with its own loopback source address, behind its process's load balancer ` +
    `(a TCP proxy: round robin, a refused node retried on the next). ${nodes} ${rate} events a ` +
    `second flow into the rooms (signed webhooks / POST /publish, retried on the next node when ` +
    `refused); after ${beforeMs / 1000} s a rolling deploy replaces the first node: a new ` +
    `process starts and joins the rotation, then the old one leaves it and gets SIGTERM (drain, ` +
    `1012 to its WebSocket subscribers, exit); ${afterMs / 1000} s later the flow stops and every ` +
    `subscriber must be live again within 30 s. Downtime = from a subscriber seeing its link ` +
    `drop to its room being live again. Deliveries are checked against each server's ` +
    `acknowledged order as in the jitter scenario.`
  );
}

/** Runs both avalanche setups; returns their two results. */
export async function runAvalanche(
  options: BenchOptions,
  log: (line: string) => void,
  fileLimit: number,
) {
  const { subscribers } = options.avalanche;
  const count = subscribers.toLocaleString('en-US');
  // One node holds every subscriber (and its replacement takes them all): capped to the open
  // files one process may hold, as the idle scenario is.
  const oneNodeCount = Math.min(subscribers, fileLimit - SERVER_SPARE_FILES);
  const oneNode: BenchOptions = {
    ...options,
    avalanche: { ...options.avalanche, subscribers: oneNodeCount },
  };
  const targets = {
    back: {
      label: '100 % back within 5 s',
      metric: 'backIn5s',
      against: 'absolute',
      comparison: '>=',
      limit: 100,
      unit: '%',
    },
    exact: {
      label: 'no event lost or repeated',
      metric: 'exactlyOnce',
      against: 'absolute',
      comparison: '>=',
      limit: 100,
      unit: '%',
    },
  } as const;
  const cluster = newResult({
    id: 'avalanche-redis',
    chartKey: 'avalanche',
    title: `Deploy avalanche: ${count} subscribers, two nodes on Redis, one restarted`,
    method: describe(
      options,
      "Two roomcast nodes share one redis-server (the bench's own, no persistence).",
    ),
    params: {
      subscribers,
      nodes: 2,
      'events per second': options.avalanche.rate,
      runs: options.scaleRuns,
    },
    metrics: METRICS,
    contenders: [
      {
        ...ROOMCAST,
        id: 'roomcast',
        label: 'roomcast, Redis engine, 2 nodes',
        short: 'roomcast Redis',
        role: 'subject',
      },
    ],
    targets: [
      targets.back,
      {
        label: '100 % resumed with recovered: true',
        metric: 'recovered',
        against: 'absolute',
        comparison: '>=',
        limit: 100,
        unit: '%',
      },
      targets.exact,
    ],
  });
  const single: ResilienceContender[] = selected(options, [
    {
      ...ROOMCAST,
      id: 'roomcast',
      label: 'roomcast, memory engine',
      short: 'roomcast memory',
      role: 'subject',
    },
    {
      id: 'socketio-csr',
      label: 'Socket.IO 4, connection-state recovery',
      short: 'Socket.IO CSR',
      role: 'peer',
      server: 'socketio-csr',
      client: 'socketio',
      trigger: 'publish',
    },
  ]);
  const memory = newResult({
    id: 'avalanche-memory',
    chartKey: 'avalanche',
    title: `Deploy avalanche: ${oneNodeCount.toLocaleString('en-US')} subscribers, one node restarted (memory engine)`,
    method: describe(
      oneNode,
      'One node (roomcast on the memory engine, or Socket.IO) and its replacement.',
    ),
    params: {
      subscribers: oneNodeCount,
      nodes: 1,
      'events per second': options.avalanche.rate,
      runs: options.scaleRuns,
    },
    metrics: METRICS,
    contenders: single,
    targets: [
      targets.back,
      {
        label: 'every one an honest not-recovered snapshot',
        metric: 'snapshots',
        against: 'absolute',
        comparison: '>=',
        limit: 100,
        unit: '%',
      },
    ],
  });

  let firstIndex = 0;
  for (let run = 0; run < options.scaleRuns; run++) {
    await quietMachine(options, log);
    const redis = await startBenchRedis();
    try {
      log('  two nodes on Redis:');
      await measure(
        cluster,
        {
          contender: cluster.contenders[0] as ResilienceContender,
          nodes: 2,
          params: { redisUrl: redis.url },
        },
        options,
        firstIndex,
        log,
      );
    } finally {
      await redis.stop();
    }
    firstIndex += 10_000_000;
    for (const contender of rotate(single, run)) {
      await quietMachine(options, log);
      log('  one node:');
      await measure(memory, { contender, nodes: 1, params: {} }, oneNode, firstIndex, log);
      firstIndex += 10_000_000;
    }
  }
  if (oneNodeCount < subscribers)
    memory.notes.push(
      `${count} asked, ${oneNodeCount.toLocaleString('en-US')} measured on one node: one process may hold ` +
        `${fileLimit} open files here (ulimit -Hn), and the one node holds every subscriber.`,
    );
  memory.notes.push(
    'Socket.IO on two nodes needs @socket.io/redis-adapter, not installed here: it is compared on one node only.',
  );
  return [cluster, memory];
}
