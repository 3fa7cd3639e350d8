/**
 * A scenario's subscribers spread over several realtime-subscribers.ts processes (each holds at
 * most `perProcess`, so none needs more open files than the limit), driven as one: connect them
 * all, cut links, retarget the proxies, and add up what they saw.
 */
import { setPriority } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startClient } from './processes.ts';
import type { BenchChild } from './ipc.ts';
import { addCounts, emptyReport } from './sequence-check.ts';
import type { Published, SequenceReport } from './sequence-check.ts';
import type { RealtimeConnectArgs } from '../clients/realtime-subscribers.ts';

/**
 * Niceness of the subscriber processes. They stand for thousands of browsers on machines of
 * their own, but here they share the server's cores and need several times its CPU: at equal
 * priority the scheduler gave the server a fifth of the machine, its accept queue stayed full
 * (4,096 of 4,096) and every dropped SYN cost a client a 1 s, 3 s, 7 s… retransmit. At 10 the
 * server under test gets the CPU it asks for and the subscribers the rest; the same for every
 * contender.
 */
export const CROWD_NICENESS = 10;

/** Options of a crowd: `connect`'s arguments for all of it, and how to split it. */
export interface CrowdOptions extends Omit<RealtimeConnectArgs, 'first'> {
  /** Subscribers per process. */
  perProcess: number;
  /** Global number of the first subscriber (source addresses). Default 0. */
  first?: number;
}

/** One client process's CPU window. */
export interface ClientCpu {
  cpuUs: number;
  loopP99Ms: number;
  loopMaxMs: number;
}

/** The subscribers of a scenario. */
export interface Crowd {
  readonly processes: number;
  /** Per-process milliseconds until every subscriber was live (the slowest). */
  readonly connectMs: number;
  cuts(everyMs: number, outageMs: number): Promise<void>;
  stopCuts(): Promise<void>;
  setTargets(ports: readonly number[]): Promise<void>;
  /** Subscribers down right now (dropped, room not live again). */
  down(): Promise<number>;
  /** Events received so far, every subscriber together. */
  received(): Promise<number>;
  report(published: Published): Promise<SequenceReport>;
  latency(sentAt: Record<number, number>): Promise<number[]>;
  /** Starts a CPU window in every process. */
  cpuStart(): Promise<void>;
  /** Ends it: each process's CPU (µs) and event-loop delay (p99, max, ms). */
  cpuStop(): Promise<ClientCpu[]>;
  stop(): Promise<void>;
}

/**
 * Waits until the crowd has read what was sent: its received count has not moved for `quietMs`
 * (or `timeoutMs` passed). The subscriber processes run at a lower priority than the servers
 * and may be seconds behind their sockets when the flow stops; counting before they caught up
 * would report events as lost that are only unread.
 */
export async function settled(crowd: Crowd, quietMs = 2000, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = await crowd.received();
  let since = Date.now();
  while (Date.now() < until && Date.now() - since < quietMs) {
    await sleep(250);
    const now = await crowd.received();
    if (now !== last) [last, since] = [now, Date.now()];
  }
}

/** Starts the processes and connects every subscriber; resolves once all are live. */
export async function startCrowd(options: CrowdOptions): Promise<Crowd> {
  const { perProcess, count, first: offset = 0, ...connect } = options;
  const shares: number[] = [];
  for (let left = count; left > 0; left -= perProcess) shares.push(Math.min(perProcess, left));
  const children: BenchChild<unknown>[] = await Promise.all(
    shares.map(() => startClient('realtime-subscribers')),
  );
  for (const child of children) if (child.pid !== undefined) setPriority(child.pid, CROWD_NICENESS);
  const all = <T>(cmd: string, args?: unknown) =>
    Promise.all(children.map((child) => child.request<T>(cmd, args)));
  const stop = () => Promise.all(children.map((child) => child.stop())).then(() => {});
  let connectMs = 0;
  try {
    let first = offset;
    const answers = await Promise.all(
      children.map((child, i) => {
        const args: RealtimeConnectArgs = { ...connect, count: shares[i]!, first };
        first += shares[i]!;
        return child.request<{ connectMs: number }>('connect', args);
      }),
    );
    connectMs = Math.max(...answers.map((answer) => answer.connectMs));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    processes: children.length,
    connectMs,
    cuts: (everyMs, outageMs) => all('cuts', { everyMs, outageMs }).then(() => {}),
    stopCuts: () => all('stop-cuts').then(() => {}),
    setTargets: (ports) => all('targets', { ports }).then(() => {}),
    down: () => all<number>('down').then((counts) => counts.reduce((a, b) => a + b, 0)),
    received: () => all<number>('received').then((counts) => counts.reduce((a, b) => a + b, 0)),
    report: (published) =>
      all<SequenceReport>('report', { published }).then((reports) =>
        reports.reduce(addCounts, emptyReport()),
      ),
    latency: (sentAt) => all<number[]>('latency', { sentAt }).then((lists) => lists.flat()),
    cpuStart: () => all('cpu-start').then(() => {}),
    cpuStop: () => all<ClientCpu>('cpu-stop'),
    async stop() {
      await all('close').catch(() => {});
      await stop();
    },
  };
}
