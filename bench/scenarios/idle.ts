/**
 * Scenario "idle": many idle subscribed WebSocket connections on one server process, and one
 * event to a busy room among them. Per contender:
 * 1. the server starts; the hot room's subscribers connect, then half of the idle ones (rooms of
 *    10), each an app-like client (realtime-clients.ts) with its own loopback source address,
 *    in several processes; memory after forced GC;
 * 2. the other half connects; memory again: the difference ÷ their count is what one more idle
 *    subscribed connection costs (the slope, without the first connections' one-time costs);
 * 3. events go to the hot room one at a time (each after the previous one reached everyone, or
 *    a timeout): receive − send of every delivery.
 * The count is capped by the open files limit of one process (the server holds one file per
 * connection): the report says which count was measured.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { selected } from '../lib/bench-options.ts';
import type { BenchOptions } from '../lib/bench-options.ts';
import { benchToken } from '../lib/bench-secrets.ts';
import { nowMs } from '../lib/delivery-tracker.ts';
import { benchRoomName } from '../lib/fanout-events.ts';
import { SERVER_SPARE_FILES, rotate, startServer, stopServer } from '../lib/processes.ts';
import { addValue, newResult } from '../lib/results.ts';
import type { Metric } from '../lib/results.ts';
import { percentileOfSorted } from '../lib/stats.ts';
import { startCrowd } from '../lib/subscriber-crowd.ts';
import type { Crowd } from '../lib/subscriber-crowd.ts';
import { closeTriggers, createTrigger } from '../clients/event-triggers.ts';
import type { CpuWindow, MemorySample } from '../servers/server-process.ts';
import { ROOMCAST_CONTENDER } from './jitter.ts';
import type { ResilienceContender } from './jitter.ts';
import { quietMachine } from './quiet-machine.ts';

const HOT_ROOM = 'bench-hot-room';
/** Subscribers per idle room. */
const IDLE_ROOM_SIZE = 10;

const CONTENDERS: ResilienceContender[] = [
  ROOMCAST_CONTENDER,
  {
    id: 'socketio',
    label: 'Socket.IO 4 rooms + socket.io-client',
    short: 'Socket.IO',
    role: 'peer',
    server: 'socketio',
    client: 'socketio',
    trigger: 'publish',
  },
];

const METRICS: Metric[] = [
  { key: 'rssKiB', label: 'RSS per connection', unit: 'KiB', better: 'lower', digits: 2 },
  { key: 'heapKiB', label: 'heap per connection', unit: 'KiB', better: 'lower', digits: 2 },
  { key: 'rssMiB', label: 'server RSS, all connected', unit: 'MiB', better: 'lower', digits: 0 },
  { key: 'p50', label: 'hot-room latency p50', unit: 'ms', better: 'lower', digits: 1 },
  { key: 'p99', label: 'hot-room latency p99', unit: 'ms', better: 'lower', digits: 1 },
  { key: 'lost', label: 'lost deliveries', unit: '', better: 'lower', digits: 0, noRatio: true },
];

/** Runs the idle scenario with as many connections as one process may hold. */
export async function runIdle(
  options: BenchOptions,
  log: (line: string) => void,
  fileLimit: number,
) {
  const { hotRoom, events, perProcess, hotProcesses } = options.idle;
  const connections = Math.min(options.idle.connections, fileLimit - SERVER_SPARE_FILES);
  const idle = connections - hotRoom;
  const firstHalf = Math.floor(idle / 2 / IDLE_ROOM_SIZE) * IDLE_ROOM_SIZE;
  const idleRooms = (count: number, from: number) =>
    Array.from({ length: Math.ceil(count / IDLE_ROOM_SIZE) }, (_, i) => benchRoomName(from + i));
  const result = newResult({
    id: 'idle',
    title: `Idle: ${connections.toLocaleString('en-US')} subscribed WebSocket connections on one process`,
    method:
      `${connections} subscribed WebSocket connections on one server process: ${hotRoom} in one ` +
      `room (spread over ${hotProcesses} client processes), the others idle in rooms of ${IDLE_ROOM_SIZE}; app-like clients (@roomcast/client on ` +
      `Node's ws; socket.io-client), up to ${perProcess} per client process, each with its own loopback ` +
      `source address. Memory per connection = (server RSS or heap after forced GC with all ` +
      `connected − the same with the hot room and the first ${firstHalf} idle ones) ÷ the ` +
      `${idle - firstHalf} connected in between. Then ${events} events go to the hot room one at ` +
      `a time (each after the previous one reached all ${hotRoom}, then 100 ms): latency = receive ` +
      `− send over every delivery (send taken in the runner, receive in the client processes, one ` +
      `machine clock). ${connections < options.idle.connections ? `Asked for ${options.idle.connections}: capped to the open files limit of one process (${fileLimit}).` : ''}`,
    params: { connections, 'hot room': hotRoom, events, runs: options.scaleRuns },
    metrics: METRICS,
    contenders: selected(options, CONTENDERS),
    targets: [
      {
        label: '≤ 8 KiB server RSS per connection',
        metric: 'rssKiB',
        against: 'absolute',
        comparison: '<=',
        limit: 8,
        unit: 'KiB',
      },
      {
        label: 'hot-room event p99 ≤ 100 ms',
        metric: 'p99',
        against: 'absolute',
        comparison: '<=',
        limit: 100,
        unit: 'ms',
      },
    ],
  });
  if (connections < options.idle.connections) {
    result.notes.push(
      `${options.idle.connections.toLocaleString('en-US')} asked, ${connections.toLocaleString('en-US')} measured: ` +
        `one process may hold ${fileLimit} open files here (ulimit -Hn). The per-connection figure is the ` +
        `slope over the second half; a machine with a higher hard limit (ulimit -Hn ≥ 110000) judges the full count.`,
    );
  }

  let index = 0;
  for (let run = 0; run < options.scaleRuns; run++) {
    for (const contender of rotate(selected(options, CONTENDERS), run)) {
      await quietMachine(options, log);
      const server = await startServer(contender.server, options);
      const crowds: Crowd[] = [];
      const crowd = async (count: number, rooms: string[], first: number, processes = 1) => {
        const started = await startCrowd({
          kind: contender.client,
          ports: [server.info.port],
          proxy: false,
          token: benchToken(),
          rooms,
          count,
          first,
          perProcess: Math.min(perProcess, Math.ceil(count / processes)),
          parallel: 100,
          timeoutMs: 900_000,
        });
        crowds.push(started);
        return started;
      };
      try {
        const hot = await crowd(hotRoom, [HOT_ROOM], 0, hotProcesses);
        await crowd(firstHalf, idleRooms(firstHalf, 0), hotRoom);
        const before = await server.request<MemorySample>('memory');
        await crowd(idle - firstHalf, idleRooms(idle - firstHalf, firstHalf), hotRoom + firstHalf);
        const after = await server.request<MemorySample>('memory');
        const added = idle - firstHalf;
        addValue(result, contender.id, 'rssKiB', (after.rss - before.rss) / added / 1024);
        addValue(
          result,
          contender.id,
          'heapKiB',
          (after.heapUsed - before.heapUsed) / added / 1024,
        );
        addValue(result, contender.id, 'rssMiB', after.rss / 2 ** 20);

        const trigger = createTrigger(contender.trigger, server.info.port);
        const sentAt: Record<number, number> = {};
        // Whose time the latency is: the server's CPU and the hot room's client process's over
        // the events, and per event the first delivery against the last (the spread is the
        // fan-out loop plus one client process reading 1,000 subscribers' deliveries in turn).
        await Promise.all([server.request('cpu-start'), hot.cpuStart()]);
        for (let n = 0; n < events; n++, index++) {
          sentAt[index] = nowMs();
          await trigger(index, HOT_ROOM);
          const due = (n + 1) * hotRoom;
          await waitFor(async () => (await hot.received()) >= due, 10_000);
          await sleep(100);
        }
        closeTriggers();
        const [serverCpu, clientCpus] = await Promise.all([
          server.request<CpuWindow>('cpu-stop'),
          hot.cpuStop(),
        ]);
        const deliveries = events * hotRoom;
        const firsts: number[] = [];
        const spreads: number[] = [];
        for (const [at, sent] of Object.entries(sentAt)) {
          const one = await hot.latency({ [at]: sent });
          if (one.length === 0) continue;
          firsts.push(Math.min(...one));
          spreads.push(Math.max(...one) - Math.min(...one));
        }
        const median = (values: number[]) =>
          percentileOfSorted(
            [...values].sort((a, b) => a - b),
            50,
          );
        log(
          `    hot room: server CPU ${(serverCpu.cpuUs / deliveries).toFixed(1)} µs per delivery, ` +
            `its ${clientCpus.length} client process(es) ${(clientCpus.reduce((sum, one) => sum + one.cpuUs, 0) / deliveries).toFixed(1)} µs; per event (median): ` +
            `first delivery ${median(firsts).toFixed(1)} ms, first → last ${median(spreads).toFixed(1)} ms`,
        );
        const samples = (await hot.latency(sentAt)).sort((a, b) => a - b);
        addValue(result, contender.id, 'p50', percentileOfSorted(samples, 50));
        addValue(result, contender.id, 'p99', percentileOfSorted(samples, 99));
        addValue(result, contender.id, 'lost', events * hotRoom - samples.length);
        log(
          `  ${contender.short}: ${connections} connected, ${((after.rss - before.rss) / added / 1024).toFixed(2)} KiB RSS ` +
            `each, hot-room p99 ${percentileOfSorted(samples, 99).toFixed(1)} ms, ${events * hotRoom - samples.length} lost`,
        );
      } finally {
        for (const started of crowds) await started.stop();
        await stopServer(server);
      }
    }
  }
  return result;
}

async function waitFor(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await done()) && Date.now() < until) await sleep(20);
}
