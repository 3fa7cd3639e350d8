/**
 * A steady flow of events into a server while its subscribers suffer: `rate` events a second,
 * room after room, each room's events one after another (the next waits for the previous
 * answer, so acknowledged order is the order every subscriber must see). roomcast gets signed
 * webhooks on its real route, the comparison servers POST /publish (event-triggers.ts). A refused
 * or failed post is retried on the next port, as Huddle01 retries (the same webhook id: roomcast
 * recognises a duplicate), so a node going away costs time, not events.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { nowMs } from './delivery-tracker.ts';
import type { Published } from './sequence-check.ts';
import { closeTriggers, createTrigger } from '../clients/event-triggers.ts';
import type { Trigger } from '../clients/event-triggers.ts';

/** Options of an event flow. */
export interface EventFlowOptions {
  trigger: 'webhook' | 'publish';
  /** Ports to post to, read at every post (a restarted node changes them). */
  ports: () => readonly number[];
  rooms: readonly string[];
  /** Events per second over all rooms. */
  rate: number;
  /** Index of the first event (unique per server and run: webhook ids derive from it). */
  firstIndex: number;
  /** Tries per event before it is given up (and not expected). Default 50, 200 ms apart. */
  tries?: number;
}

/** A running flow. */
export interface EventFlow {
  /** Events acknowledged so far, per room in order, with their send times. */
  readonly published: Published;
  /** Posts that failed and were retried; events given up. */
  readonly retries: number;
  readonly givenUp: number;
  /** Stops emitting and waits for the posts in flight. */
  stop(): Promise<void>;
}

/** Starts emitting at once. */
export function startEventFlow(options: EventFlowOptions): EventFlow {
  const { rooms, rate, tries = 50 } = options;
  const published: Published = {
    rooms: Object.fromEntries(rooms.map((room) => [room, []])),
    sentAt: {},
  };
  const triggers = new Map<number, Trigger>();
  const triggerFor = (port: number) => {
    let trigger = triggers.get(port);
    if (!trigger) triggers.set(port, (trigger = createTrigger(options.trigger, port)));
    return trigger;
  };
  const chains = new Map<string, Promise<void>>();
  let retries = 0;
  let givenUp = 0;
  let index = options.firstIndex;
  let running = true;

  const post = async (event: number, room: string) => {
    for (let attempt = 0; attempt < tries; attempt++) {
      const ports = options.ports();
      const port = ports[(event + attempt) % ports.length]!;
      const sentAt = nowMs();
      try {
        await triggerFor(port)(event, room);
        published.rooms[room]!.push(event);
        published.sentAt[event] = sentAt;
        return;
      } catch {
        retries++;
        await sleep(200);
      }
    }
    givenUp++;
  };

  const loop = (async () => {
    const started = performance.now();
    for (let n = 0; running; n++) {
      const room = rooms[n % rooms.length]!;
      const event = index++;
      chains.set(
        room,
        (chains.get(room) ?? Promise.resolve()).then(() => post(event, room)),
      );
      // Paced against the start, so a slow answer does not slow the flow down.
      const wait = started + ((n + 1) * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
    }
  })();

  return {
    published,
    get retries() {
      return retries;
    },
    get givenUp() {
      return givenUp;
    },
    async stop() {
      running = false;
      await loop;
      await Promise.all(chains.values());
      closeTriggers();
    },
  };
}
