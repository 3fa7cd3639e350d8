/**
 * Appends to a room's log in Redis with one order across nodes. The state is reduced here (the
 * reducer stays in TypeScript) from the room's (epoch, seq, state) as last seen; the append
 * script stores it only if the room is still at that position, and answers a conflict with the
 * current position, from which the append is reduced again. Appends for one room from this
 * node go one at a time, so only other nodes can cause a conflict.
 */
import { emptyRoomState, isRedundantAfterReconcile, peerCount, reduceRoom } from '@roomcast/shared';
import type { RoomState } from '@roomcast/shared';
import { EngineUnavailableError, asEvent } from '../engine.ts';
import type { AppendInput, LogEntry } from '../engine.ts';
import { encodeBody } from './codec.ts';
import type { KeyLayout } from './keys.ts';
import type { Scripts } from './scripts.ts';

/** Options of the room writer. */
export interface RoomWriterOptions {
  scripts: Scripts;
  keys: KeyLayout;
  historySize: number;
  dedupWindow: number;
  roomIdleTtl: number;
  newEpoch: () => string;
  now: () => number;
  /**
   * Compare-and-set attempts before giving up with EngineUnavailableError. Default 200 (with
   * jittered waits of at most 50 ms, about 5 s): a node starved by CPU pressure while other
   * nodes write the same hot room must not turn an authentic webhook into a 503 too early.
   */
  maxAttempts?: number;
  /** Rooms whose last position is remembered. Default 1000. */
  cacheSize?: number;
}

/** The outcome of one room append. */
export type WriteOutcome =
  | { kind: 'appended'; entry: LogEntry }
  | { kind: 'duplicate' }
  /** Reconcile already made this change: acknowledged (dedup marker set), nothing appended. */
  | { kind: 'redundant' };

/** Appends to rooms (see the module comment). */
export interface RoomWriter {
  append(roomId: string, input: AppendInput): Promise<WriteOutcome>;
  /** Forgets every remembered position (after a reconnect: Redis may have lost data). */
  reset(): void;
}

interface Known {
  epoch: string;
  seq: number;
  state: RoomState;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const noop = () => undefined;

/** Creates the room writer. */
export function createRoomWriter(options: RoomWriterOptions): RoomWriter {
  const { scripts, keys, historySize, dedupWindow, roomIdleTtl, newEpoch, now } = options;
  const maxAttempts = options.maxAttempts ?? 200;
  const cacheSize = options.cacheSize ?? 1000;
  const known = new Map<string, Known>();
  const queues = new Map<string, Promise<unknown>>();

  function remember(roomId: string, value: Known): void {
    known.delete(roomId); // re-inserted last: the Map's order is the LRU order
    known.set(roomId, value);
    if (known.size > cacheSize) known.delete(known.keys().next().value!);
  }

  /** Runs `work` after the room's previous append from this node has settled. */
  function serialize<T>(roomId: string, work: () => Promise<T>): Promise<T> {
    const run = (queues.get(roomId) ?? Promise.resolve()).then(work, work);
    const tail = run.then(noop, noop);
    queues.set(roomId, tail);
    void tail.then(() => {
      if (queues.get(roomId) === tail) queues.delete(roomId);
    });
    return run;
  }

  async function write(roomId: string, input: AppendInput): Promise<WriteOutcome> {
    const room = keys.room(roomId);
    const dedupKey = room.dedup(input.webhookId);
    const body = encodeBody(input);
    const event = asEvent(input);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const base = known.get(roomId);
      const current = base?.state ?? emptyRoomState(roomId);
      // Judged on the state the compare-and-set below validates, so never on a stale one.
      const redundant = isRedundantAfterReconcile(current, event);
      const state = redundant ? current : reduceRoom(current, event, input.receivedAt);
      let reply;
      try {
        reply = redundant
          ? await scripts.skip(room, dedupKey, base?.epoch ?? '', base?.seq ?? 0, dedupWindow)
          : await scripts.append(room, dedupKey, {
              expectedEpoch: base?.epoch ?? '',
              expectedSeq: base?.seq ?? 0,
              newEpoch: newEpoch(),
              body,
              state: JSON.stringify(state),
              peers: peerCount(state),
              meetingActive: state.meeting.active,
              recordingActive: state.recording.active,
              at: now(),
              dedupWindow,
              historySize,
              roomIdleTtl,
            });
      } catch (error) {
        known.delete(roomId); // the script may or may not have run
        throw error;
      }
      switch (reply.kind) {
        case 'ok':
          remember(roomId, { epoch: reply.epoch, seq: reply.seq, state });
          return {
            kind: 'appended',
            entry: {
              roomId,
              epoch: reply.epoch,
              seq: reply.seq,
              id: input.webhookId,
              event: input.event,
              payload: input.payload,
              receivedAt: input.receivedAt,
            },
          };
        case 'dup':
          return { kind: 'duplicate' };
        case 'skip':
          return { kind: 'redundant' };
        case 'gone':
          known.delete(roomId);
          break;
        case 'conflict':
          remember(roomId, {
            epoch: reply.epoch,
            seq: reply.seq,
            state:
              reply.state === '' ? emptyRoomState(roomId) : (JSON.parse(reply.state) as RoomState),
          });
          // The conflict brought the current state: retry at once, then back off a little
          // (with jitter) if other nodes keep winning the race.
          if (attempt > 0) await sleep(Math.random() * Math.min(2 ** attempt, 50));
          break;
      }
    }
    throw new EngineUnavailableError(`room ${roomId}: too many concurrent appends, retry later`);
  }

  return {
    append: (roomId, input) => serialize(roomId, () => write(roomId, input)),
    reset: () => known.clear(),
  };
}
