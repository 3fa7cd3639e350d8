/**
 * createClient: one connection (a WebSocket, or one multi-room EventSource) for every room of
 * the app, with full-jitter reconnects, per-room resume from `<epoch>:<seq>`, and tokens
 * refreshed over the open connection. Zero runtime dependencies.
 */
import { EVENT_NAME_LIST, FRAME_EVENT_NAMES } from '@roomcast/shared/event-names';
import { backoffDelay } from './backoff.ts';
import { createRoom } from './room.ts';
import type { Room, RoomFeed } from './room.ts';

/** Options of createClient. */
export interface ClientOptions {
  /** The server's base URL, e.g. `https://rt.example.com` (the client derives /ws and /events). */
  url: string;
  /** A subscriber token. Give `getToken` instead to have it fetched and refreshed. */
  token?: string;
  /** Fetches a fresh token: on connect, ahead of its `exp`, and after TOKEN_EXPIRED / 4001. */
  getToken?: () => string | Promise<string>;
  /** `auto` (default): WebSocket, falling back to SSE when a WebSocket cannot connect. */
  transport?: 'auto' | 'websocket' | 'sse';
  /** WebSocket implementation (Node: `ws`). Default: the global one. */
  WebSocket?: typeof WebSocket;
  /** EventSource implementation (Node: the `eventsource` package). Default: the global one. */
  EventSource?: typeof EventSource;
}

/** A roomcast client. */
export interface Client {
  /** Subscribes to a room (or returns the open subscription). */
  room(roomId: string): Room;
  /** The transport in use, once chosen. */
  readonly transport: 'websocket' | 'sse';
  /** Closes every room and the connection. */
  close(): void;
}

/** Event names an EventSource must listen to (SSE `event:` is the frame kind or event name). */
const SSE_NAMES = [...FRAME_EVENT_NAMES, ...EVENT_NAME_LIST];
const OPEN = 1;
/** A server frame as parsed JSON. */
type Frame = Record<string, unknown>;
const CLOSED = 2;

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
  let kind: 'websocket' | 'sse' = options.transport === 'sse' ? 'sse' : 'websocket';
  let token = options.token;
  let socket: WebSocket | undefined;
  let source: EventSource | undefined;
  let attempt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let everOpened = false;

  const send = (frame: object) => socket?.readyState === OPEN && socket.send(JSON.stringify(frame));
  const subscribeFrame = (room: RoomFeed) => {
    const since = room.since();
    return since
      ? { type: 'subscribe', room: room.id, since }
      : { type: 'subscribe', room: room.id };
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
    if (closed || !options.getToken) return;
    token = await options.getToken();
    scheduleRefresh();
    // Over the open socket: no reconnect, every subscription and its order carry on.
    if (socket?.readyState === OPEN) send({ type: 'auth', token });
    else if (source) reopen();
  }

  function dispatch(frame: Frame) {
    if (frame.type === 'error' && !frame.room) {
      if (frame.code === 'TOKEN_EXPIRED') void refresh();
      return;
    }
    rooms.get(frame.room as string)?.applyFrame(frame);
  }

  function retry(now: boolean) {
    for (const room of rooms.values()) room.setStatus('connecting');
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, now ? 0 : backoffDelay(attempt++));
  }

  async function connect() {
    clearTimeout(reconnectTimer);
    if (closed || rooms.size === 0 || socket || source) return;
    const current = await currentToken();
    if (closed || socket || source) return;
    if (kind === 'sse') return openEventSource(current);
    const Socket = options.WebSocket ?? globalThis.WebSocket;
    // batch=1: frames of one tick may come as one message, a JSON array (fewer messages to parse).
    const ws = new Socket(`${base.replace(/^http/, 'ws')}/ws?batch=1`);
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return ws.close(); // replaced meanwhile
      everOpened = true;
      attempt = 0;
      ws.send(JSON.stringify({ type: 'auth', token: current }));
      for (const room of rooms.values()) ws.send(JSON.stringify(subscribeFrame(room)));
    };
    ws.onmessage = (message) => {
      const data = JSON.parse(String(message.data)) as Frame | Frame[];
      if (Array.isArray(data)) data.forEach(dispatch);
      else dispatch(data);
    };
    ws.onerror = () => undefined; // 'close' follows; Node's `ws` would throw an unheard error
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = undefined;
      if (closed) return;
      // `auto`: a WebSocket that never opened (blocked by a proxy, refused) → SSE.
      if (!everOpened && options.transport !== 'websocket') {
        kind = 'sse';
        return void connect();
      }
      if (event.code === 4001 || event.code === 1008) token = options.getToken ? undefined : token;
      retry(event.code === 1012 || event.code === 4008);
    };
  }

  function openEventSource(current: string) {
    const Source = options.EventSource ?? globalThis.EventSource;
    const query = new URLSearchParams();
    const positions = new URLSearchParams();
    for (const room of rooms.values()) {
      query.append('room', room.id);
      const since = room.since();
      if (since) positions.append(room.id, since);
    }
    query.set('token', current);
    if ([...positions].length > 0) query.set('lastEventId', positions.toString());
    const es = new Source(`${base}/events?${query}`);
    source = es;
    // `event: error` frames share their name with EventSource's own connection errors, which
    // carry no data: only messages with data are frames.
    const onMessage = (event: Event) => {
      const data = (event as MessageEvent).data;
      if (typeof data === 'string') dispatch(JSON.parse(data));
    };
    for (const name of SSE_NAMES) es.addEventListener(name, onMessage);
    es.onopen = () => (attempt = 0);
    es.onerror = () => {
      if (source !== es) return;
      if (es.readyState !== CLOSED) {
        for (const room of rooms.values()) room.setStatus('connecting'); // EventSource retries by itself
        return;
      }
      // Refused (401 at expiry, 403, 503): a fresh token, then a new stream with our positions.
      source = undefined;
      if (options.getToken) token = undefined;
      if (!closed) retry(false);
    };
  }

  /** SSE streams name their rooms in the URL: a new set of rooms needs a new stream. */
  function reopen() {
    source?.close();
    source = undefined;
    void connect();
  }

  function reconnectNow() {
    // A socket still connecting (or open) is left alone: replacing it would leak it.
    if (
      closed ||
      (socket && socket.readyState <= OPEN) ||
      (source && source.readyState !== CLOSED)
    ) {
      return;
    }
    attempt = 0;
    socket = undefined;
    void connect();
  }
  // Timers in hidden tabs are not to be trusted: check on the way back, and when the network is.
  const onVisible = () => globalThis.document?.visibilityState === 'visible' && reconnectNow();
  globalThis.addEventListener?.('online', reconnectNow);
  globalThis.document?.addEventListener('visibilitychange', onVisible);

  return {
    room(roomId) {
      const existing = rooms.get(roomId);
      if (existing) return existing;
      const room = createRoom(roomId, (closing) => {
        rooms.delete(closing.id);
        if (kind === 'websocket') send({ type: 'unsubscribe', room: closing.id });
        else if (source) reopen();
      });
      rooms.set(roomId, room);
      if (kind === 'websocket') send(subscribeFrame(room));
      else if (source) reopen();
      void connect();
      return room;
    },
    get transport() {
      return kind;
    },
    close() {
      closed = true;
      clearTimeout(reconnectTimer);
      clearTimeout(refreshTimer);
      globalThis.removeEventListener?.('online', reconnectNow);
      globalThis.document?.removeEventListener('visibilitychange', onVisible);
      socket?.close(1000);
      source?.close();
      for (const room of rooms.values()) room.setStatus('closed');
      rooms.clear();
    },
  };
}
