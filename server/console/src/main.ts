/**
 * The roomcast moderator console: every active room, who is in it, what they publish and what
 * just happened, live. The room list is pushed by the rooms feed (rooms-feed.ts); the selected room and
 * the first rooms of the list are subscribed to with @roomcast/client, which reconnects and
 * resumes by itself (a "resynced" note shows when a gap could not be replayed).
 */
import './console.css';
import { createClient } from '@roomcast/client';
import { peerCount } from '@roomcast/shared/room-state';
import type { Client, StateChange } from '@roomcast/client';
import { byId, setAttrs, setText } from './dom.ts';
import { formatElapsed } from './format.ts';
import { createRoomView } from './room-view.ts';
import { createRoomsFeed } from './rooms-feed.ts';
import type { PollResult, RoomSummary, RoomsFeed } from './rooms-feed.ts';
import { createRoomsList } from './rooms-list.ts';
import type { RoomLine } from './rooms-list.ts';
import { createToasts } from './toasts.ts';
import { clearToken, saveToken, takeToken, tokenExpiry } from './token-store.ts';
import { watchRoom } from './watched-room.ts';
import type { WatchedRoom } from './watched-room.ts';

/** Rooms of the list subscribed to at once (the server allows 100 per connection by default). */
const WATCH_LIST = 40;
/** Subscriptions kept at most (rooms that left the top of the list are let go past this). */
const WATCH_MAX = 80;

// The page's folder: under a plugin prefix the server's routes live beside the page.
const base = new URL('.', location.href).href.replace(/\/$/, '');
const narrow = matchMedia('(max-width: 760px)');

const ui = {
  tools: byId('tools'),
  conn: byId('conn'),
  tokenView: byId('token-view'),
  tokenForm: byId<HTMLFormElement>('token-form'),
  tokenInput: byId<HTMLInputElement>('token-input'),
  tokenError: byId('token-error'),
  consoleView: byId('console-view'),
  search: byId<HTMLInputElement>('room-search'),
  roomCount: byId('room-count'),
  roomsEmpty: byId('rooms-empty'),
  roomList: byId<HTMLUListElement>('room-list'),
  roomView: byId('room-view'),
};

const toasts = createToasts(byId('toasts'), byId<HTMLButtonElement>('toast-switch'));
const list = createRoomsList(ui.roomList, (roomId) => select(roomId));
const view = createRoomView(ui.roomView, () => showPane('list', true));

/** Everything that belongs to one token; replaced whole when the token changes. */
interface Session {
  token: string;
  feed: RoomsFeed;
  client: Client | undefined;
  /** The client's last connection change (the indicator reads it). */
  connection: StateChange | undefined;
  watched: Map<string, WatchedRoom>;
  summaries: RoomSummary[];
  reachable: boolean;
  started: boolean;
  expiryTimer: ReturnType<typeof setTimeout> | undefined;
}

let session: Session | undefined;
let selected: string | undefined =
  new URLSearchParams(location.hash.slice(1)).get('room') ?? undefined;
let renderQueued = false;

// ---------------------------------------------------------------------------------------------
// Token

function showTokenForm(message: string) {
  endSession();
  ui.consoleView.hidden = true;
  ui.tools.hidden = true;
  ui.tokenView.hidden = false;
  setText(ui.tokenError, message);
  ui.tokenError.hidden = !message;
  ui.tokenInput.value = '';
  ui.tokenInput.focus();
}

ui.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = ui.tokenInput.value.trim();
  if (!token) {
    setText(ui.tokenError, 'Paste a token first.');
    ui.tokenError.hidden = false;
    return;
  }
  saveToken(token);
  startSession(token);
});

byId('sign-out').addEventListener('click', () => {
  clearToken();
  showTokenForm('');
});

// ---------------------------------------------------------------------------------------------
// Session

function startSession(token: string) {
  endSession();
  const expiresAt = tokenExpiry(token);
  if (expiresAt !== undefined && expiresAt <= Date.now()) {
    clearToken();
    return showTokenForm('This token has expired. Paste a fresh one.');
  }
  const next: Session = {
    token,
    feed: undefined as unknown as RoomsFeed,
    client: undefined,
    connection: undefined,
    watched: new Map(),
    summaries: [],
    reachable: false,
    started: false,
    expiryTimer: undefined,
  };
  if (expiresAt !== undefined) {
    // Past setTimeout's range the poll's 401 tells us instead.
    const left = expiresAt - Date.now();
    if (left < 2 ** 31) next.expiryTimer = setTimeout(() => expired(next), left);
  }
  session = next;
  next.feed = createRoomsFeed({ base, token, onResult: (result) => polled(next, result) });
}

function expired(of: Session) {
  if (session !== of) return;
  clearToken();
  showTokenForm('Your token has expired. Paste a fresh one to carry on.');
}

function endSession() {
  if (!session) return;
  session.feed.stop();
  clearTimeout(session.expiryTimer);
  for (const watched of session.watched.values()) watched.close();
  session.client?.close();
  session = undefined;
}

function polled(of: Session, result: PollResult) {
  if (session !== of) return;
  if (!result.ok && result.reason !== 'unreachable') {
    clearToken();
    return showTokenForm(result.message);
  }
  if (!of.started) {
    of.started = true;
    ui.tokenView.hidden = true;
    ui.consoleView.hidden = false;
    ui.tools.hidden = false;
    showPane(selected && narrow.matches ? 'room' : 'list', false);
  }
  of.reachable = result.ok;
  if (result.ok) of.summaries = result.rooms;
  syncSubscriptions(of);
  scheduleRender();
}

// ---------------------------------------------------------------------------------------------
// Rooms

/** The list lines: polled summaries, made fresher by the subscribed rooms' live state. */
function roomLines(of: Session): RoomLine[] {
  const query = ui.search.value.trim().toLowerCase();
  const lines: (RoomLine & { activity: number })[] = [];
  for (const summary of of.summaries) {
    const watched = of.watched.get(summary.roomId);
    const state = watched?.room.state;
    const peers = state ? peerCount(state) : summary.peers;
    const line: RoomLine & { activity: number } = {
      roomId: summary.roomId,
      peers,
      ...(summary.subscribers === undefined ? {} : { watching: summary.subscribers }),
      live: state ? state.meeting.active || peers > 0 : summary.meetingActive || summary.peers > 0,
      recording: state ? state.recording.active : summary.recordingActive,
      activity: Math.max(summary.updatedAt, watched?.lastEventAt ?? 0),
    };
    const startedAt = state?.meeting.startedAt ?? state?.meeting.earliestAt;
    if (startedAt !== undefined) line.startedAt = startedAt;
    if (query && !matchesQuery(summary.roomId, watched, query)) continue;
    lines.push(line);
  }
  return lines.sort((a, b) => b.activity - a.activity);
}

function matchesQuery(roomId: string, watched: WatchedRoom | undefined, query: string) {
  if (roomId.toLowerCase().includes(query)) return true;
  const peers = Object.keys(watched?.room.state?.peers ?? {});
  return peers.some((id) => watched!.nameOf(id).toLowerCase().includes(query));
}

/** Subscribes to the selected room and the top of the list; lets go of rooms that left it. */
function syncSubscriptions(of: Session) {
  const known = new Set(of.summaries.map((summary) => summary.roomId));
  const wanted = new Set<string>();
  if (selected) wanted.add(selected);
  for (const line of roomLines(of)) {
    if (wanted.size > WATCH_LIST) break;
    if (line.live) wanted.add(line.roomId);
  }
  for (const [roomId, watched] of of.watched) {
    const keep = wanted.has(roomId) || (known.has(roomId) && of.watched.size <= WATCH_MAX);
    if (!keep) {
      watched.close();
      of.watched.delete(roomId);
    }
  }
  for (const roomId of wanted) {
    if (of.watched.has(roomId)) continue;
    of.client ??= connectClient(of);
    of.watched.set(
      roomId,
      watchRoom(of.client, roomId, {
        changed: () => scheduleRender(),
        logged: (id, entry) => {
          if (id === selected) view.prepend(entry);
          scheduleRender();
        },
        joined: (id, name, role) =>
          toasts.show(`${name} joined`, `${id}${role ? ` · ${role}` : ''}`),
        history: (id) => id === selected && view.redrawLog(),
      }),
    );
  }
}

/** The session's client; a token it refuses for good sends the user back to the token form. */
function connectClient(of: Session): Client {
  const client = createClient({ url: base, token: of.token });
  client.on('state', (change) => {
    if (session !== of) return;
    of.connection = change;
    if (
      change.state === 'failed' &&
      (change.code === 'UNAUTHORIZED' || change.code === 'TOKEN_EXPIRED')
    ) {
      clearToken();
      return showTokenForm(`The server refused this token (${change.code}). Paste a fresh one.`);
    }
    scheduleRender();
  });
  return client;
}

function select(roomId: string) {
  selected = roomId;
  history.replaceState(history.state, '', `#room=${encodeURIComponent(roomId)}`);
  if (session) syncSubscriptions(session);
  render();
  if (narrow.matches) showPane('room', true);
}

/** On narrow screens one pane shows at a time; focus follows the pane for keyboard users. */
function showPane(pane: 'list' | 'room', moveFocus: boolean) {
  ui.consoleView.dataset.pane = pane;
  if (!moveFocus) return;
  if (pane === 'room') ui.roomView.focus();
  else ui.roomList.querySelector<HTMLElement>('[aria-current="true"]')?.focus();
}

ui.search.addEventListener('input', () => {
  if (session) syncSubscriptions(session);
  render();
});

// Up / Down move between rooms, as in any list.
ui.roomList.addEventListener('keydown', (event) => {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const buttons = [...ui.roomList.querySelectorAll<HTMLButtonElement>('button')];
  const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
  const next = buttons[index + (event.key === 'ArrowDown' ? 1 : -1)];
  if (next) {
    event.preventDefault();
    next.focus();
  }
});

// ---------------------------------------------------------------------------------------------
// Rendering

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(render, 16);
}

function render() {
  renderQueued = false;
  const of = session;
  if (!of?.started) return;
  const lines = roomLines(of);
  list.render(lines, selected);
  setText(ui.roomCount, String(of.summaries.length));
  ui.roomsEmpty.hidden = lines.length > 0;
  setText(
    ui.roomsEmpty,
    of.summaries.length
      ? 'No room matches the search.'
      : 'No rooms yet. Rooms appear with their first webhook.',
  );

  const watched = selected ? of.watched.get(selected) : undefined;
  view.render(
    selected && watched
      ? {
          roomId: selected,
          state: watched.room.state,
          status: watched.room.status,
          log: watched.log,
          resyncedAt: watched.resyncedAt,
          nameOf: watched.nameOf,
        }
      : undefined,
  );
  renderConnection(of);
  tick();
}

/** The connection indicator: the client's own state (the room list's poll before it exists). */
function renderConnection(of: Session) {
  const state = of.client?.state;
  const rooms = [...of.watched.values()].map((watched) => watched.room.status);
  const settling = rooms.some((s) => s === 'connecting' || s === 'resyncing');
  const status =
    state === 'failed'
      ? 'failed'
      : state === 'reconnecting' || (state === undefined && !of.reachable)
        ? 'offline'
        : state === 'connecting' || settling
          ? 'connecting'
          : 'live';
  const text = {
    failed: `Refused: ${of.connection?.code ?? 'error'}`,
    offline: 'Reconnecting…',
    connecting: 'Connecting…',
    live: 'Live',
  }[status];
  setText(ui.conn, text);
  setAttrs(ui.conn, { 'data-status': status, title: of.connection?.reason ?? '' });
}

/** Every ticking duration on the page (`data-since` = start in ms). */
function tick() {
  const now = Date.now();
  for (const element of document.querySelectorAll<HTMLElement>('[data-since]')) {
    setText(element, formatElapsed(now - Number(element.dataset.since)));
  }
}
setInterval(tick, 1000);

addEventListener('online', () => session?.feed.refresh());
addEventListener(
  'visibilitychange',
  () => document.visibilityState === 'visible' && session?.feed.refresh(),
);

// ---------------------------------------------------------------------------------------------
// Start

const token = takeToken();
if (token) startSession(token);
else showTokenForm('');

// A console link pasted into an open tab changes only the fragment: no reload, so read it here.
addEventListener('hashchange', () => {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const room = fragment.get('room');
  if (fragment.has('token')) {
    const fresh = takeToken();
    if (room) selected = room;
    if (fresh) startSession(fresh);
  } else if (room && room !== selected) {
    select(room);
  }
});
