/**
 * The room list, pushed: a WebSocket of the console's own (`{type:"rooms"}`, the `*`-token rooms
 * feed) gives the first page, then only the rooms that changed, at most once a second, whichever
 * node appended to them. Rooms past the first page come from `GET /rooms?cursor=` pages. While
 * the feed socket is down (a proxy that refuses WebSockets, a restart), the list is polled from
 * `GET /rooms` pages every couple of seconds and the socket retried with backoff. It tells a
 * refused token (401 / 403, UNAUTHORIZED / FORBIDDEN) apart from a server that cannot be reached.
 *
 * Its own socket, not the @roomcast/client one: the client's core bundle stays as it is, and
 * the feed needs nothing of its rooms and resume logic.
 */

// The wire type of a `GET /rooms` line and of the feed's frame, from the shared package (the
// console imports nothing of the server).
import type { RoomSummary, RoomsFrame } from '@roomcast/shared';

export type { RoomSummary };

/** The outcome of one update of the list. */
export type PollResult =
  | { ok: true; rooms: RoomSummary[] }
  | { ok: false; reason: 'unauthorized' | 'forbidden' | 'unreachable'; message: string };

/** Options of createRoomsFeed. */
export interface RoomsFeedOptions {
  /** The server's base URL (the page's folder: the console lives under the plugin's prefix). */
  base: string;
  token: string;
  /** Time between two polls while the feed socket is down. Default 2000 ms. */
  intervalMs?: number;
  onResult(result: PollResult): void;
}

/** A running feed. */
export interface RoomsFeed {
  /** Brings the list up to date now (e.g. back online): reconnects or re-polls at once. */
  refresh(): void;
  stop(): void;
}

/** Rooms per page, asked of the feed and of `GET /rooms`. */
const PAGE = 500;
/** Rooms the console holds at most (more pages are not fetched). */
const MAX_ROOMS = 2000;

const UNAUTHORIZED: PollResult = {
  ok: false,
  reason: 'unauthorized',
  message: 'The server refused this token: it is not valid here, or it has expired.',
};
const FORBIDDEN: PollResult = {
  ok: false,
  reason: 'forbidden',
  message: 'This token does not grant every room. The console needs a token for rooms ["*"].',
};
const unreachable = (message: string): PollResult => ({
  ok: false,
  reason: 'unreachable',
  message,
});

type Page = { ok: true; rooms: RoomSummary[]; nextCursor: string | null } | PollResult;

async function fetchPage(base: string, token: string, cursor?: string): Promise<Page> {
  const query = `limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  let response: Response;
  try {
    response = await fetch(`${base}/rooms?${query}`, {
      headers: { authorization: `Bearer ${token}` },
      cache: 'no-store',
      signal: AbortSignal.timeout(8000),
    });
  } catch {
    return unreachable('The server cannot be reached.');
  }
  if (response.status === 401) return UNAUTHORIZED;
  if (response.status === 403) return FORBIDDEN;
  if (!response.ok) return unreachable(`The server answered ${response.status}.`);
  try {
    const body = (await response.json()) as { rooms: RoomSummary[]; nextCursor?: string | null };
    return { ok: true, rooms: body.rooms, nextCursor: body.nextCursor ?? null };
  } catch {
    return unreachable('The server sent an unreadable answer.');
  }
}

/** Starts at once. A refused token stops the feed (a new token makes a new feed). */
export function createRoomsFeed(options: RoomsFeedOptions): RoomsFeed {
  const { base, token, onResult } = options;
  const interval = options.intervalMs ?? 2000;
  const wsUrl = `${base.replace(/^http/, 'ws')}/ws`;
  const rooms = new Map<string, RoomSummary>();
  let idleTtl = Infinity;
  let socket: WebSocket | undefined;
  let live = false;
  let stopped = false;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let silenceTimer: ReturnType<typeof setTimeout> | undefined;
  let polling = false;
  /** How long the socket may stay silent: twice the server's heartbeat interval. */
  let silenceMs = 60_000;
  /** Bumped by every new first page: a slower older page fetch is then dropped. */
  let generation = 0;

  function emit(result: PollResult) {
    if (stopped) return;
    if (!result.ok && result.reason !== 'unreachable') {
      stop();
      return onResult(result);
    }
    onResult(result);
  }

  function emitList() {
    const cutoff = Date.now() - idleTtl;
    for (const [roomId, room] of rooms) if (room.updatedAt < cutoff) rooms.delete(roomId);
    emit({ ok: true, rooms: [...rooms.values()].sort((a, b) => b.updatedAt - a.updatedAt) });
  }

  /** A line replaces the held one unless it is older (a delta read before a first page). */
  function apply(room: RoomSummary) {
    const held = rooms.get(room.roomId);
    if (!held || held.updatedAt <= room.updatedAt) rooms.set(room.roomId, room);
  }

  /** Fetches the pages after a first one, up to MAX_ROOMS, and merges them. */
  async function restOfList(cursor: string | null, of: number) {
    while (cursor && rooms.size < MAX_ROOMS) {
      const page = await fetchPage(base, token, cursor);
      if (of !== generation || stopped) return;
      if (!page.ok) return emit(page);
      if (!('nextCursor' in page)) return;
      page.rooms.forEach(apply);
      cursor = page.nextCursor;
      emitList();
    }
  }

  function firstPage(frame: RoomsFrame) {
    const of = ++generation;
    rooms.clear();
    frame.rooms.forEach(apply);
    idleTtl = frame.idleTtl ?? Infinity;
    emitList();
    void restOfList(frame.nextCursor ?? null, of);
  }

  function onFrame(frame: { type: string; code?: string; room?: string; interval?: number }) {
    // Anything proves the link alive; the heartbeat says how long it may stay silent.
    if (frame.type === 'heartbeat' && frame.interval) silenceMs = frame.interval * 2;
    watchSilence();
    if (frame.type === 'rooms') {
      const rooms = frame as unknown as RoomsFrame;
      if (rooms.idleTtl !== undefined) {
        live = true;
        failures = 0;
        stopPolling();
        return firstPage(rooms);
      }
      if (rooms.more) return socket?.send(JSON.stringify({ type: 'rooms', limit: PAGE }));
      rooms.rooms.forEach(apply);
      return emitList();
    }
    if (frame.type !== 'error') return;
    if (frame.code === 'UNAUTHORIZED' || frame.code === 'TOKEN_EXPIRED') emit(UNAUTHORIZED);
    else if (frame.code === 'FORBIDDEN' && frame.room === '*') emit(FORBIDDEN);
  }

  function watchSilence() {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => socket?.close(), silenceMs);
  }

  function connect() {
    clearTimeout(retryTimer);
    if (stopped || socket) return;
    const ws = new WebSocket(wsUrl);
    socket = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'auth', token }));
      ws.send(JSON.stringify({ type: 'rooms', limit: PAGE }));
    };
    ws.onmessage = (message) => {
      if (socket !== ws) return;
      try {
        const parsed = JSON.parse(String(message.data)) as unknown;
        // A batch (never asked for here) or a frame.
        for (const frame of Array.isArray(parsed) ? parsed : [parsed]) onFrame(frame);
      } catch {
        // Not JSON: not from roomcast; ignore it.
      }
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = undefined;
      live = false;
      clearTimeout(silenceTimer);
      silenceTimer = undefined;
      if (stopped) return;
      // 1008 is a refused token (an error frame told which, unless the upgrade itself was
      // refused): let GET /rooms tell the reason, as before the feed existed.
      if (event.code !== 1008) failures++;
      startPolling();
      const backoff = Math.min(30_000, 1000 * 2 ** Math.min(failures, 5));
      retryTimer = setTimeout(connect, Math.random() * backoff);
    };
  }

  /** The fallback while the socket is down: GET /rooms pages, polled. */
  function startPolling() {
    if (polling) return;
    polling = true;
    void poll();
  }

  function stopPolling() {
    polling = false;
    clearTimeout(pollTimer);
  }

  async function poll() {
    clearTimeout(pollTimer);
    if (!polling || stopped) return;
    const of = ++generation;
    const page = await fetchPage(base, token);
    if (of !== generation || !polling || stopped) return;
    if (page.ok && 'nextCursor' in page) {
      rooms.clear();
      page.rooms.forEach(apply);
      emitList();
      await restOfList(page.nextCursor, of);
    } else emit(page);
    if (polling && !stopped) pollTimer = setTimeout(poll, interval);
  }

  function stop() {
    stopped = true;
    stopPolling();
    clearTimeout(retryTimer);
    clearTimeout(silenceTimer);
    socket?.close();
    socket = undefined;
  }

  connect();

  return {
    refresh() {
      if (stopped) return;
      if (live) return;
      failures = 0;
      connect();
      if (polling) void poll();
    },
    stop,
  };
}
