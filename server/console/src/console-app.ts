/**
 * The console app: one object that holds the page's state (the session of the current token,
 * the selected room, a queued redraw) and wires the parts together: the token form, the rooms
 * feed and list with its controls, the watched rooms, the room view, toasts and the connection
 * indicator.
 */
import { createClient } from '@roomcast/client';
import type { Client } from '@roomcast/client';
import { drawConnection } from './connection-indicator.ts';
import type { ConsoleUi } from './console-ui.ts';
import { setText } from './dom.ts';
import { formatElapsed } from './format.ts';
import { bindListControls, searchQuery } from './list-controls.ts';
import { roomLines } from './room-lines.ts';
import { createRoomView } from './room-view.ts';
import { syncWatches } from './room-watches.ts';
import type { PollResult } from './rooms-feed.ts';
import { createRoomsList } from './rooms-list.ts';
import { createSession } from './session.ts';
import type { Session, SessionHandle } from './session.ts';
import { createToasts } from './toasts.ts';
import { createTokenGate } from './token-gate.ts';
import { clearToken, saveToken, takeToken, tokenExpiry } from './token-store.ts';
import { watchRoom } from './watched-room.ts';

/** Where the console runs. */
export interface ConsoleEnv {
  /** The server's base URL: the page's folder (under a plugin prefix the routes live beside it). */
  base: string;
  /** Matches on narrow screens, where one pane shows at a time. */
  narrow: MediaQueryList;
}

/** The page's state: replaced parts, never module globals. */
interface AppState {
  current: SessionHandle | undefined;
  selected: string | undefined;
  renderQueued: boolean;
}

/** Builds the console on `ui` and starts it (with the token in the fragment or storage). */
export function startConsoleApp(ui: ConsoleUi, env: ConsoleEnv): void {
  const state: AppState = {
    current: undefined,
    selected: new URLSearchParams(location.hash.slice(1)).get('room') ?? undefined,
    renderQueued: false,
  };
  const session = () => state.current?.session;

  const toasts = createToasts(ui.toasts, ui.toastSwitch);
  const list = createRoomsList(ui.roomList, (roomId) => select(roomId));
  const view = createRoomView(ui.roomView, () => showPane('list', true));
  const gate = createTokenGate(ui, {
    submitted(token) {
      saveToken(token);
      startSession(token);
    },
    signedOut() {
      clearToken();
      showTokenForm('');
    },
  });

  function showTokenForm(message: string) {
    endSession();
    gate.show(message);
  }

  /** Refused for good (401/403, a token the client cannot use, expiry): back to the form. */
  function refused(message: string) {
    clearToken();
    showTokenForm(message);
  }

  function startSession(token: string) {
    endSession();
    const expiresAt = tokenExpiry(token);
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      return refused('This token has expired. Paste a fresh one.');
    }
    const handle = createSession(
      {
        base: env.base,
        token,
        onResult: polled,
        onExpired: (of) => {
          if (session() === of) refused('Your token has expired. Paste a fresh one to carry on.');
        },
      },
      expiresAt,
    );
    state.current = handle;
    handle.start();
  }

  function endSession() {
    state.current?.close();
    state.current = undefined;
  }

  function polled(of: Session, result: PollResult) {
    if (session() !== of) return;
    if (!result.ok && result.reason !== 'unreachable') return refused(result.message);
    if (!of.started) {
      of.started = true;
      gate.hide();
      showPane(state.selected && env.narrow.matches ? 'room' : 'list', false);
    }
    of.reachable = result.ok;
    if (result.ok) of.summaries = result.rooms;
    syncSubscriptions(of);
    scheduleRender();
  }

  const linesOf = (of: Session) => roomLines(of.summaries, of.watched, searchQuery(ui));

  function syncSubscriptions(of: Session) {
    const known = new Set(of.summaries.map((summary) => summary.roomId));
    syncWatches(of.watched, state.selected, linesOf(of), known, (roomId) =>
      watchRoom((of.client ??= connectClient(of)), roomId, {
        changed: () => scheduleRender(),
        logged: (id, entry) => {
          if (id === state.selected) view.prepend(entry);
          scheduleRender();
        },
        joined: (id, name, role) =>
          toasts.show(`${name} joined`, `${id}${role ? ` · ${role}` : ''}`),
        history: (id) => id === state.selected && view.redrawLog(),
      }),
    );
  }

  /** The session's client; a token it refuses for good sends the user back to the form. */
  function connectClient(of: Session): Client {
    const client = createClient({ url: env.base, token: of.token });
    client.on('state', (change) => {
      if (session() !== of) return;
      of.connection = change;
      if (
        change.state === 'failed' &&
        (change.code === 'UNAUTHORIZED' || change.code === 'TOKEN_EXPIRED')
      ) {
        return refused(`The server refused this token (${change.code}). Paste a fresh one.`);
      }
      scheduleRender();
    });
    return client;
  }

  function select(roomId: string) {
    state.selected = roomId;
    history.replaceState(history.state, '', `#room=${encodeURIComponent(roomId)}`);
    const of = session();
    if (of) syncSubscriptions(of);
    render();
    if (env.narrow.matches) showPane('room', true);
  }

  /** On narrow screens one pane shows at a time; focus follows the pane for keyboard users. */
  function showPane(pane: 'list' | 'room', moveFocus: boolean) {
    ui.consoleView.dataset.pane = pane;
    if (!moveFocus) return;
    if (pane === 'room') ui.roomView.focus();
    else ui.roomList.querySelector<HTMLElement>('[aria-current="true"]')?.focus();
  }

  function scheduleRender() {
    if (state.renderQueued) return;
    state.renderQueued = true;
    setTimeout(render, 16);
  }

  function render() {
    state.renderQueued = false;
    const of = session();
    if (!of?.started) return;
    const lines = linesOf(of);
    list.render(lines, state.selected);
    setText(ui.roomCount, String(of.summaries.length));
    ui.roomsEmpty.hidden = lines.length > 0;
    setText(
      ui.roomsEmpty,
      of.summaries.length
        ? 'No room matches the search.'
        : 'No rooms yet. Rooms appear with their first webhook.',
    );
    const { selected } = state;
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
    drawConnection(ui.conn, of);
    tick();
  }

  bindListControls(ui, () => {
    const of = session();
    if (of) syncSubscriptions(of);
    render();
  });

  setInterval(tick, 1000);
  addEventListener('online', () => session()?.feed.refresh());
  addEventListener(
    'visibilitychange',
    () => document.visibilityState === 'visible' && session()?.feed.refresh(),
  );

  // A console link pasted into an open tab changes only the fragment: no reload, so read it here.
  addEventListener('hashchange', () => {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const room = fragment.get('room');
    if (fragment.has('token')) {
      const fresh = takeToken();
      if (room) state.selected = room;
      if (fresh) startSession(fresh);
    } else if (room && room !== state.selected) {
      select(room);
    }
  });

  const token = takeToken();
  if (token) startSession(token);
  else showTokenForm('');
}

/** Every ticking duration on the page (`data-since` = start in ms). */
function tick() {
  const now = Date.now();
  for (const element of document.querySelectorAll<HTMLElement>('[data-since]')) {
    setText(element, formatElapsed(now - Number(element.dataset.since)));
  }
}
