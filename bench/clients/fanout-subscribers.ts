/**
 * Child process: N subscribers of one room (or spread evenly over many rooms) on one transport,
 * plus the trigger that makes the server emit events. Commands from the runner:
 * - `connect`: open and subscribe N connections (a bounded number in flight, like a crowd
 *   arriving, not a SYN flood), or only the first `upTo` of them, `connect-rest` the others;
 * - `events`: emit events one at a time (or `burst` at once); after each, wait until every
 *   subscriber due has it (or a timeout), then a gap, so events never queue behind each other and
 *   latency is one event's (one burst's). Event i goes to room i mod rooms;
 * - `close`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serveRequests } from '../lib/ipc.ts';
import { DeliveryTracker } from '../lib/delivery-tracker.ts';
import type { DeliveryReport } from '../lib/delivery-tracker.ts';
import { benchRoomName } from '../lib/fanout-events.ts';
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
  /** Spread the subscribers evenly over this many rooms (`benchRoomName(i)`), not `room`. */
  rooms?: number;
  /** Connect only the first `upTo` subscribers now; `connect-rest` connects the others. */
  upTo?: number;
}

/** Arguments of `events`. */
export interface EventsArgs {
  from: number;
  count: number;
  gapMs: number;
  /** Longest wait for one event to reach everyone. */
  timeoutMs: number;
  /** Events emitted at once (default 1). */
  burst?: number;
  /**
   * The measured batch these events are a part of, when it is emitted over several calls (with
   * other work between them): its first call starts it, each call reports all of it so far.
   * Default: these events alone.
   */
  batch?: { from: number; count: number };
}

let subscribers: Subscriber[] = [];
let tracker: DeliveryTracker | undefined;
let trigger: Trigger | undefined;
/** The room of subscriber (or event) `index`. */
let roomOf: (index: number) => string = () => '';

/** Connects the subscribers a `connect` with `upTo` left out. */
let connectRest = async () => 0;

async function connectAll(args: ConnectArgs) {
  const { subscribers: n, totalEvents, parallel = 128, rooms } = args;
  if (rooms !== undefined && n % rooms !== 0) throw new Error('subscribers must fill every room');
  const current = new DeliveryTracker(n, totalEvents, rooms ? n / rooms : n);
  tracker = current;
  trigger = createTrigger(args.trigger, args.triggerPort ?? args.port);
  roomOf = rooms ? (index) => benchRoomName(index % rooms) : () => args.room;
  subscribers = new Array<Subscriber>(n);
  let next = 0;
  const connectUpTo = async (end: number) => {
    const started = performance.now();
    const worker = async () => {
      while (next < end) {
        const index = next++;
        subscribers[index] = await subscribe(
          { ...args, room: roomOf(index) },
          {
            onEvent: (event, sentAt) => current.record(index, event, sentAt),
            onClose: () => current.disconnected(),
          },
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, end - next) }, worker));
    return performance.now() - started;
  };
  connectRest = () => connectUpTo(n);
  return { connectMs: await connectUpTo(Math.min(args.upTo ?? n, n)) };
}

/** Consecutive events that did not reach everyone before the batch is given up. */
const GIVE_UP_AFTER = 3;

/** Waits that expired in the current measured batch. */
let timeouts = 0;

/**
 * How long each event of the last `events` call took, ms: its post, the wait until everyone
 * due had it, and the gap. A `triggers` call with `paced` spaces its posts the same way.
 */
let lastPaceMs: number[] = [];

async function emitEvents(args: EventsArgs): Promise<DeliveryReport> {
  const { from, count, gapMs, timeoutMs, burst = 1 } = args;
  const batch = args.batch ?? { from, count };
  const [current, emit] = [tracker, trigger];
  if (!current || !emit) throw new Error('connect first');
  if (from === batch.from) {
    current.beginBatch(batch.from, batch.count);
    timeouts = 0;
  }
  let consecutive = 0;
  lastPaceMs = [];
  for (let first = from; first < from + count && consecutive < GIVE_UP_AFTER; first += burst) {
    const started = performance.now();
    const indexes = Array.from(
      { length: Math.min(burst, from + count - first) },
      (_, i) => first + i,
    );
    await Promise.all(indexes.map((index) => emit(index, roomOf(index))));
    for (const index of indexes) {
      if (await current.waitFor(index, timeoutMs)) consecutive = 0;
      // A server that stopped delivering would otherwise hold the run for count × timeout;
      // the events not sent are reported as lost.
      else if ((timeouts++, ++consecutive >= GIVE_UP_AFTER)) break;
    }
    await sleep(gapMs);
    lastPaceMs.push(performance.now() - started);
  }
  return current.report(batch.from, from + count - batch.from, timeouts);
}

/** Arguments of `triggers`. */
export interface TriggersArgs {
  from: number;
  count: number;
  rooms: number;
  /**
   * Space the posts like the events of the last `events` call (post i starts when event i
   * did, counted from the first), so the window lasts as long as theirs and holds as much of
   * the server's idle upkeep (pings, timers). Posts past the events that call emitted (it
   * gave up on a server that stopped delivering) go unpaced.
   */
  paced?: boolean;
}

/** Posts `count` events to rooms nobody subscribes to, one at a time: the trigger alone. */
async function triggersOnly({ from, count, rooms, paced = false }: TriggersArgs) {
  if (!trigger) throw new Error('connect first');
  let due = performance.now();
  for (let i = 0; i < count; i++) {
    const index = from + i;
    await trigger(index, `bench-empty-room-${index % rooms}`);
    if (!paced) continue;
    // An absolute schedule: a timer's lateness on one post does not push back the rest.
    due += lastPaceMs[i] ?? 0;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

serveRequests({
  connect: connectAll,
  triggers: triggersOnly,
  'connect-rest': async () => ({ connectMs: await connectRest() }),
  events: emitEvents,
  close: () => {
    for (const subscriber of subscribers) subscriber?.close();
    subscribers = [];
    closeTriggers();
  },
});
