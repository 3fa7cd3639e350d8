/**
 * A local stand-in for Huddle01's live API on a real socket (port 0): the four routes the SDK's
 * `API` class calls for reconcile, the `x-api-key` check, and knobs for failures and slowness.
 * Every request is recorded, so tests count calls where Huddle01 would.
 *
 * Answers have the shapes of @huddle01/server-sdk 2.6's typed client (dist/client.d.ts):
 * - `GET /api/v2/sdk/live-sessions` → `{liveSessions: {roomId, startTime, livestreamCount,
 *   recordingCount}[]}` (no peer count: `listPeerCounts` adds `currentPeerCount`, a field only
 *   the per-room answer is typed with, to exercise the path that would use it);
 * - `GET /api/v2/sdk/live-sessions/:roomId` → `{liveSessions: {roomId, startTime,
 *   currentPeerCount, livestreamCount, recordingCount}}`, 404 when not live;
 * - `GET /api/v2/sdk/live-sessions/participants/:roomId` → `{count, participants}`, 404 when not live;
 * - `GET /api/v2/sdk/rooms/session-details?roomId=` → `{sessions}`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A room as the fake knows it. */
export interface FakeRoom {
  /** The live session, if any. */
  live?: {
    sessionId: string;
    startTime: number;
    /** Recordings running (default 0). */
    recordingCount?: number;
    /** Livestreams running (default 0). */
    livestreamCount?: number;
  };
  participants: { peerId: string; joinTime?: number; metadata?: unknown }[];
  /** Ended sessions listed by getRoomSessions. */
  past?: { sessionId: string; startTime: number; endTime: number }[];
}

/** One request the fake received. */
export interface FakeCall {
  at: number;
  route: 'live_sessions' | 'live_session' | 'participants' | 'sessions' | 'unknown';
  roomId?: string;
  apiKey?: string;
  status: number;
  /** When the client gave up on it (closed before the answer), if it did. */
  abortedAt?: number;
}

/** A failure the next requests get. */
export interface FakeFailure {
  status: number;
  headers?: Record<string, string>;
}

/** The running fake. */
export interface FakeHuddle01 {
  /** Base URL for HUDDLE01_API_URL. */
  url: string;
  rooms: Map<string, FakeRoom>;
  calls: FakeCall[];
  /** Answers the next `count` requests with `failure`. */
  failNext(count: number, failure: FakeFailure): void;
  /** Holds every answer this long (ms); 0 answers at once. */
  delayMs: number;
  /** The project-wide list carries `currentPeerCount` too (not in the SDK's type). Default false. */
  listPeerCounts: boolean;
  /** Requests the client gave up on (closed before the answer). */
  aborted: number;
  /** Calls of one room (optionally one route). */
  callsOf(roomId: string, route?: FakeCall['route']): FakeCall[];
  /** Resolves once `predicate` holds for the recorded calls. */
  until(predicate: (calls: FakeCall[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts the fake; `apiKeys` are the keys it accepts. */
export async function startFakeHuddle01(apiKeys: string[]): Promise<FakeHuddle01> {
  const rooms = new Map<string, FakeRoom>();
  const calls: FakeCall[] = [];
  const failures: FakeFailure[] = [];
  const waiters = new Set<() => void>();

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const apiKey = request.headers['x-api-key'];
    const call: FakeCall = { at: Date.now(), route: 'unknown', status: 200 };
    if (typeof apiKey === 'string') call.apiKey = apiKey;
    let body: unknown;
    let match: RegExpExecArray | null;
    if (url.pathname === '/api/v2/sdk/live-sessions') {
      call.route = 'live_sessions';
      const liveSessions = [...rooms].flatMap(([roomId, room]) => {
        if (!room.live) return [];
        const entry: Record<string, unknown> = {
          roomId,
          startTime: room.live.startTime,
          livestreamCount: room.live.livestreamCount ?? 0,
          recordingCount: room.live.recordingCount ?? 0,
        };
        if (fake.listPeerCounts) entry.currentPeerCount = room.participants.length;
        return [entry];
      });
      body = { liveSessions };
    } else if (
      (match = /^\/api\/v2\/sdk\/live-sessions\/participants\/([^/]+)$/.exec(url.pathname))
    ) {
      call.route = 'participants';
      call.roomId = decodeURIComponent(match[1]!);
      const room = rooms.get(call.roomId);
      body = room?.live
        ? { count: room.participants.length, participants: room.participants }
        : undefined;
    } else if ((match = /^\/api\/v2\/sdk\/live-sessions\/([^/]+)$/.exec(url.pathname))) {
      call.route = 'live_session';
      call.roomId = decodeURIComponent(match[1]!);
      const room = rooms.get(call.roomId);
      body = room?.live
        ? {
            liveSessions: {
              roomId: call.roomId,
              startTime: room.live.startTime,
              currentPeerCount: room.participants.length,
              livestreamCount: room.live.livestreamCount ?? 0,
              recordingCount: room.live.recordingCount ?? 0,
            },
          }
        : undefined;
    } else if (url.pathname === '/api/v2/sdk/rooms/session-details') {
      call.route = 'sessions';
      call.roomId = url.searchParams.get('roomId') ?? '';
      const room = rooms.get(call.roomId);
      const live = room?.live && {
        sessionId: room.live.sessionId,
        startTime: room.live.startTime,
        endTime: null,
      };
      const sessions = [...(live ? [live] : []), ...(room?.past ?? [])];
      body = { sessions };
    }

    const failure = failures.shift();
    if (!apiKeys.includes(call.apiKey ?? '')) {
      call.status = 401;
    } else if (failure) {
      call.status = failure.status;
    } else if (call.route === 'unknown' || body === undefined) {
      call.status = 404;
    }
    calls.push(call);
    for (const wake of waiters) wake();
    const answer = () => {
      const headers = { 'content-type': 'application/json', ...(failure?.headers ?? {}) };
      response.writeHead(call.status, headers);
      response.end(JSON.stringify(call.status === 200 ? body : { message: 'error' }));
    };
    response.on('close', () => {
      if (!response.writableEnded) {
        call.abortedAt = Date.now();
        fake.aborted++;
        for (const wake of waiters) wake();
      }
    });
    if (fake.delayMs > 0) {
      setTimeout(() => {
        if (!response.destroyed) answer();
      }, fake.delayMs);
    } else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeHuddle01 = {
    url: `http://127.0.0.1:${port}`,
    rooms,
    calls,
    delayMs: 0,
    listPeerCounts: false,
    aborted: 0,
    failNext(count, failure) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    callsOf(roomId, route) {
      return calls.filter((c) => c.roomId === roomId && (route === undefined || c.route === route));
    },
    async until(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(calls)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`fake huddle01: timed out; ${calls.length} calls`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, left);
          function done() {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          }
          waiters.add(done);
        });
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
