/**
 * The reconciler: heals room state from Huddle01's live API (docs/reconcile.md).
 * - Bootstrap: when a subscriber arrives for a room the engine holds nothing for (a restart, a
 *   new epoch), the room's live session and participants seed it before the first snapshot;
 *   the subscriber waits at most `bootstrapWaitMs`, after which the seeding lands as events.
 * - Periodic passes: every `intervalMs`, one project-wide `getLiveSessions` call lists the live
 *   sessions; each active room (a live meeting or present peers in its state) and each listed
 *   room is then compared with it: a room absent from the list has no live meeting (one call
 *   confirms it where the state still holds one live), a listed room roomcast never heard of is discovered, and participants are fetched
 *   only where the list cannot vouch for the state (its peer count, when it has one, differs,
 *   or the session is not the state's). Corrections, Huddle01's recording and livestream counts
 *   included, are synthetic events appended through the engine like webhooks (seq, history,
 *   resume; marked `source: "reconcile"`).
 * - Good citizen: every API call goes through the call gate (budget, concurrency, backoff);
 *   with several nodes a room is reconciled by the node holding its lease for the interval.
 * Nothing here is on the webhook or fan-out path: failures are counted, logged and retried on
 * the next pass.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import { allRooms } from '../engine/engine.ts';
import type { ReconcileMetrics } from '../metrics.ts';
import { peerCount } from '@roomcast/shared';
import type { RoomState } from '@roomcast/shared';
import { createCallGate } from './call-gate.ts';
import { Huddle01ApiError } from './huddle01-api.ts';
import type { Huddle01Api, LiveRoom, RoomSession } from './huddle01-api.ts';
import { planReconcile, sameLiveSession } from './reconcile-plan.ts';
import type { LiveView } from './reconcile-plan.ts';
import { SAME_CHANGE_TOLERANCE_MS } from './redundancy.ts';

/** Options of the reconciler. */
export interface ReconcilerOptions {
  engine: Engine;
  api: Huddle01Api;
  log: FastifyBaseLogger;
  /** Time between passes over the active rooms, ms. */
  intervalMs: number;
  /** API calls allowed per `budgetWindowMs`. */
  budget: number;
  /** The budget's window, ms. Default 60 s. */
  budgetWindowMs?: number;
  /** API calls in flight at once (and rooms reconciled at once). */
  concurrency: number;
  /** Longest time a subscriber waits for a bootstrap, ms. Default 1500. */
  bootstrapWaitMs?: number;
  /** Peers and sessions younger than this are not declared gone, ms. Default 10 s. */
  settleMs?: number;
  /** First backoff after an API failure, ms. Default 1 s. */
  backoffBaseMs?: number;
  /** Longest backoff, ms. Default 5 min. */
  backoffMaxMs?: number;
  metrics?: ReconcileMetrics;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

/** The reconciler's API. */
export interface Reconciler {
  /**
   * Seeds an empty room from the live API before its first snapshot (the hub's
   * `beforeSnapshot`). Never rejects; resolves within `bootstrapWaitMs`.
   */
  bootstrap(roomId: string): Promise<void>;
  /** Stops the passes, refuses waiting API calls and aborts those in flight. */
  close(): Promise<void>;
}

type Trigger = 'bootstrap' | 'interval';
type PassOutcome = 'corrected' | 'in_sync' | 'failed' | 'skipped';

/** What the project-wide list said about one room, and when roomcast asked. */
interface Sighting {
  /** The room's live session, or null: not listed, so not live. */
  entry: LiveRoom | null;
  observedAt: number;
}

/**
 * Room ids sent to Huddle01's API. The SDK puts the id into the URL path as is, so anything
 * else (a subscriber can name any room) is never sent. Huddle01's ids look like `abc-defg-hij`.
 */
const API_ROOM_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Rooms whose last bootstrap check is remembered (oldest forgotten first). */
const BOOTSTRAP_MEMORY = 10_000;

/** Creates the reconciler and starts its passes. */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { engine, api, log, intervalMs, metrics, now = Date.now } = options;
  const bootstrapWaitMs = options.bootstrapWaitMs ?? 1500;
  const settleMs = options.settleMs ?? 10_000;
  const gate = createCallGate({
    perWindow: options.budget,
    windowMs: options.budgetWindowMs,
    concurrency: options.concurrency,
    backoffBaseMs: options.backoffBaseMs,
    backoffMaxMs: options.backoffMaxMs,
    now,
  });
  const passes = new Map<string, Promise<PassOutcome>>();
  /** Rooms waiting for their pass, with the newest list's word on each. */
  const queue = new Map<string, Sighting>();
  const bootstraps = new Map<string, { at: number; done: Promise<void> }>();
  /** The live session id per room and start time, learned from getRoomSessions. */
  const sessionIds = new Map<string, { startTime: number; sessionId: string }>();
  let workers = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  /** One API call through the gate (`roomId` undefined: project-wide); feeds the backoff. */
  async function call<T>(
    roomId: string | undefined,
    read: () => Promise<T>,
    urgent: boolean,
  ): Promise<T> {
    try {
      const value = await gate.run(read, urgent);
      gate.succeeded();
      return value;
    } catch (error) {
      if (error instanceof Huddle01ApiError) {
        const pause = gate.failed(error.retryAfterMs);
        log.warn(
          {
            reconcile: {
              roomId,
              result: error.result,
              status: error.status,
              backoffMs: Math.round(pause),
            },
          },
          `huddle01 api: ${error.message}`,
        );
      }
      throw error;
    }
  }

  /** The live session's id: the state's own, one learned before, or the API's session list. */
  async function liveSessionId(
    roomId: string,
    startTime: number,
    urgent: boolean,
  ): Promise<string | undefined> {
    const { meeting } = (await engine.snapshot(roomId)).state;
    if (sameLiveSession(meeting, startTime)) return meeting.sessionId;
    const learned = sessionIds.get(roomId);
    if (learned?.startTime === startTime) return learned.sessionId;
    const sessions = await call(roomId, () => api.roomSessions(roomId), urgent);
    const live = pickLiveSession(sessions, startTime);
    if (live === undefined) return undefined;
    sessionIds.delete(roomId);
    sessionIds.set(roomId, { startTime, sessionId: live.sessionId });
    if (sessionIds.size > BOOTSTRAP_MEMORY) sessionIds.delete(sessionIds.keys().next().value!);
    return live.sessionId;
  }

  async function liveInState(roomId: string): Promise<boolean> {
    return isLive((await engine.snapshot(roomId)).state);
  }

  /**
   * One comparison of a room with the API, and its corrections. With a `sighting` (a periodic
   * pass) the project-wide list answers whether the room is live; without (a bootstrap) the
   * room's own live session is asked for.
   */
  async function pass(roomId: string, trigger: Trigger, sighting?: Sighting): Promise<PassOutcome> {
    const urgent = trigger === 'bootstrap';
    // When the deciding question was asked (the gate may have kept the pass waiting): the date
    // of synthesised leaves and ends, and what "too young to judge" is measured against.
    let observedAt = sighting?.observedAt ?? now();
    const asked = <T>(read: () => Promise<T>) => {
      observedAt = now();
      return read();
    };
    let live: LiveView | null = null;
    try {
      const ownSession = () => call(roomId, () => asked(() => api.liveSession(roomId)), urgent);
      let session: LiveRoom | null;
      if (sighting === undefined) session = await ownSession();
      else if (sighting.entry !== null || !(await liveInState(roomId))) session = sighting.entry;
      // Absent from the list, live in the state: ending the meeting on the list's word alone
      // would trust the list to be complete (a truncated or lagging one would end live
      // meetings, and an ended session ignores its later webhooks), so the room's own call
      // confirms it. Only rooms where the two disagree pay for it.
      else session = await ownSession();
      if (session !== null) {
        const media = {
          recordingCount: session.recordingCount,
          livestreamCount: session.livestreamCount,
        };
        const { state } = await engine.snapshot(roomId);
        if (countsAgree(state, session)) {
          // Huddle01 vouches for the state's peers: only the media counts may need a change.
          return await apply(
            roomId,
            trigger,
            {
              sessionId: state.meeting.sessionId!,
              startTime: session.startTime,
              media,
            },
            observedAt,
          );
        }
        const participants = await call(
          roomId,
          () => asked(() => api.liveParticipants(roomId)),
          urgent,
        );
        // The session ended between the two calls: the next pass sees it settled.
        if (participants === null) return 'skipped';
        const sessionId = await liveSessionId(roomId, session.startTime, urgent);
        if (sessionId === undefined) {
          log.warn({ reconcile: { roomId, trigger } }, 'live session not among the room sessions');
          return 'skipped';
        }
        live = { sessionId, startTime: session.startTime, participants, media };
      }
    } catch (error) {
      if (!(error instanceof Huddle01ApiError)) throw error;
      metrics?.errors.inc({ stage: 'api' });
      return 'failed';
    }
    return apply(roomId, trigger, live, observedAt);
  }

  /** Plans against the state as it is now and appends the corrections. */
  async function apply(
    roomId: string,
    trigger: Trigger,
    live: LiveView | null,
    observedAt: number,
  ): Promise<PassOutcome> {
    // Read just before planning: a webhook that made a change meanwhile is not made twice (and
    // one arriving after this read makes the correction redundant inside the engine).
    const { state } = await engine.snapshot(roomId);
    const corrections = planReconcile({ roomId, state, live, observedAt, settleMs });
    let applied = 0;
    for (const correction of corrections) {
      const { event, payload } = correction.event;
      const result = await engine.append({
        webhookId: correction.webhookId,
        event,
        payload: payload as never,
        receivedAt: now(),
      });
      if (result.status !== 'appended') continue;
      applied++;
      metrics?.corrections.inc({ kind: correction.kind });
      const peerId = (payload as { id?: string }).id;
      log.info(
        {
          reconcile: {
            roomId,
            kind: correction.kind,
            ...(peerId !== undefined && { peerId }),
            sessionId: payload.sessionId,
            seq: result.seq,
            trigger,
          },
        },
        `reconcile ${correction.kind}`,
      );
    }
    return applied > 0 ? 'corrected' : 'in_sync';
  }

  /** Runs a pass unless one is running for the room (then that one is the answer). */
  function passOnce(roomId: string, trigger: Trigger, sighting?: Sighting): Promise<PassOutcome> {
    const running = passes.get(roomId);
    if (running) return running;
    const started = pass(roomId, trigger, sighting)
      .catch((error: unknown) => {
        if (closed) return 'skipped' as const;
        metrics?.errors.inc({ stage: 'engine' });
        log.warn({ err: error, reconcile: { roomId, trigger } }, 'reconcile pass failed');
        return 'failed' as const;
      })
      .then((outcome) => {
        metrics?.passes.inc({ trigger, outcome });
        return outcome;
      })
      .finally(() => passes.delete(roomId));
    passes.set(roomId, started);
    return started;
  }

  async function work(): Promise<void> {
    for (const [roomId, sighting] of queue) {
      queue.delete(roomId);
      if (closed) return;
      try {
        // With several nodes, the node holding the lease reconciles the room this interval.
        if ((await engine.lease?.(roomId, intervalMs)) === false) {
          metrics?.passes.inc({ trigger: 'interval', outcome: 'leased_elsewhere' });
          continue;
        }
      } catch (error) {
        metrics?.errors.inc({ stage: 'engine' });
        log.warn({ err: error, reconcile: { roomId } }, 'reconcile lease failed');
        continue;
      }
      await passOnce(roomId, 'interval', sighting);
    }
  }

  function startWorkers(): void {
    while (workers < options.concurrency && queue.size > 0 && !closed) {
      workers++;
      void work().finally(() => {
        workers--;
        startWorkers();
      });
    }
  }

  /** The project-wide list of live sessions, or undefined when it could not be had. */
  async function listLive(): Promise<{ rooms: LiveRoom[]; observedAt: number } | undefined> {
    let observedAt = now();
    try {
      const rooms = await call(
        undefined,
        () => {
          observedAt = now();
          return api.liveSessions();
        },
        false,
      );
      return { rooms, observedAt };
    } catch (error) {
      if (closed) return undefined;
      metrics?.errors.inc({ stage: 'api' });
      if (!(error instanceof Huddle01ApiError)) {
        log.warn({ err: error }, 'reconcile: could not list live sessions');
      }
      return undefined; // this pass is skipped; the next interval asks again
    }
  }

  async function tick(): Promise<void> {
    const listed = await listLive();
    if (listed === undefined || closed) return;
    const { observedAt } = listed;
    const live = new Map(
      listed.rooms.map((entry): [string, Sighting] => [entry.roomId, { entry, observedAt }]),
    );
    const enqueue = (roomId: string) => {
      if (!API_ROOM_ID.test(roomId) || passes.has(roomId)) return;
      // A room still waiting from the last tick keeps its place, with the newer sighting.
      queue.set(roomId, live.get(roomId) ?? { entry: null, observedAt });
    };
    try {
      for (const room of await allRooms(engine)) {
        if (room.meetingActive || room.peers > 0) enqueue(room.roomId);
      }
    } catch (error) {
      metrics?.errors.inc({ stage: 'engine' });
      log.warn({ err: error }, 'reconcile: could not list rooms');
      return;
    }
    // Live rooms roomcast holds nothing active for: discovered.
    for (const roomId of live.keys()) enqueue(roomId);
    startWorkers();
  }

  function schedule(): void {
    if (closed) return;
    timer = setTimeout(() => {
      void tick().finally(schedule);
    }, intervalMs);
    timer.unref();
  }
  schedule();

  /** Resolves when `work` settles or after `ms`, whichever is first. */
  function bounded(work: Promise<unknown>, ms: number): Promise<void> {
    let wait: NodeJS.Timeout | undefined;
    return Promise.race([
      work.then(() => undefined),
      new Promise<void>((resolve) => (wait = setTimeout(resolve, ms))),
    ]).finally(() => clearTimeout(wait));
  }

  return {
    bootstrap(roomId) {
      if (closed || !API_ROOM_ID.test(roomId)) return Promise.resolve();
      const at = now();
      let entry = bootstraps.get(roomId);
      // One check per room per interval: a crowd subscribing at once shares it.
      if (entry === undefined || at - entry.at >= intervalMs) {
        const done = engine
          .snapshot(roomId)
          .then(async ({ seq }) => {
            if (seq === 0) await passOnce(roomId, 'bootstrap');
          })
          .catch((error: unknown) => {
            if (!closed) log.warn({ err: error, reconcile: { roomId } }, 'bootstrap failed');
          });
        entry = { at, done };
        bootstraps.delete(roomId);
        bootstraps.set(roomId, entry);
        if (bootstraps.size > BOOTSTRAP_MEMORY) bootstraps.delete(bootstraps.keys().next().value!);
      }
      return bounded(entry.done, bootstrapWaitMs);
    },

    async close() {
      closed = true;
      clearTimeout(timer);
      queue.clear();
      gate.close();
      api.abortAll();
      await Promise.allSettled([...passes.values()]);
    },
  };
}

/** True when the state holds a live meeting for the room (one a pass might end). */
function isLive(state: RoomState): boolean {
  return state.meeting.sessionId !== undefined && state.meeting.endedAt === undefined;
}

/**
 * True when a live session's peer count (when Huddle01 gave one) equals the state's, and the
 * state is in that session: the participants need not be fetched.
 */
function countsAgree(state: RoomState, session: LiveRoom): boolean {
  return (
    session.peerCount !== undefined &&
    session.peerCount === peerCount(state) &&
    sameLiveSession(state.meeting, session.startTime)
  );
}

/**
 * The live session among a room's sessions: an open one (no endTime) started closest to
 * `startTime`, else one that started at `startTime` (its end may already be recorded).
 */
function pickLiveSession(sessions: RoomSession[], startTime: number): RoomSession | undefined {
  const distance = (session: RoomSession) => Math.abs(session.startTime - startTime);
  const closest = (list: RoomSession[]) =>
    list.reduce<RoomSession | undefined>(
      (best, session) =>
        best === undefined || distance(session) < distance(best) ? session : best,
      undefined,
    );
  return (
    closest(sessions.filter((session) => session.endTime === null)) ??
    closest(sessions.filter((session) => distance(session) <= SAME_CHANGE_TOLERANCE_MS))
  );
}
