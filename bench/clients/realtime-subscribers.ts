/**
 * Child process: a crowd of app-like subscribers (realtime-clients.ts), each with its own
 * loopback source address, optionally behind this process's fault proxy (fault-proxy.ts). Each
 * process holds a share of a scenario's subscribers, so that no process needs more open files
 * than the limit allows (a subscriber behind the proxy costs three: its socket and the proxy's
 * two). Commands from the runner:
 * - `connect`: start the subscribers (a bounded number of handshakes in flight) and wait until
 *   every room is live;
 * - `targets`: the servers new proxied connections go to (a node restarted elsewhere);
 * - `cuts` / `stop-cuts`: drop each subscriber's link at random, about every `everyMs`, for
 *   `outageMs` (the first drop of each at a random moment, so drops are spread evenly);
 * - `report`: check what each subscriber saw against what was published (sequence-check.ts);
 * - `latency`: receive − send of every delivery of the given events, ms;
 * - `cpu-start` / `cpu-stop`: this process's CPU and event-loop delay over a window;
 * - `close`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { serveRequests } from '../lib/ipc.ts';
import { startFaultProxy } from '../lib/fault-proxy.ts';
import type { FaultProxy } from '../lib/fault-proxy.ts';
import { checkSequences } from '../lib/sequence-check.ts';
import type { Published, SequenceReport } from '../lib/sequence-check.ts';
import { startSubscriber } from './realtime-clients.ts';
import type { RealtimeKind, RealtimeSubscriber } from './realtime-clients.ts';

/** Arguments of `connect`. */
export interface RealtimeConnectArgs {
  kind: RealtimeKind;
  /** Server ports; behind the proxy, new connections go round robin over them. */
  ports: number[];
  /** Through this process's fault proxy (needed for `cuts` and for several ports). */
  proxy: boolean;
  token: string;
  /** Subscriber i (of this process) joins `rooms[i mod rooms.length]`. */
  rooms: string[];
  count: number;
  /** Global number of this process's first subscriber (it picks the source addresses). */
  first: number;
  /** Handshakes in flight. Default 100. */
  parallel?: number;
  /** Longest wait for everyone to be live, ms. */
  timeoutMs: number;
}

/** Loopback source address of subscriber `n`: 127.a.b.c, none ending in .0 or .255. */
export function sourceAddress(n: number): string {
  const c = (n % 254) + 1;
  const b = (Math.floor(n / 254) % 254) + 1;
  const a = Math.floor(n / (254 * 254)) + 2;
  return `127.${a}.${b}.${c}`;
}

let subscribers: RealtimeSubscriber[] = [];
/** CPU and event-loop delay of this process over a window the runner picks (`cpu-start`). */
let cpuStart: NodeJS.CpuUsage | undefined;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let proxy: FaultProxy | undefined;
let cutTimers: NodeJS.Timeout[] = [];

async function connectAll(args: RealtimeConnectArgs) {
  const { kind, ports, token, rooms, count, first, parallel = 100, timeoutMs } = args;
  if (args.proxy) proxy = await startFaultProxy(ports);
  const url = `http://127.0.0.1:${proxy ? proxy.port : ports[0]}`;
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const subscriber = startSubscriber(
        kind,
        url,
        token,
        rooms[i % rooms.length]!,
        sourceAddress(first + i),
      );
      subscribers.push(subscriber);
      await subscriber.live;
    }
  };
  const everyone = Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  const timedOut = await Promise.race([everyone.then(() => false), sleep(timeoutMs, true)]);
  if (timedOut)
    throw new Error(`only ${subscribers.length} of ${count} subscribers after ${timeoutMs} ms`);
  return { connectMs: performance.now() - started };
}

function startCuts({ everyMs, outageMs }: { everyMs: number; outageMs: number }) {
  const current = proxy;
  if (!current) throw new Error('cuts need the proxy');
  for (const subscriber of subscribers) {
    // Random phase, then a random interval around everyMs (½× to 1½×).
    const schedule = (delay: number) => {
      const timer = setTimeout(() => {
        current.cut(subscriber.log.address, outageMs);
        schedule(everyMs * (0.5 + Math.random()));
      }, delay);
      cutTimers.push(timer);
    };
    schedule(Math.random() * everyMs);
  }
}

function stopCuts() {
  for (const timer of cutTimers) clearTimeout(timer);
  cutTimers = [];
}

serveRequests({
  connect: connectAll,
  'cpu-start': () => {
    cpuStart = process.cpuUsage();
    loopDelay.reset();
    loopDelay.enable();
  },
  'cpu-stop': () => {
    const { user, system } = process.cpuUsage(cpuStart);
    loopDelay.disable();
    // Event-loop delay: how late this process was to read what reached it (a client-side cap).
    return {
      cpuUs: user + system,
      loopP99Ms: loopDelay.percentile(99) / 1e6,
      loopMaxMs: loopDelay.max / 1e6,
    };
  },
  targets: ({ ports }: { ports: number[] }) => proxy?.setTargets(ports),
  cuts: startCuts,
  'stop-cuts': () => {
    stopCuts();
    return { refused: proxy?.refused ?? 0 };
  },
  report: ({ published }: { published: Published }): SequenceReport =>
    checkSequences(
      subscribers.map((subscriber) => subscriber.log),
      published,
    ),
  /** Subscribers whose room is not live again after their last drop. */
  down: () => subscribers.filter(({ log }) => log.down).length,
  received: () => subscribers.reduce((sum, { log }) => sum + log.indexes.length, 0),
  latency: ({ sentAt }: { sentAt: Record<number, number> }) => {
    const samples: number[] = [];
    for (const { log } of subscribers) {
      log.indexes.forEach((index, at) => {
        const sent = sentAt[index];
        if (sent !== undefined) samples.push(log.receivedAt[at]! - sent);
      });
    }
    return samples;
  },
  close: async () => {
    stopCuts();
    for (const subscriber of subscribers) subscriber.close();
    subscribers = [];
    await proxy?.close();
    proxy = undefined;
  },
});
