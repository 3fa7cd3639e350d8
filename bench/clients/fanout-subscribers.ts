/**
 * Child process: N subscribers of one room on one transport, plus the trigger that makes the
 * server emit events. Commands from the runner:
 * - `connect`: open and subscribe N connections (a bounded number in flight, like a crowd
 *   arriving, not a SYN flood);
 * - `events`: emit events one at a time; after each, wait until every subscriber has it (or a
 *   timeout), then a gap, so events never queue behind each other and latency is one event's;
 * - `close`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serveRequests } from '../lib/ipc.ts';
import { DeliveryTracker } from '../lib/delivery-tracker.ts';
import type { DeliveryReport } from '../lib/delivery-tracker.ts';
import { closeTriggers, createTrigger } from './event-triggers.ts';
import type { Trigger } from './event-triggers.ts';
import { subscribe } from './subscriber-transports.ts';
import type { Subscriber, SubscribeTarget } from './subscriber-transports.ts';

/** Arguments of `connect`. */
export interface ConnectArgs extends SubscribeTarget {
  subscribers: number;
  /** Total events that will be emitted (warm-up + measured). */
  totalEvents: number;
  trigger: 'webhook' | 'publish';
  /**
   * Port the trigger posts to, when not the subscribers' server (another node of the same
   * Redis: cross-node delivery). Default `port`.
   */
  triggerPort?: number;
  /** Connection attempts in flight. */
  parallel?: number;
}

/** Arguments of `events`. */
export interface EventsArgs {
  from: number;
  count: number;
  gapMs: number;
  /** Longest wait for one event to reach everyone. */
  timeoutMs: number;
}

let subscribers: Subscriber[] = [];
let tracker: DeliveryTracker | undefined;
let trigger: Trigger | undefined;

async function connectAll(args: ConnectArgs) {
  const { subscribers: n, totalEvents, parallel = 128 } = args;
  const started = performance.now();
  const current = new DeliveryTracker(n, totalEvents);
  tracker = current;
  trigger = createTrigger(args.trigger, args.triggerPort ?? args.port);
  subscribers = new Array<Subscriber>(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const index = next++;
      subscribers[index] = await subscribe(args, {
        onEvent: (frame) =>
          current.record(index, (frame.seq ?? 0) - 1, frame.payload?.joinedAt ?? NaN),
        onClose: () => current.disconnected(),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return { connectMs: performance.now() - started };
}

/** Consecutive events that did not reach everyone before the batch is given up. */
const GIVE_UP_AFTER = 3;

async function emitEvents({ from, count, gapMs, timeoutMs }: EventsArgs): Promise<DeliveryReport> {
  if (!tracker || !trigger) throw new Error('connect first');
  tracker.beginBatch(from, count);
  let timeouts = 0;
  let consecutive = 0;
  for (let index = from; index < from + count; index++) {
    await trigger(index);
    if (await tracker.waitFor(index, timeoutMs)) consecutive = 0;
    else {
      timeouts++;
      // A server that stopped delivering would otherwise hold the run for count × timeout;
      // the events not sent are reported as lost.
      if (++consecutive >= GIVE_UP_AFTER) break;
    }
    await sleep(gapMs);
  }
  return tracker.report(from, count, timeouts);
}

serveRequests({
  connect: connectAll,
  events: emitEvents,
  close: () => {
    for (const subscriber of subscribers) subscriber?.close();
    subscribers = [];
    closeTriggers();
  },
});
