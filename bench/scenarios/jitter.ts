/**
 * Scenario "jitter" (after AnyCable's nodejs-websocket-bench "jitter" test): N app-like
 * subscribers over R rooms, each behind a fault proxy that drops its link at random about every
 * `everyMs` for about `outageMs`, while events flow into every room. Per contender, in this order:
 * 1. the server starts; the subscribers connect (several processes, a loopback source address
 *    each) and wait until their room is live;
 * 2. the flow of events starts, then the cuts; after `flowMs` the cuts stop, then the flow;
 * 3. once every subscriber is live again (bounded wait), each one's events are checked against
 *    what the server acknowledged: exactly once and in order; each reconnect's replay time runs
 *    from the link being up again to being caught up (room live, every event sent before the
 *    reconnect received).
 * Contenders: roomcast with its real client (resume from `<epoch>:<seq>`), Socket.IO 4 with
 * connection-state recovery, Socket.IO 4 without (each with its own client library's defaults).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { selected } from '../lib/bench-options.ts';
import type { BenchOptions } from '../lib/bench-options.ts';
import { benchToken } from '../lib/bench-secrets.ts';
import { startEventFlow } from '../lib/event-flow.ts';
import { benchRoomName } from '../lib/fanout-events.ts';
import { rotate, startServer, stopServer } from '../lib/processes.ts';
import { addValue, newResult } from '../lib/results.ts';
import type { Contender, Metric, ScenarioResult } from '../lib/results.ts';
import { describePhases } from '../lib/sequence-check.ts';
import type { SequenceReport } from '../lib/sequence-check.ts';
import { percentileOfSorted } from '../lib/stats.ts';
import { settled, startCrowd } from '../lib/subscriber-crowd.ts';
import type { RealtimeKind } from '../clients/realtime-clients.ts';
import type { ServerKind } from '../servers/server-kinds.ts';
import { quietMachine } from './quiet-machine.ts';

/** A contender of the resilience scenarios: a server kind and the client library it takes. */
export interface ResilienceContender extends Contender {
  server: ServerKind;
  client: RealtimeKind;
  trigger: 'webhook' | 'publish';
}

/** roomcast with the real client: the subject of every resilience scenario. */
export const ROOMCAST_CONTENDER: ResilienceContender = {
  id: 'roomcast',
  label: 'roomcast + @roomcast/client',
  short: 'roomcast',
  role: 'subject',
  server: 'roomcast',
  client: 'roomcast',
  trigger: 'webhook',
};

const CONTENDERS: ResilienceContender[] = [
  ROOMCAST_CONTENDER,
  {
    id: 'socketio-csr',
    label: 'Socket.IO 4, connection-state recovery',
    short: 'Socket.IO CSR',
    role: 'peer',
    server: 'socketio-csr',
    client: 'socketio',
    trigger: 'publish',
  },
  {
    id: 'socketio',
    label: 'Socket.IO 4, no recovery',
    short: 'Socket.IO',
    role: 'reference',
    server: 'socketio',
    client: 'socketio',
    trigger: 'publish',
  },
];

/** The delivery metrics every resilience scenario reports. */
export const DELIVERY_METRICS: Metric[] = [
  {
    key: 'exactlyOnce',
    label: 'delivered exactly once, in order',
    unit: '%',
    better: 'higher',
    digits: 2,
  },
  { key: 'delivered', label: 'delivered at all', unit: '%', better: 'higher', digits: 2 },
  {
    key: 'duplicates',
    label: 'duplicates',
    unit: 'events',
    better: 'lower',
    digits: 0,
    noRatio: true,
  },
  {
    key: 'outOfOrder',
    label: 'out of order',
    unit: 'events',
    better: 'lower',
    digits: 0,
    noRatio: true,
  },
  {
    key: 'lossySubscribers',
    label: 'subscribers missing events',
    unit: '',
    better: 'lower',
    digits: 0,
    noRatio: true,
  },
];

/** Drop → room live of every reconnect (shared with the avalanche scenario). */
export const DOWNTIME_METRICS: Metric[] = [
  {
    key: 'backP50',
    label: 'downtime p50 (drop → room live)',
    unit: 'ms',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'backP99',
    label: 'downtime p99 (drop → room live)',
    unit: 'ms',
    better: 'lower',
    digits: 0,
  },
];

const METRICS: Metric[] = [
  ...DELIVERY_METRICS,
  {
    key: 'replayP50',
    label: 'replay p50 (reconnect → caught up)',
    unit: 'ms',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'replayP99',
    label: 'replay p99 (reconnect → caught up)',
    unit: 'ms',
    better: 'lower',
    digits: 0,
  },
  ...DOWNTIME_METRICS,
  { key: 'reconnects', label: 'reconnects', unit: '', better: 'higher', digits: 0, noRatio: true },
  {
    key: 'recovered',
    label: 'reconnects resumed by the server',
    unit: '%',
    better: 'higher',
    digits: 1,
  },
];

/** Puts a crowd's delivery figures into the result. */
export function addDelivery(result: ScenarioResult, id: string, report: SequenceReport): void {
  const pct = (part: number) =>
    report.expected === 0 ? Number.NaN : (100 * part) / report.expected;
  addValue(result, id, 'exactlyOnce', pct(report.exactlyOnceInOrder));
  addValue(result, id, 'delivered', pct(report.delivered));
  addValue(result, id, 'duplicates', report.duplicates);
  addValue(result, id, 'outOfOrder', report.outOfOrder);
  addValue(result, id, 'lossySubscribers', report.subscribersWithLoss);
}

/** Polls until `done()` or `timeoutMs`; true when done. */
export async function waitUntil(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await done()) return true;
    await sleep(250);
  }
  return done();
}

/** Runs the jitter scenario. */
export async function runJitter(options: BenchOptions, log: (line: string) => void) {
  const { subscribers, rooms, everyMs, outageMs, flowMs, rate } = options.jitter;
  const roomNames = Array.from({ length: rooms }, (_, i) => benchRoomName(i));
  const result = newResult({
    id: 'jitter',
    title: `Jitter: ${subscribers.toLocaleString('en-US')} subscribers, links cut about every ${everyMs / 1000} s`,
    method:
      `${subscribers} subscribers over ${rooms} rooms, each with its library's own client and ` +
      `reconnect defaults (roomcast: @roomcast/client on Node's ws; Socket.IO: socket.io-client), ` +
      `in ${Math.ceil(subscribers / options.jitter.perProcess)} processes, each subscriber with its own loopback source ` +
      `address behind its process's TCP proxy. For ${flowMs / 1000} s, ${rate} events a second flow ` +
      `into the rooms (roomcast: signed webhooks; Socket.IO: POST /publish; each room's events one ` +
      `after another) while the proxy resets each subscriber's link at a random moment about every ` +
      `${everyMs / 1000} s (½× to 1½×) and refuses its reconnects for ${outageMs / 1000} s. Then the cuts ` +
      `and the flow stop, every subscriber must be live again, and each one's events are checked ` +
      `against the server's acknowledged order: exactly once and in order. Replay = from the link ` +
      `being up again to caught up (room live again and every event sent before the reconnect ` +
      `received), over every reconnect. Send times are taken in the runner, receive times in the ` +
      `subscriber processes (one machine clock, ~1 ms apart).`,
    params: {
      subscribers,
      rooms,
      'cut about every': `${everyMs / 1000} s`,
      outage: `${outageMs / 1000} s`,
      'events per second': rate,
      'flow with cuts': `${flowMs / 1000} s`,
      runs: options.scaleRuns,
    },
    metrics: METRICS,
    contenders: selected(options, CONTENDERS),
    targets: [
      {
        label: '100 % delivered exactly once, in order',
        metric: 'exactlyOnce',
        against: 'absolute',
        comparison: '>=',
        limit: 100,
        unit: '%',
      },
      {
        label: 'replay p99 ≤ 1 s',
        metric: 'replayP99',
        against: 'absolute',
        comparison: '<=',
        limit: 1000,
        unit: 'ms',
      },
    ],
  });

  let firstIndex = 0;
  for (let run = 0; run < options.scaleRuns; run++) {
    for (const contender of rotate(selected(options, CONTENDERS), run)) {
      await quietMachine(options, log);
      const server = await startServer(contender.server, options);
      try {
        const crowd = await startCrowd({
          kind: contender.client,
          ports: [server.info.port],
          proxy: true,
          token: benchToken(),
          rooms: roomNames,
          count: subscribers,
          perProcess: options.jitter.perProcess,
          parallel: 50,
          timeoutMs: 900_000,
        });
        try {
          const flow = startEventFlow({
            trigger: contender.trigger,
            ports: () => [server.info.port],
            rooms: roomNames,
            rate,
            firstIndex,
          });
          firstIndex += 10_000_000;
          await crowd.cuts(everyMs, outageMs);
          for (let waited = 0; waited < flowMs; waited += 10_000) {
            await sleep(Math.min(10_000, flowMs - waited));
            if (flowMs > 10_000)
              log(`    ${(waited + 10_000) / 1000} s: ${await crowd.down()} subscribers down`);
          }
          await crowd.stopCuts();
          await flow.stop();
          const back = await waitUntil(async () => (await crowd.down()) === 0, 30_000);
          if (!back)
            result.notes.push(
              `${contender.short}: ${await crowd.down()} subscribers not live 30 s after the cuts stopped`,
            );
          await settled(crowd); // the last deliveries
          const report = await crowd.report(flow.published);
          addDelivery(result, contender.id, report);
          const replays = [...report.replayMs].sort((a, b) => a - b);
          addValue(result, contender.id, 'replayP50', percentileOfSorted(replays, 50));
          addValue(result, contender.id, 'replayP99', percentileOfSorted(replays, 99));
          const downs = [...report.backMs].sort((a, b) => a - b);
          addValue(result, contender.id, 'backP50', percentileOfSorted(downs, 50));
          addValue(result, contender.id, 'backP99', percentileOfSorted(downs, 99));
          addValue(result, contender.id, 'reconnects', report.reconnects);
          addValue(
            result,
            contender.id,
            'recovered',
            report.reconnects === 0 ? Number.NaN : (100 * report.recovered) / report.reconnects,
          );
          log(
            `  ${contender.short}: ${report.expected} due, ${report.exactlyOnceInOrder} exactly once in order, ` +
              `${report.delivered} delivered, ${report.duplicates} duplicates, ${report.reconnects} reconnects ` +
              `(${report.recovered} recovered, ${report.resyncs} resyncs), replay p99 ` +
              `${percentileOfSorted(replays, 99).toFixed(0)} ms; flow retries ${flow.retries}, given up ${flow.givenUp}`,
          );
          if (report.phases.attempts.length > 0)
            log(`    reconnect phases: ${describePhases(report.phases)}`);
        } finally {
          await crowd.stop();
        }
      } finally {
        await stopServer(server);
      }
    }
  }
  return result;
}
