/**
 * The four Huddle01 live-API reads reconcile needs, through the SDK's own `API` class (it
 * builds the URLs and sends the `x-api-key` header), each with a timeout that really aborts the
 * request, a typed outcome (404 "not live" is an answer, not an error; 429 keeps Retry-After),
 * and a validated response shape. See scoped-fetch.ts for how the SDK's fetch is reached.
 */
import { API } from '@huddle01/server-sdk/api';
import { z } from 'zod';
import type { LiveParticipant } from './reconcile-plan.ts';
import { runInFetchScope } from './scoped-fetch.ts';
import type { FetchScope } from './scoped-fetch.ts';

/** The SDK's built-in base URL (its INFRA_URL constant, which it does not export). */
export const HUDDLE01_API_URL = 'https://infra-api.huddle01.workers.dev';

/** The reads, as metric labels. */
export type ApiCall = 'live_sessions' | 'live_session' | 'participants' | 'sessions';

/** How a read went, as metric labels. */
export type CallResult = 'ok' | 'not_found' | 'rate_limited' | 'timeout' | 'error';

/** A read that failed: the caller backs off (longer for `rate_limited`, per Retry-After). */
export class Huddle01ApiError extends Error {
  override name = 'Huddle01ApiError';
  constructor(
    readonly result: 'rate_limited' | 'timeout' | 'error',
    message: string,
    /** The HTTP status, when there was an answer. */
    readonly status?: number,
    /** Retry-After of a 429 (or 503), ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** One session of a room (`getRoomSessions`). */
export interface RoomSession {
  sessionId: string;
  startTime: number;
  /** Null (or absent) while the session is live. */
  endTime: number | null;
}

/**
 * A live session as `getLiveSessions` describes it. The project-wide list (SDK 2.6 type:
 * `{roomId, startTime, livestreamCount, recordingCount}[]`) carries no peer count; the per-room
 * answer adds `currentPeerCount` and types both media counts `number | null` (null read as 0).
 */
export interface LiveRoom {
  roomId: string;
  /** When the live session started (ms). */
  startTime: number;
  /** Recordings running in the session. */
  recordingCount: number;
  /** Livestreams running in the session. */
  livestreamCount: number;
  /** Peers in the session, when the answer carries `currentPeerCount`. */
  peerCount?: number;
}

/** The reads reconcile makes. Null means Huddle01 has no live session for the room (404). */
export interface Huddle01Api {
  /** Every live session of the project: one call answers for all rooms. */
  liveSessions(): Promise<LiveRoom[]>;
  /** The room's live session, or null when it is not live. */
  liveSession(roomId: string): Promise<LiveRoom | null>;
  /** The live session's participants, or null when it is not live. */
  liveParticipants(roomId: string): Promise<LiveParticipant[] | null>;
  /** The room's sessions (one page), to learn the live session's id. */
  roomSessions(roomId: string): Promise<RoomSession[]>;
  /** Aborts every call in flight (shutdown): they fail as timeouts. */
  abortAll(): void;
}

/** Options of the API client. */
export interface Huddle01ApiOptions {
  apiKey: string;
  /** Another base URL than the SDK's (an egress proxy, a test double). Default: the SDK's. */
  baseUrl?: string;
  /** Per call, ms: the request is aborted after it. */
  timeoutMs: number;
  /** Told about every call and its outcome (metrics). */
  onCall?: (call: ApiCall, result: CallResult) => void;
}

const timestamp = z.number().finite();
const count = z.number().int().nonnegative().nullish();
const liveSessionShape = z.looseObject({
  roomId: z.string().optional(),
  startTime: timestamp,
  currentPeerCount: count,
  recordingCount: count,
  livestreamCount: count,
});
const liveSessionsShape = z.array(liveSessionShape.extend({ roomId: z.string().min(1) }));
const participantsShape = z.array(
  z.looseObject({
    peerId: z.string().min(1),
    joinTime: timestamp.nullish(),
    metadata: z.unknown().optional(),
  }),
);
const sessionsShape = z.array(
  z.looseObject({
    sessionId: z.string().min(1),
    startTime: timestamp,
    endTime: timestamp.nullish(),
  }),
);

/** The most sessions asked for at once (the live one is normally the newest). */
const SESSIONS_PAGE = 20;

/** Creates the client (one SDK `API` instance). */
export function createHuddle01Api(options: Huddle01ApiOptions): Huddle01Api {
  const { timeoutMs, onCall } = options;
  const sdk = new API({ apiKey: options.apiKey });
  const inFlight = new Set<AbortController>();
  const rewrite =
    options.baseUrl === undefined
      ? undefined
      : { from: HUDDLE01_API_URL, to: options.baseUrl.replace(/\/+$/, '') };

  /**
   * Runs one SDK read and turns what happened into a value: `accept` of the answer, `absent`
   * for a 404 (not live), or a Huddle01ApiError. Every call is reported once to `onCall`.
   */
  async function read<T>(
    call: ApiCall,
    run: () => Promise<unknown>,
    accept: (value: unknown) => T,
    absent: T,
  ): Promise<T> {
    const controller = new AbortController();
    inFlight.add(controller);
    const scope: FetchScope = { signal: controller.signal, rewrite, handled: false };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      const expire = (why: string) => {
        reject(new Huddle01ApiError('timeout', `${call}: ${why}`)); // the first reason wins
        controller.abort();
      };
      timer = setTimeout(() => expire(`no answer within ${timeoutMs} ms`), timeoutMs);
      controller.signal.addEventListener('abort', () => expire('aborted'), { once: true });
    });
    const running = runInFetchScope(scope, run);
    running.catch(() => undefined); // it may settle after the deadline, with nobody waiting
    let result: CallResult = 'error';
    try {
      const value = await Promise.race([running, deadline]);
      const found = answered(call, scope);
      const answer = found ? accept(value) : absent;
      result = found ? 'ok' : 'not_found';
      return answer;
    } catch (error) {
      const failure =
        error instanceof Huddle01ApiError
          ? error
          : new Huddle01ApiError('error', `${call}: ${describe(error)}`);
      result = failure.result;
      throw failure;
    } finally {
      clearTimeout(timer);
      inFlight.delete(controller);
      onCall?.(call, result);
    }
  }

  return {
    abortAll() {
      for (const controller of inFlight) controller.abort();
    },

    liveSessions() {
      return read<LiveRoom[] | null>(
        'live_sessions',
        () => sdk.getLiveSessions(),
        (value) => parse('live_sessions', liveSessionsShape, value).map(toLiveRoom),
        null,
      ).then((rooms) => {
        // The project-wide list has no "not live" answer: a 404 there is a failure.
        if (rooms === null) throw new Huddle01ApiError('error', 'live_sessions: HTTP 404', 404);
        return rooms;
      });
    },

    liveSession(roomId) {
      return read(
        'live_session',
        () => sdk.getLiveSessions({ roomId }),
        (value) => {
          // The per-room answer is one object; the list form (all rooms) is accepted too. A 200
          // without a session (the SDK then returns undefined) is an error, never "not live".
          let entry = value;
          if (Array.isArray(value)) {
            entry = value.find((item: { roomId?: unknown } | null) => item?.roomId === roomId);
            if (entry === undefined) return null;
          }
          return toLiveRoom({ ...parse('live_session', liveSessionShape, entry), roomId });
        },
        null,
      );
    },

    liveParticipants(roomId) {
      return read(
        'participants',
        () => sdk.getLivePartipantsDetails({ roomId }),
        (value) =>
          parse('participants', participantsShape, value).map((p) => {
            const participant: LiveParticipant = { peerId: p.peerId };
            if (typeof p.joinTime === 'number') participant.joinTime = p.joinTime;
            if (p.metadata !== undefined && p.metadata !== null) participant.metadata = p.metadata;
            return participant;
          }),
        null,
      );
    },

    roomSessions(roomId) {
      return read(
        'sessions',
        () => sdk.getRoomSessions({ roomId, limit: SESSIONS_PAGE }),
        (value) =>
          parse('sessions', sessionsShape, value).map((s) => ({
            sessionId: s.sessionId,
            startTime: s.startTime,
            endTime: s.endTime ?? null,
          })),
        [],
      );
    },
  };
}

/** One `getLiveSessions` entry, counts made numbers (absent or null: none counted). */
function toLiveRoom(entry: z.infer<typeof liveSessionShape> & { roomId: string }): LiveRoom {
  const room: LiveRoom = {
    roomId: entry.roomId,
    startTime: entry.startTime,
    recordingCount: entry.recordingCount ?? 0,
    livestreamCount: entry.livestreamCount ?? 0,
  };
  if (typeof entry.currentPeerCount === 'number') room.peerCount = entry.currentPeerCount;
  return room;
}

/**
 * True for a 200, false for a 404; throws Huddle01ApiError for anything else (see
 * scoped-fetch.ts for why the SDK's own value cannot tell).
 */
function answered(call: ApiCall, scope: FetchScope): boolean {
  // Not seen by the wrapper (something replaced the global fetch under it): the SDK threw on
  // any non-200, so a value here is a success.
  if (!scope.handled) return true;
  if (scope.failure !== undefined) {
    if (scope.signal.aborted) throw new Huddle01ApiError('timeout', `${call}: aborted`);
    throw new Huddle01ApiError('error', `${call}: ${describe(scope.failure)}`);
  }
  const status = scope.status ?? 0;
  if (status === 200) return true;
  if (status === 404) return false;
  const retryAfterMs = parseRetryAfter(scope.retryAfter);
  const result = status === 429 ? 'rate_limited' : 'error';
  throw new Huddle01ApiError(result, `${call}: HTTP ${status}`, status, retryAfterMs);
}

function parse<T>(call: ApiCall, shape: z.ZodType<T>, value: unknown): T {
  const parsed = shape.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new Huddle01ApiError(
    'error',
    `${call}: unexpected answer (${parsed.error.issues[0]?.message})`,
  );
}

/** Retry-After as ms: delta-seconds or an HTTP date; undefined when absent or malformed. */
export function parseRetryAfter(
  header: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
