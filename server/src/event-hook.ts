/**
 * The server-side event hook (`app.roomcast.on('event', …)`): every entry this node appends,
 * handed to the host app's handlers in order, one at a time, after the append and outside the
 * fan-out path — a slow or failing handler never slows delivery to subscribers.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Engine, LogEntry } from './engine/engine.ts';

/** What a handler receives. */
export interface RoomcastEvent {
  roomId: string;
  epoch: string;
  seq: number;
  /** Webhook id. */
  id: string;
  event: LogEntry['event'];
  payload: LogEntry['payload'];
  receivedAt: number;
}

/** A host app's handler; may be async (the next event waits for it). */
export type RoomcastEventHandler = (event: RoomcastEvent) => void | Promise<void>;

/** Entries waiting for slow handlers before new ones are dropped (and counted, and logged). */
const MAX_QUEUED = 10_000;

/** The hook's registry. */
export interface EventHook {
  on(handler: RoomcastEventHandler): () => void;
  /** Entries dropped because handlers fell more than MAX_QUEUED behind. */
  readonly dropped: number;
  close(): void;
}

/** Watches the engine and feeds the handlers. */
export function createEventHook(engine: Engine, log: FastifyBaseLogger): EventHook {
  const handlers = new Set<RoomcastEventHandler>();
  const queue: RoomcastEvent[] = [];
  let draining = false;
  let dropped = 0;

  async function drain() {
    draining = true;
    while (queue.length > 0) {
      const event = queue.shift()!;
      for (const handler of handlers) {
        try {
          await handler(event);
        } catch (error) {
          log.error(
            { err: error, roomId: event.roomId, seq: event.seq },
            'roomcast event handler failed',
          );
        }
      }
    }
    draining = false;
  }

  const stop = engine.watch((entry) => {
    if (handlers.size === 0) return;
    if (queue.length >= MAX_QUEUED) {
      if (dropped++ === 0) log.warn('roomcast event handlers are too slow; events dropped');
      return;
    }
    const { roomId, epoch, seq, id, event, payload, receivedAt } = entry;
    queue.push({ roomId, epoch, seq, id, event, payload, receivedAt });
    // setImmediate: handlers start only after this append's fan-out has run.
    if (!draining) setImmediate(() => void drain());
    draining = true;
  });

  return {
    on(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    get dropped() {
      return dropped;
    },
    close() {
      stop();
      handlers.clear();
      queue.length = 0;
    },
  };
}
