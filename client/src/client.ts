/**
 * createClient: one link (a WebSocket, or one multi-room SSE stream) for every room of the app,
 * and a connection state that tells the truth: terminal refusals end in `failed` with the
 * server's code and no more attempts; everything else reconnects with full-jitter backoff and
 * resumes each room from its `<epoch>:<seq>`; a link silent for 2× the server's heartbeat is
 * dead. Zero runtime dependencies.
 */
import type { CloseCode, ErrorCode } from '@roomcast/shared/codes';
import type { HistoryPage, ServerFrame, SubscribeFrame } from '@roomcast/shared';
import { backoffDelay, restartDelay } from './backoff.ts';
import type { Link, LinkDown, LinkHandlers, SseLinkOpener } from './link.ts';
import { createRoom } from './room.ts';
import type { AppEventMap, CachedRoom, Room, RoomFeed, RoomFrame, RoomOptions } from './room.ts';
import { openSseLink } from './sse-link.ts';
import { openWebSocketLink } from './ws-link.ts';

/** The connection's state (DESIGN.md, "Client contract"). */
export type ConnectionState =
  /** No room yet (or none left): nothing to connect. */
  | 'idle'
  /** The first attempt (or the first after `reconnect()` / `setToken`). */
  | 'connecting'
  /** The server accepted the token; rooms are (re)subscribing or live. */
  | 'connected'
  /** The link was lost; the next attempt waits out a full-jitter backoff. */
  | 'reconnecting'
  /** Refused for good (`code` says why); no attempt until `reconnect()` or `setToken()`. */
  | 'failed'
  /** `close()` was called. */
  | 'closed';

/** What `client.on('state', …)` hears. */
export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /**
   * Why, when there is a why: the server's error code (`UNAUTHORIZED`, `TOKEN_EXPIRED`,
   * `ORIGIN_NOT_ALLOWED`, `TOO_MANY_CONNECTIONS`…), else the close code's name in
   * `CloseCode` (`SERVICE_RESTART`, `SLOW_CONSUMER`…), `HEARTBEAT_TIMEOUT` for a silent link,
   * or `NETWORK` for a link that dropped with no word.
   */
  code?: string | undefined;
  /** The server's message or the close reason, for people. */
  reason?: string | undefined;
  /** The transport of the link this change is about. */
  transport: 'websocket' | 'sse';
}

/** Options of createClient. */
export interface ClientOptions {
  /** The server's base URL, e.g. `https://rt.example.com` (the client derives /ws and /events). */
  url: string;
  /** A subscriber token. Give `getToken` instead to have it fetched and refreshed. */
  token?: string;
  /**
   * Fetches a fresh token: on connect, ahead of its `exp`, and once after the server refused
   * the current one (`TOKEN_EXPIRED`, `UNAUTHORIZED`, close 4001). Default: none (a refused
   * token ends in `failed`).
   */
  getToken?: () => string | Promise<string>;
  /** `auto` (default): WebSocket, falling back to SSE when a WebSocket cannot connect. */
  transport?: 'auto' | 'websocket' | 'sse';
  /**
   * After a fallback to SSE, WebSocket is tried again this many ms later (doubling on each
   * failure, up to 10 minutes); when it connects, the rooms move over and the stream ends.
   * Default 30,000.
   */
  retryWebSocketAfter?: number;
  /**
   * Keeps each room's state and position across reloads: `'session'` (sessionStorage), or a
   * cache of your own such as `sessionCache({ prefix })` from `@roomcast/client/cache`. After a
   * reload the cached state shows at once and the subscription resumes after its position
   * (recovered, no snapshot). Default: none.
   */
  cache?: RoomCache | 'session';
  /**
   * One server connection for every tab of this origin (Web Locks leader + BroadcastChannel;
   * see `@roomcast/client/share-tabs`): rooms are counted across tabs, and when the leading
   * tab closes another takes over and resumes. `{ worker: url }`: the connection lives in a
   * SharedWorker instead, `@roomcast/client/share-worker` served by your app at `url` (the
   * leader election where SharedWorker is missing). Default false.
   */
  shareTabs?: boolean | { worker: string | URL };
  /** WebSocket implementation (Node: `ws`). Default: the global one. */
  WebSocket?: typeof WebSocket;
  /**
   * How SSE is read. Default: streaming `fetch`, the token in the `Authorization` header.
   * Where streaming fetch is missing: `eventSourceLink(EventSource)` from
   * `@roomcast/client/event-source` (the token then goes in the URL).
   */
  sseLink?: SseLinkOpener;
}

/** Where rooms are kept between page loads (see `ClientOptions.cache`). */
export interface RoomCache {
  load(roomId: string): CachedRoom | undefined;
  /** Called on every change of the room; the cache decides when to write. */
  save(roomId: string, room: CachedRoom): void;
}

/** A roomcast client. */
export interface Client<A extends AppEventMap = AppEventMap> {
  /**
   * Subscribes to a room (or returns the open subscription), counting one holder.
   * `{ occupancy: true }` also gets who watches it (`room.occupancy`).
   */
  room(roomId: string, options?: RoomOptions): Room<A>;
  /** The open subscription of a room, if any, without holding it. */
  get(roomId: string): Room<A> | undefined;
  /** The connection's state. */
  readonly state: ConnectionState;
  /** Listens to state changes; returns an unsubscribe. */
  on(name: 'state', handler: (change: StateChange) => void): () => void;
  /** The transport in use (or about to be). */
  readonly transport: 'websocket' | 'sse';
  /** Leaves `failed` (or cuts the link now and starts over): a new attempt, backoff reset. */
  reconnect(): void;
  /** Uses a new token: sent over the open WebSocket, or used to reconnect (leaves `failed`). */
  setToken(token: string): void;
  /** Closes every room and the connection. */
  close(): void;
}

/** Used before the server's first heartbeat tells the real interval (its default). */
const DEFAULT_HEARTBEAT = 25_000;
// The codes the client acts on, checked against the shared tables at compile time (the
// tables themselves stay out of the bundle: 400 bytes min+gzip).
const UNAUTHORIZED: typeof ErrorCode.UNAUTHORIZED = 'UNAUTHORIZED';
const TOKEN_EXPIRED: typeof ErrorCode.TOKEN_EXPIRED = 'TOKEN_EXPIRED';
const ORIGIN_NOT_ALLOWED: typeof ErrorCode.ORIGIN_NOT_ALLOWED = 'ORIGIN_NOT_ALLOWED';
const FORBIDDEN: typeof ErrorCode.FORBIDDEN = 'FORBIDDEN';
const POLICY: typeof CloseCode.POLICY = 1008;
const SERVICE_RESTART: typeof CloseCode.SERVICE_RESTART = 1012;
/** Codes that end in `failed`: trying again as is cannot work. */
const TERMINAL: readonly string[] = [UNAUTHORIZED, TOKEN_EXPIRED, ORIGIN_NOT_ALLOWED];
/** Close codes by name, for `StateChange.code` (each pair checked against `CloseCode`). */
const CLOSE_NAMES: { [K in keyof typeof CloseCode as (typeof CloseCode)[K]]?: K } = {
  1000: 'NORMAL',
  1008: 'POLICY',
  1012: 'SERVICE_RESTART',
  1013: 'TRY_AGAIN_LATER',
  4001: 'TOKEN_EXPIRED',
  4008: 'SLOW_CONSUMER',
};

/** Seconds-since-epoch `exp` of a JWT, if readable. */
function expiryOf(token: string | undefined): number | undefined {
  try {
    const part = token!.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    return (JSON.parse(atob(part)) as { exp?: number }).exp;
  } catch {
    return undefined;
  }
}

/** Creates a client. Nothing connects until the first `room()`. */
export function createClient(options: ClientOptions): Client {
  const base = options.url.replace(/\/+$/, '');
  const rooms = new Map<string, RoomFeed>();
  const holders = new Map<RoomFeed, number>();
  const stateHandlers = new Set<(change: StateChange) => void>();
  let kind: 'websocket' | 'sse' = options.transport === 'sse' ? 'sse' : 'websocket';
  let token = options.token;
  let state: ConnectionState = 'idle';
  let link: Link | undefined;
  /** A WebSocket tried beside the SSE stream after a fallback; it takes over once up. */
  let probe: Link | undefined;
  let up = false;
  /** Whether a WebSocket was ever up: then a refused one is an outage, not a blocked network. */
  let wsWorked = false;
  let attempt = 0;
  /** The outage began with a 1012 (service restart): its attempts follow `restartDelay`. */
  let restarting = false;
  /** Whether the token was refreshed since the last successful connect (one refresh only). */
  let refreshed = false;
  let interval = DEFAULT_HEARTBEAT;
  let lastByte = 0;
  let wsRetry = options.retryWebSocketAfter ?? 30_000;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let deadTimer: ReturnType<typeof setTimeout> | undefined;
  let probeTimer: ReturnType<typeof setTimeout> | undefined;

  /** The one place the state changes: emits old → new, with why. */
  function setState(next: ConnectionState, code?: string, reason?: string) {
    if (next === state) return;
    const previous = state;
    state = next;
    for (const handler of stateHandlers) {
      handler({ state: next, previous, code, reason, transport: kind });
    }
  }

  const stopped = () => state === 'failed' || state === 'closed';
  const subscribeFrame = (room: RoomFeed) => {
    const since = room.since();
    const frame: SubscribeFrame = { type: 'subscribe', room: room.id };
    if (since) frame.since = since;
    if (room.wantsOccupancy) frame.occupancy = true;
    return frame;
  };

  async function currentToken(): Promise<string> {
    if (!token && options.getToken) token = await options.getToken();
    scheduleRefresh();
    return token ?? '';
  }

  /** Refreshes ahead of expiry (30 s, or half the lifetime left when that is shorter). */
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    const exp = expiryOf(token);
    if (!options.getToken || exp === undefined) return;
    const left = exp * 1000 - Date.now();
    // Capped to setTimeout's range (a long token would fire at once and loop), and at least 1 s
    // apart (an already expired token from getToken must not spin).
    const delay = Math.min(2_147_483_647, Math.max(1000, Math.min(left - 30_000, left / 2)));
    refreshTimer = setTimeout(() => void refresh(), delay);
  }

  async function refresh() {
    if (stopped() || !options.getToken) return;
    useToken(await options.getToken());
  }

  function useToken(next: string) {
    token = next;
    scheduleRefresh();
    // Over the open socket: no reconnect, every subscription and its order carry on.
    if (up && kind === 'websocket') link!.send({ type: 'auth', token });
    else if (link) restart();
  }

  /** Arms the dead-link timer: `ms` from now without a byte, the link is dropped. */
  function watch(ms = 2 * interval) {
    clearTimeout(deadTimer);
    deadTimer = setTimeout(() => {
      drop();
      lost({ code: 'HEARTBEAT_TIMEOUT', opened: true });
    }, ms);
  }

  function alive() {
    lastByte = Date.now();
    watch();
  }

  function frame(data: ServerFrame) {
    if (data.type === 'heartbeat') {
      if (typeof data.interval === 'number') interval = data.interval;
      if (!up) linkUp();
      return;
    }
    if (data.type === 'error' && !data.room) {
      if (data.code === TOKEN_EXPIRED && options.getToken && up) void refresh();
      return;
    }
    // A rooms-feed frame (the console's) names no room: no room gets it.
    rooms.get((data as RoomFrame).room!)?.applyFrame(data as RoomFrame);
  }

  /** The server accepted the token (its first heartbeat): subscribe, reset the backoff. */
  function linkUp() {
    up = true;
    wsWorked ||= kind === 'websocket';
    attempt = 0;
    restarting = false;
    refreshed = false;
    if (kind === 'websocket') for (const room of rooms.values()) link!.send(subscribeFrame(room));
    setState('connected');
    if (kind === 'sse' && options.transport !== 'sse') scheduleProbe();
  }

  function drop() {
    clearTimeout(deadTimer);
    link?.close();
    link = undefined;
    up = false;
  }

  /** A link went down: fail, fall back, or reconnect after a backoff. */
  function lost(why: LinkDown) {
    drop();
    const code: string =
      why.code ?? (why.close ? CLOSE_NAMES[why.close as CloseCode] : undefined) ?? 'NETWORK';
    if (state === 'closed') return;
    if (code === FORBIDDEN) {
      // A stream of rooms none of which the token grants: each room is refused, as one by one.
      const message = why.reason ?? 'the token does not grant this room';
      for (const room of [...rooms.values()]) room.applyFrame({ type: 'error', code, message });
      return;
    }
    for (const room of rooms.values()) room.setStatus('connecting');
    if (TERMINAL.includes(code) || why.close === POLICY) {
      // A token the server refused: one fresh one from getToken, then give up.
      if (code !== ORIGIN_NOT_ALLOWED && options.getToken && !refreshed) {
        refreshed = true;
        token = undefined;
        return retry(0, code, why.reason);
      }
      clearTimeout(refreshTimer);
      return setState('failed', code, why.reason);
    }
    // `auto`: a WebSocket that never opened (blocked by a proxy, refused) → SSE now.
    if (!why.opened && kind === 'websocket' && !wsWorked && options.transport !== 'websocket') {
      kind = 'sse';
      return retry(0);
    }
    setState('reconnecting', code, why.reason);
    if (why.close === SERVICE_RESTART) restarting = true;
    retry((restarting ? restartDelay : backoffDelay)(attempt++));
  }

  function retry(delay: number, code?: string, reason?: string) {
    if (state !== 'connecting') setState('reconnecting', code, reason);
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(() => void connect(), delay);
  }

  async function connect() {
    clearTimeout(reconnectTimer);
    if (link || rooms.size === 0 || stopped()) return;
    if (state === 'idle') setState('connecting');
    const current = await currentToken();
    // The state (or the rooms) may have moved while the token was fetched.
    if (link || rooms.size === 0 || stopped()) return;
    link = open(kind, current);
    watch();
  }

  function open(
    transport: 'websocket' | 'sse',
    current: string,
    handlers: LinkHandlers = { alive, frame, down: lost },
  ): Link {
    if (transport === 'websocket') {
      const url = base.replace(/^http/, 'ws');
      return openWebSocketLink(url, current, options.WebSocket ?? WebSocket, handlers);
    }
    const positions = new URLSearchParams();
    for (const room of rooms.values()) {
      const since = room.since();
      if (since) positions.append(room.id, since);
    }
    const occupancy = [...rooms.values()].some((room) => room.wantsOccupancy);
    const request = { rooms: [...rooms.keys()], positions: positions.toString(), occupancy };
    return (options.sseLink ?? openSseLink)(base, current, request, handlers);
  }

  /** After a fallback to SSE: a WebSocket beside the stream; once up, the rooms move to it. */
  function scheduleProbe() {
    clearTimeout(probeTimer);
    probeTimer = setTimeout(async () => {
      const current = await currentToken();
      if (kind !== 'sse' || !up || probe) return;
      const handlers: LinkHandlers = {
        alive() {},
        frame(data) {
          if (data.type !== 'heartbeat') return;
          probe = undefined;
          drop();
          kind = 'websocket';
          link = next;
          wsRetry = options.retryWebSocketAfter ?? 30_000;
          // From here on it is the link: its frames and its end go where the link's go.
          Object.assign(handlers, { alive, frame, down: lost });
          alive();
          frame(data);
        },
        down() {
          probe = undefined;
          wsRetry = Math.min(wsRetry * 2, 600_000);
          if (kind === 'sse' && up) scheduleProbe();
        },
      };
      const next = open('websocket', current, handlers);
      probe = next;
    }, wsRetry);
  }

  /** Ends the link and opens the next one at once (new rooms on SSE, a new token). */
  function restart() {
    drop();
    retry(0);
  }

  function reconnect() {
    if (state === 'closed') return;
    drop();
    attempt = 0;
    restarting = false;
    refreshed = false;
    setState('connecting');
    void connect();
  }

  /** `online`, or a hidden tab shown again: a link quiet for a heartbeat is dropped soon. */
  function check() {
    if (state === 'reconnecting' && !link) {
      attempt = 0;
      return void connect();
    }
    if (up) watch(Math.max(0, interval + 1000 - (Date.now() - lastByte)));
  }
  const onVisible = () => globalThis.document?.visibilityState === 'visible' && check();
  globalThis.addEventListener?.('online', check);
  globalThis.document?.addEventListener('visibilitychange', onVisible);

  /** The room is gone; `refused`: the server already dropped it (nothing to tell it). */
  function leave(room: RoomFeed, refused?: boolean) {
    if (rooms.get(room.id) !== room) return;
    rooms.delete(room.id);
    holders.delete(room);
    room.setStatus('closed');
    if (kind === 'websocket') link?.send({ type: 'unsubscribe', room: room.id });
    else if (link && !refused) restart();
    if (rooms.size === 0) {
      drop();
      clearTimeout(reconnectTimer);
      if (state !== 'failed') setState('idle');
    }
  }

  const host = {
    release(room: RoomFeed) {
      if (!holders.has(room)) return; // already gone (refused, or the client closed)
      const left = holders.get(room)! - 1;
      holders.set(room, left);
      // A moment later: Strict Mode's unmount-and-mount takes the room back meanwhile.
      if (left <= 0) setTimeout(() => holders.get(room)! <= 0 && leave(room));
    },
    refused: (room: RoomFeed) => leave(room, true),
    async history(roomId: string, limit: number): Promise<HistoryPage> {
      const response = await fetch(
        `${base}/rooms/${encodeURIComponent(roomId)}/history?limit=${limit}`,
        { headers: { authorization: `Bearer ${await currentToken()}` } },
      );
      const body = await response.json();
      if (!response.ok) {
        throw Object.assign(new Error(body.error?.message ?? `HTTP ${response.status}`), {
          code: body.error?.code,
        });
      }
      return body as HistoryPage;
    },
  };

  return {
    room(roomId, roomOptions: RoomOptions = {}) {
      let room = rooms.get(roomId);
      if (room && roomOptions.occupancy && !room.wantsOccupancy) {
        // A holder that wants occupancy joins one that did not: subscribe again (it resumes).
        room.wantsOccupancy = true;
        if (kind === 'websocket') {
          if (up) link!.send(subscribeFrame(room));
        } else if (link) restart();
      }
      if (!room) {
        const made = (room = createRoom(roomId, host, roomOptions));
        // `'session'` is resolved by create-client.ts (it keeps this module free of storage code).
        const cache = typeof options.cache === 'object' ? options.cache : undefined;
        if (cache) {
          const cached = cache.load(roomId);
          if (cached) made.restore(cached);
          made.subscribe(() => {
            const since = made.since();
            if (since && made.state) cache.save(roomId, { since, state: made.state });
          });
        }
        rooms.set(roomId, room);
        // A WebSocket subscribes every room once up; an SSE stream names its rooms: a new one.
        if (kind === 'websocket') {
          if (up) link!.send(subscribeFrame(room));
        } else if (link) restart();
        void connect();
      }
      holders.set(room, (holders.get(room) ?? 0) + 1);
      return room;
    },
    get: (roomId) => rooms.get(roomId),
    get state() {
      return state;
    },
    on(_name, handler) {
      stateHandlers.add(handler);
      return () => void stateHandlers.delete(handler);
    },
    get transport() {
      return kind;
    },
    reconnect,
    setToken(next) {
      if (state !== 'failed') return useToken(next);
      token = next;
      reconnect();
    },
    close() {
      drop();
      probe?.close();
      for (const timer of [reconnectTimer, refreshTimer, probeTimer]) clearTimeout(timer);
      globalThis.removeEventListener?.('online', check);
      globalThis.document?.removeEventListener('visibilitychange', onVisible);
      for (const room of rooms.values()) room.setStatus('closed');
      rooms.clear();
      setState('closed');
    },
  };
}
