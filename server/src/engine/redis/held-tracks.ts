/**
 * Track events that arrive before their peer's peer:joined. They wait in a per-peer Redis list
 * (any node may receive the join), are appended right after the join by whichever node appends
 * it, and otherwise become UNROUTABLE dead letters: the node that held one keeps a timer.
 */
import { unroutableLetter } from '../entry-delivery.ts';
import type { AppendInput, DeadLetter } from '../engine.ts';
import type { RedisClient } from './connection.ts';
import type { KeyLayout } from './keys.ts';
import type { Scripts } from './scripts.ts';

/** Options of the held track events. */
export interface HeldTracksOptions {
  redis: RedisClient;
  scripts: Scripts;
  keys: KeyLayout;
  /** How long a track event waits for its peer's peer:joined, ms. */
  trackHold: number;
  /** How long the peer→room index remembers a peer, ms. */
  indexTtl: number;
  /** Appends a released event to its room (no routing, no release). */
  appendTo(roomId: string, input: AppendInput): Promise<unknown>;
  keepDeadLetter(letter: DeadLetter): Promise<unknown>;
  onError(error: unknown): void;
}

/** Routing and holding of track events. */
export interface HeldTracks {
  /** The peer's room, or undefined when the event was held for it (atomically). */
  routeOrHold(peerId: string, input: AppendInput): Promise<string | undefined>;
  /** Indexes the peer in its room, then appends what was held for it, in arrival order. */
  release(peerId: string, roomId: string): Promise<void>;
  close(): void;
}

/** Wait before retrying the timer's work while Redis is away. */
const RETRY_MS = 1000;

/** Creates the held track events. */
export function createHeldTracks(options: HeldTracksOptions): HeldTracks {
  const { redis, scripts, keys, trackHold, indexTtl } = options;
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  // The list outlives the hold, so the timer always finds its item; the TTL only collects the
  // items of a node that died before its timer fired.
  const heldTtl = trackHold * 2 + 60_000;

  function later(ms: number, work: () => Promise<void>): void {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void work();
    }, ms);
    timer.unref();
    timers.add(timer);
  }

  /** Runs `step` until it succeeds (Redis may be away when a timer fires). */
  function retrying(step: () => Promise<void>): () => Promise<void> {
    const attempt = async () => {
      try {
        await step();
      } catch (error) {
        options.onError(error);
        later(RETRY_MS, attempt);
      }
    };
    return attempt;
  }

  function expire(peerId: string, item: string, input: AppendInput): () => Promise<void> {
    return retrying(async () => {
      const roomId = await scripts.takeHeld(keys.peer(peerId), item);
      if (roomId === undefined) return; // released by the peer's join meanwhile
      // Taken out of Redis: from here the event lives only in this process until it lands.
      const land = retrying(async () => {
        if (roomId !== '') {
          // The peer joined but its release missed this one (the releasing node died).
          await options.appendTo(roomId, input);
          return;
        }
        await options.keepDeadLetter(unroutableLetter(input, peerId, trackHold));
      });
      await land();
    });
  }

  return {
    async routeOrHold(peerId, input) {
      const item = JSON.stringify(input);
      const roomId = await scripts.routeOrHold(keys.peer(peerId), item, heldTtl);
      if (roomId === undefined) later(trackHold, expire(peerId, item, input));
      return roomId;
    },

    async release(peerId, roomId) {
      const peer = keys.peer(peerId);
      for (const item of await scripts.indexPeer(peer, roomId, indexTtl)) {
        // Appended before it leaves the list: a node dying in between leaves it to the timer,
        // and the room's dedup makes a second append of it a no-op.
        await options.appendTo(roomId, JSON.parse(item) as AppendInput);
        await redis.lrem(peer.held, 1, item);
      }
    },

    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
