/**
 * Appends to a room's log in Redis with one order across nodes, without carrying the state: the
 * append script assigns the seq and stores the entry in one step, and answers with the entries
 * this node missed since the position it knows, so the node folds its copy of the state forward
 * (O(log n) per event, see the shared reducer). No compare-and-set for ordinary events: two
 * nodes writing one hot room never conflict. Only an event that reconcile may already have made
 * (`isRedundantAfterReconcile`) in a room reconcile marked is judged on the state at the head
 * and appended only there (a `behind` answer brings the missed entries; judged again).
 *
 * Every `checkpointEvery` events the node moves the room's checkpoint hash (state-hash.ts) by
 * the fields the events since touched: what Redis stores grows by the event, not by the room.
 * Ordinary appends for one room from this node run concurrently; the state follows them one at
 * a time, in the order Redis answered.
 */
import {
  RECONCILE_SOURCE,
  emptyRoomState,
  isRedundantAfterReconcile,
  peerCount,
  reduceRoom,
} from '@roomcast/shared';
import type { RoomEvent, RoomState } from '@roomcast/shared';
import { EngineUnavailableError, asEvent, isAppAppend } from '../engine.ts';
import type { AnyAppendInput, LogEntry } from '../engine.ts';
import { decodeStream, encodeBody } from './codec.ts';
import type { KeyLayout, RoomKeys } from './keys.ts';
import type { AppendReply, RawStreamEntry, Scripts } from './scripts.ts';
import { checkpointFields, forgetUpTo, stateFromHash, touch, untouched } from './state-hash.ts';
import type { Touched } from './state-hash.ts';

/** What an append's answer says of the room's head (its `ok` and `behind` forms). */
type AppendHead = Extract<AppendReply, { kind: 'ok' | 'behind' }>;

/** Options of the room writer. */
export interface RoomWriterOptions {
  scripts: Scripts;
  keys: KeyLayout;
  historySize: number;
  dedupWindow: number;
  roomIdleTtl: number;
  /** Ms a departed peer shows as reconnecting (the state's `presenceGrace`). */
  presenceGrace: number;
  /** Oldest event kept in a room's stream, ms (trimmed a little at each append). */
  historyTtl: number;
  /**
   * How long a room's keys stay after its meeting:ended (a later event makes it
   * `roomIdleTtl` again), ms. Default: `roomIdleTtl`.
   */
  endedRoomTtl?: number;
  newEpoch: () => string;
  now: () => number;
  /**
   * Attempts of a judged append (see the module comment) before giving up with
   * EngineUnavailableError. Default 200 (with jittered waits of at most 50 ms, about 5 s).
   */
  maxAttempts?: number;
  /** Rooms whose state is remembered. Default 1000. */
  cacheSize?: number;
  /** Called with background (checkpoint) errors. Default: ignored. */
  onError?: (error: unknown) => void;
}

/** The outcome of one room append. */
export type WriteOutcome =
  | { kind: 'appended'; entry: LogEntry }
  | { kind: 'duplicate' }
  /** Reconcile already made this change: acknowledged (dedup marker set), nothing appended. */
  | { kind: 'redundant' };

/** Appends to rooms (see the module comment). */
export interface RoomWriter {
  append(roomId: string, input: AnyAppendInput): Promise<WriteOutcome>;
  /** Forgets every remembered state (after a reconnect: Redis may have lost data). */
  reset(): void;
}

/** What this node knows of a room: its state at (epoch, seq), and the checkpoint's position. */
interface Known {
  epoch: string;
  seq: number;
  state: RoomState;
  checkpoint: number;
  touched: Touched;
}

/** A room's state at its head, read from the checkpoint hash and the stream's tail. */
export interface LoadedState {
  epoch: string;
  seq: number;
  state: RoomState;
  checkpoint: number;
  touched: Touched;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const noop = () => undefined;

/** Events that reconcile may have made already (the only ones ever judged on the head). */
function mayBeRedundant(event: RoomEvent): boolean {
  return (
    event.event === 'peer:joined' ||
    event.event === 'peer:left' ||
    event.event === 'meeting:started' ||
    event.event === 'meeting:ended'
  );
}

/**
 * Folds stream entries (in seq order) into `known`, skipping those it holds already; false on a
 * gap (then `known` is only partly moved).
 */
function fold(known: Known, raw: readonly RawStreamEntry[]): boolean {
  for (const entry of decodeStream('', known.epoch, [...raw])) {
    if (entry.seq <= known.seq) continue;
    if (entry.seq !== known.seq + 1) return false;
    const event = { event: entry.event, payload: entry.payload } as RoomEvent;
    const next = reduceRoom(known.state, event, entry.receivedAt);
    touch(known.touched, known.state, next, event, entry.seq);
    known.state = next;
    known.seq = entry.seq;
  }
  return true;
}

/** Reads a room's state at its head: the checkpoint hash plus the entries after it. */
export async function loadState(
  scripts: Scripts,
  keys: RoomKeys,
  roomId: string,
  options: { newEpoch: string; roomIdleTtl: number; presenceGrace: number },
): Promise<LoadedState> {
  const { presenceGrace, ...readOptions } = options;
  const reply = await scripts.read(keys, { ...readOptions, withState: true });
  if (!reply) throw new Error(`room ${roomId} could not be created`);
  const empty = emptyRoomState(roomId, { presenceGrace });
  const { state, seq: checkpoint } = stateFromHash(reply.state, empty);
  const known: Known = {
    epoch: reply.epoch,
    seq: checkpoint,
    state,
    checkpoint,
    touched: untouched(),
  };
  // A tail that does not follow the checkpoint was lost with the history: the checkpoint is
  // then all that is left of the state.
  if (!fold(known, reply.entries) || known.seq !== reply.seq) known.seq = reply.seq;
  return known;
}

/** Creates the room writer. */
export function createRoomWriter(options: RoomWriterOptions): RoomWriter {
  const { scripts, keys, historySize, dedupWindow, roomIdleTtl, presenceGrace, newEpoch, now } =
    options;
  const endedRoomTtl = Math.min(roomIdleTtl, options.endedRoomTtl ?? roomIdleTtl);
  const maxAttempts = options.maxAttempts ?? 200;
  const cacheSize = options.cacheSize ?? 1000;
  const onError = options.onError ?? noop;
  // Well inside the stream's length, so the tail after a checkpoint is always there to fold.
  const checkpointEvery = Math.max(1, Math.min(64, Math.floor(historySize / 4)));
  const known = new Map<string, Known>();
  const queues = new Map<string, Promise<unknown>>();

  function remember(roomId: string, value: Known): void {
    known.delete(roomId); // re-inserted last: the Map's order is the LRU order
    known.set(roomId, value);
    if (known.size > cacheSize) known.delete(known.keys().next().value!);
  }

  /** Runs `work` after the room's previous work on this node has settled. */
  function serialize<T>(roomId: string, work: () => Promise<T>): Promise<T> {
    const run = (queues.get(roomId) ?? Promise.resolve()).then(work, work);
    const tail = run.then(noop, noop);
    queues.set(roomId, tail);
    void tail.then(() => {
      if (queues.get(roomId) === tail) queues.delete(roomId);
    });
    return run;
  }

  /** Brings `base` to the head the script reported, from its missed entries or a fresh read. */
  async function catchUp(
    roomId: string,
    base: Known | undefined,
    reply: AppendHead,
    upTo: number,
  ): Promise<Known> {
    if (base !== undefined && !reply.far && base.epoch === reply.epoch) {
      const next = { ...base };
      if (fold(next, reply.missed) && next.seq >= upTo) return next;
    }
    return loadState(scripts, keys.room(roomId), roomId, {
      newEpoch: newEpoch(),
      roomIdleTtl,
      presenceGrace,
    });
  }

  /**
   * One append. Unjudged ones run at once, concurrently (the script orders them; their
   * follow-ups run one at a time, in answer order). A judged one runs in the room's queue, after
   * the follow-ups before it, so it is judged on this node's latest state.
   */
  async function write(
    roomId: string,
    input: AnyAppendInput,
    judge: boolean,
  ): Promise<WriteOutcome> {
    const room = keys.room(roomId);
    const body = encodeBody(input);
    const event = asEvent(input);
    const synthesised =
      !isAppAppend(input) && (input.payload as { source?: unknown }).source === RECONCILE_SOURCE;
    const candidate = mayBeRedundant(event);
    const judged = judge;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const base = known.get(roomId);
      const redundant =
        judged && base !== undefined && isRedundantAfterReconcile(base.state, event);
      let reply;
      try {
        reply = await scripts.append(room, {
          mode: !judged ? 'a' : redundant ? 's' : 'g',
          webhookId: input.webhookId,
          knownEpoch: base?.epoch ?? '',
          knownSeq: base?.seq ?? 0,
          newEpoch: newEpoch(),
          body,
          candidate,
          synthesised,
          at: now(),
          dedupWindow,
          historySize,
          // An ended meeting's room is kept only as long as a late subscriber may want it.
          roomIdleTtl: input.event === 'meeting:ended' ? endedRoomTtl : roomIdleTtl,
          maxMissed: checkpointEvery * 4,
          trimBefore: now() - options.historyTtl,
        });
      } catch (error) {
        known.delete(roomId); // the script may or may not have run
        throw error;
      }
      if (reply.kind === 'dup') return { kind: 'duplicate' };
      if (reply.kind === 'skip') return { kind: 'redundant' };
      if (reply.kind === 'behind') {
        // A marked room wants this one judged: again, in the room's queue.
        if (!judged) return serialize(roomId, () => write(roomId, input, true));
        // Judged on a state that is not the head (another node appended): catch up, again.
        remember(roomId, await catchUp(roomId, base, reply, reply.seq));
        if (attempt > 0) await sleep(Math.random() * Math.min(2 ** attempt, 50));
        continue;
      }
      const entry: LogEntry = {
        roomId,
        epoch: reply.epoch,
        seq: reply.seq,
        id: input.webhookId,
        event: input.event,
        payload: input.payload,
        receivedAt: input.receivedAt,
      };
      // Not awaited by the webhook: its answer waits for the append only.
      void serialize(roomId, () => follow(roomId, base, reply, entry)).catch(onError);
      return { kind: 'appended', entry };
    }
    throw new EngineUnavailableError(`room ${roomId}: too many concurrent appends, retry later`);
  }

  /** Folds the missed entries and this node's own into its state; moves the checkpoint. */
  async function follow(
    roomId: string,
    base: Known | undefined,
    reply: AppendHead,
    entry: LogEntry,
  ): Promise<void> {
    // From what this node knows now (an earlier append's follow may have moved it since).
    const current = known.get(roomId) ?? base;
    let next =
      current !== undefined && current.epoch === reply.epoch && current.seq >= entry.seq
        ? current
        : await catchUp(roomId, current, reply, entry.seq - 1);
    if (next.seq === entry.seq - 1) {
      const event = { event: entry.event, payload: entry.payload } as RoomEvent;
      const state = reduceRoom(next.state, event, entry.receivedAt);
      touch(next.touched, next.state, state, event, entry.seq);
      next = { ...next, state, seq: entry.seq };
    }
    // Else the fresh read was at or past this entry already.
    next.checkpoint = Math.max(next.checkpoint, reply.checkpoint);
    forgetUpTo(next.touched, next.checkpoint);
    remember(roomId, next);
    const due = next.seq - next.checkpoint >= checkpointEvery;
    const fields = due ? checkpointFields(next.state, next.touched, next.checkpoint) : undefined;
    const at = await scripts.checkpoint(keys.room(roomId), {
      epoch: next.epoch,
      base: next.checkpoint,
      to: next.seq,
      full: fields?.full ?? false,
      set: fields?.set ?? [],
      remove: fields?.remove ?? [],
      peers: peerCount(next.state),
      meetingActive: next.state.meeting.active,
      recordingActive: next.state.recording.active,
    });
    if (at > next.checkpoint) {
      next.checkpoint = at;
      forgetUpTo(next.touched, at);
    }
  }

  return {
    append: (roomId, input) =>
      // A synthesised event is always judged on the head: it corrects what the room holds.
      !isAppAppend(input) && (input.payload as { source?: unknown }).source === RECONCILE_SOURCE
        ? serialize(roomId, () => write(roomId, input, true))
        : write(roomId, input, false),
    reset: () => known.clear(),
  };
}
