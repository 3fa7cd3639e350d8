/**
 * The selected room: who is in it (name, role, browser and device, country, time in the room,
 * tracks), the recording and its files, the connection status with a "resynced" note after a
 * gap, and the live event log with its filter. The frame is built once per room; its parts are
 * redrawn only when their slice of the state changed (the reducer shares unchanged parts), so
 * focus on the filter, a link or the back button survives live updates.
 */
import type {
  PeerState,
  ReconnectingPeer,
  RecordingState,
  RoomState,
  RoomStatus,
} from '@roomcast/client';
import { h, replaceChildren, setAttrs, setText } from './dom.ts';
import type { EventLog, LogEntry } from './event-log.ts';
import { LOG_FILTERS, filterLabel, logItem, matches } from './event-log.ts';
import {
  browserText,
  countryName,
  deviceText,
  formatBytes,
  formatClock,
  formatElapsed,
  formatMinutes,
  hashOf,
  initials,
} from './format.ts';
import { trackIcon } from './icons.ts';

/** What the view shows of one room. */
export interface RoomModel {
  roomId: string;
  state: RoomState | undefined;
  status: RoomStatus | 'not-watched';
  log: EventLog;
  /** When the last snapshot replaced the state after a gap (ms). */
  resyncedAt?: number;
  /** A peer's display name. */
  nameOf(peerId: string): string;
}

/** The room view. */
export interface RoomView {
  /** Shows a room (or the empty hint); redraws what changed. */
  render(model: RoomModel | undefined): void;
  /** Adds a fresh log line at the top (when it passes the filter). */
  prepend(entry: LogEntry): void;
  /** Draws the log again (earlier lines were added below). */
  redrawLog(): void;
}

const STATUS_TEXT: Record<RoomModel['status'], string> = {
  connecting: 'Connecting…',
  live: 'Live',
  resyncing: 'Resyncing…',
  closed: 'Not watched',
  'not-watched': 'Not watched',
};
const SHOWN_LOG = 200;
const AVATAR_COLOURS = 8;

/** Binds the `<section>`; `onBack` returns to the list on narrow screens. */
export function createRoomView(section: HTMLElement, onBack: () => void): RoomView {
  let current: string | undefined;
  let filter = 'all';
  let peersShown: RoomState['peers'] | undefined;
  let reconnectingShown: RoomState['reconnecting'];
  let recordingShown: RecordingState | undefined | null = null;
  let parts: ReturnType<typeof frame> | undefined;

  function frame(roomId: string) {
    const status = h('span', { class: 'sub-status', id: 'room-status', role: 'status' });
    const facts = h('p', { class: 'room-facts' });
    const notice = h('p', { class: 'notice', id: 'resync-note', role: 'status' });
    const peerCount = h('span', { class: 'count' });
    const peerList = h('ul', { class: 'peer-list', id: 'peer-list' });
    const noPeers = h('p', { class: 'empty' }, 'Nobody is in this room right now.');
    const recording = h('div', { class: 'recording-body', id: 'recording' });
    const select = h('select', { id: 'log-filter' });
    for (const value of LOG_FILTERS) select.append(h('option', { value }, filterLabel(value)));
    select.value = filter;
    select.addEventListener('change', () => {
      filter = select.value;
      drawLog();
    });
    const logList = h('ol', {
      class: 'log-list',
      id: 'event-log',
      'aria-label': 'Events, newest first',
      // It scrolls once the history fills it: keyboard users must be able to reach it.
      tabindex: '0',
    });
    const noLog = h(
      'p',
      { class: 'empty' },
      'Events show here as they happen, from when this page began watching the room.',
    );

    replaceChildren(
      section,
      h(
        'header',
        { class: 'room-head' },
        h('button', { type: 'button', class: 'back ghost', onclick: onBack }, '← All rooms'),
        h('div', { class: 'room-title-row' }, h('h2', { id: 'room-title' }, roomId), status),
        facts,
      ),
      notice,
      h(
        'div',
        { class: 'room-grid' },
        h(
          'section',
          { class: 'card peers-card', 'aria-labelledby': 'peers-title' },
          h('h3', { id: 'peers-title' }, 'People ', peerCount),
          h(
            'div',
            { class: 'peer-columns', 'aria-hidden': 'true' },
            h('span', {}, 'Name'),
            h('span', {}, 'Role'),
            h('span', {}, 'Device'),
            h('span', {}, 'In room'),
            h('span', {}, 'Tracks'),
          ),
          peerList,
          noPeers,
        ),
        h(
          'section',
          { class: 'card recording-card', 'aria-labelledby': 'recording-title' },
          h('h3', { id: 'recording-title' }, 'Recording'),
          recording,
        ),
        h(
          'section',
          { class: 'card log-card', 'aria-labelledby': 'log-title' },
          h(
            'div',
            { class: 'card-head' },
            h('h3', { id: 'log-title' }, 'Event log'),
            h(
              'label',
              { class: 'filter' },
              h('span', { class: 'visually-hidden' }, 'Show'),
              select,
            ),
          ),
          logList,
          noLog,
        ),
      ),
    );
    section.setAttribute('aria-labelledby', 'room-title');
    return { status, facts, notice, peerCount, peerList, noPeers, recording, logList, noLog };
  }

  let model: RoomModel | undefined;

  function drawLog() {
    if (!parts || !model) return;
    const shown = model.log.entries.filter((entry) => matches(entry, filter));
    replaceChildren(parts.logList, ...shown.slice(-SHOWN_LOG).reverse().map(logItem));
    parts.noLog.hidden = shown.length > 0;
  }

  function drawFacts(state: RoomState | undefined) {
    if (!parts) return;
    const meeting = state?.meeting;
    const peers = state ? Object.keys(state.peers).length : 0;
    const since = meeting?.startedAt ?? meeting?.earliestAt;
    replaceChildren(
      parts.facts,
      meeting?.active
        ? h(
            'span',
            { class: 'badge badge-live' },
            'Meeting live',
            since !== undefined &&
              h(
                'span',
                { class: 'badge-time', 'data-since': String(since) },
                formatElapsed(Date.now() - since),
              ),
          )
        : h(
            'span',
            { class: 'badge badge-idle' },
            meeting?.endedAt ? 'Meeting ended' : 'No meeting',
          ),
      h('span', { class: 'fact' }, `${peers} ${peers === 1 ? 'person' : 'people'}`),
      state?.recording.active && h('span', { class: 'badge badge-rec' }, 'REC'),
      state &&
        state.updatedAt > 0 &&
        h('span', { class: 'fact' }, `last event ${formatClock(state.updatedAt)}`),
    );
  }

  function drawPeers(state: RoomState | undefined) {
    if (!parts || !model) return;
    // A peer inside its presence grace keeps its row (marked reconnecting): a blip never flaps.
    const peers: (PeerState | ReconnectingPeer)[] = [
      ...Object.values(state?.peers ?? {}),
      ...Object.values(state?.reconnecting ?? {}),
    ].sort((a, b) => a.joinedAt - b.joinedAt);
    setText(parts.peerCount, String(peers.length));
    replaceChildren(parts.peerList, ...peers.map((peer) => peerItem(peer, model!.nameOf(peer.id))));
    parts.noPeers.hidden = peers.length > 0;
  }

  function drawRecording(recording: RecordingState | undefined) {
    if (!parts) return;
    const files = recording?.files ?? [];
    const streams = recording?.streams ?? [];
    replaceChildren(
      parts.recording,
      h(
        'p',
        { class: 'recording-state' },
        recording?.active
          ? h('span', { class: 'badge badge-rec' }, 'Recording')
          : h(
              'span',
              { class: 'badge badge-idle' },
              recording?.id ? 'Recording ended' : 'Not recording',
            ),
        streams.length > 0 && h('span', { class: 'fact' }, `${streams.length} stream(s)`),
      ),
      files.length > 0 &&
        h(
          'ul',
          { class: 'file-list' },
          ...files.map((file) =>
            h(
              'li',
              {},
              safeLink(file.location)
                ? h(
                    'a',
                    { href: file.location, rel: 'noopener noreferrer', target: '_blank' },
                    file.filename,
                  )
                : h('span', {}, file.filename),
              h(
                'span',
                { class: 'fact' },
                `${formatMinutes(file.duration)} · ${formatBytes(file.size)}`,
              ),
            ),
          ),
        ),
      recording?.ipfsUrl && safeLink(recording.ipfsUrl)
        ? h(
            'p',
            {},
            h(
              'a',
              { href: recording.ipfsUrl, rel: 'noopener noreferrer', target: '_blank' },
              'IPFS copy',
            ),
          )
        : false,
    );
  }

  return {
    render(next) {
      model = next;
      if (!next) {
        current = undefined;
        parts = undefined;
        section.removeAttribute('aria-labelledby');
        replaceChildren(
          section,
          h(
            'div',
            { class: 'room-placeholder' },
            h('h2', {}, 'Pick a room'),
            h(
              'p',
              {},
              'Choose a room on the left to see who is in it and what happens there, live.',
            ),
          ),
        );
        return;
      }
      if (next.roomId !== current) {
        current = next.roomId;
        parts = frame(next.roomId);
        peersShown = undefined;
        recordingShown = null;
        drawLog();
      }
      const p = parts!;
      setText(p.status, STATUS_TEXT[next.status]);
      setAttrs(p.status, { 'data-status': next.status });
      setAttrs(section, { 'data-room': next.roomId, 'data-status': next.status });
      if (next.resyncedAt !== undefined) {
        setText(
          p.notice,
          `Resynced at ${formatClock(next.resyncedAt)}: the connection had a gap the history could not fill, so the room was reloaded from a fresh snapshot. Events during the gap are not in the log.`,
        );
        p.notice.hidden = false;
      } else {
        p.notice.hidden = true;
      }
      drawFacts(next.state);
      const peers = next.state?.peers;
      const reconnecting = next.state?.reconnecting;
      if (peers !== peersShown || reconnecting !== reconnectingShown || peers === undefined) {
        peersShown = peers;
        reconnectingShown = reconnecting;
        drawPeers(next.state);
      }
      const recording = next.state?.recording;
      if (recording !== recordingShown) {
        recordingShown = recording;
        drawRecording(recording);
      }
    },
    redrawLog: drawLog,
    prepend(entry) {
      if (!parts || !matches(entry, filter)) return;
      parts.logList.prepend(logItem(entry));
      while (parts.logList.children.length > SHOWN_LOG) parts.logList.lastElementChild?.remove();
      parts.noLog.hidden = true;
    },
  };
}

function safeLink(url: string | undefined): url is string {
  return typeof url === 'string' && /^https?:\/\//i.test(url);
}

function peerItem(peer: PeerState | ReconnectingPeer, name: string): HTMLLIElement {
  const leftAt = 'leftAt' in peer ? peer.leftAt : undefined;
  const browser = browserText(peer);
  const device = deviceText(peer);
  const country = peer.geoData?.country;
  // Country and id share the line under the name: the id is for support, so it may be cut.
  const where = [country && countryName(country), name !== peer.id && peer.id].filter(Boolean);
  return h(
    'li',
    {
      class: leftAt === undefined ? 'peer' : 'peer peer-reconnecting',
      'data-peer': peer.id,
    },
    h(
      'span',
      { class: `avatar avatar-${hashOf(peer.id) % AVATAR_COLOURS}`, 'aria-hidden': 'true' },
      initials(name),
    ),
    h(
      'span',
      { class: 'peer-who' },
      h('span', { class: 'peer-name', title: name }, name),
      where.length > 0 &&
        h('span', { class: 'peer-where', title: peer.geoData?.region }, where.join(' · ')),
    ),
    h('span', { class: 'peer-role' }, peer.role ? h('span', { class: 'role' }, peer.role) : ''),
    h(
      'span',
      { class: 'peer-device' },
      h('span', {}, browser ?? 'Unknown browser'),
      device && h('span', { class: 'fact' }, device),
    ),
    leftAt === undefined
      ? h(
          'span',
          {
            class: 'peer-time',
            'data-since': String(peer.joinedAt),
            title: `joined at ${formatClock(peer.joinedAt)}`,
          },
          formatElapsed(Date.now() - peer.joinedAt),
        )
      : h(
          'span',
          { class: 'peer-time peer-away', title: `left at ${formatClock(leftAt)}` },
          'reconnecting…',
        ),
    h(
      'span',
      { class: 'tracks' },
      ...(peer.tracks.length > 0
        ? peer.tracks.map(trackIcon)
        : [
            h('span', { class: 'fact', 'aria-hidden': 'true' }, '—'),
            h('span', { class: 'visually-hidden' }, 'no tracks'),
          ]),
    ),
  );
}
