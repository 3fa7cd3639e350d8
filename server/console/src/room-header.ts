/**
 * The selected room's header: the back button (narrow screens), the room's name, its
 * subscription status, the meeting facts line, and the "resynced" note under it.
 */
import type { RoomState, RoomStatus } from '@roomcast/client';
import { h, replaceChildren, setAttrs, setText } from './dom.ts';
import { formatClock, formatElapsed } from './format.ts';

/** What the header shows of a room. */
export interface HeaderModel {
  state: RoomState | undefined;
  status: RoomStatus | 'not-watched';
  /** When the last snapshot replaced the state after a gap (ms). */
  resyncedAt?: number | undefined;
}

/** The header of one room (built anew when another room is selected). */
export interface RoomHeader {
  /** The `<header>` element. */
  header: HTMLElement;
  /** The "resynced" note, placed after the header. */
  notice: HTMLElement;
  /** Redraws the status, the facts and the note. */
  update(model: HeaderModel): void;
}

const STATUS_TEXT: Record<HeaderModel['status'], string> = {
  connecting: 'Connecting…',
  live: 'Live',
  resyncing: 'Resyncing…',
  closed: 'Not watched',
  'not-watched': 'Not watched',
};

/** Builds the header of `roomId`; `onBack` returns to the list on narrow screens. */
export function createRoomHeader(roomId: string, onBack: () => void): RoomHeader {
  const status = h('span', { class: 'sub-status', id: 'room-status', role: 'status' });
  const facts = h('p', { class: 'room-facts' });
  const notice = h('p', { class: 'notice', id: 'resync-note', role: 'status' });
  const header = h(
    'header',
    { class: 'room-head' },
    h('button', { type: 'button', class: 'back ghost', onclick: onBack }, '← All rooms'),
    h('div', { class: 'room-title-row' }, h('h2', { id: 'room-title' }, roomId), status),
    facts,
  );
  return {
    header,
    notice,
    update(model) {
      setText(status, STATUS_TEXT[model.status]);
      setAttrs(status, { 'data-status': model.status });
      if (model.resyncedAt !== undefined) {
        setText(
          notice,
          `Resynced at ${formatClock(model.resyncedAt)}: the connection had a gap the history could not fill, so the room was reloaded from a fresh snapshot. Events during the gap are not in the log.`,
        );
        notice.hidden = false;
      } else {
        notice.hidden = true;
      }
      drawFacts(facts, model.state);
    },
  };
}

/** The facts line: meeting live (and for how long) or not, people, REC, last event. */
function drawFacts(facts: HTMLElement, state: RoomState | undefined) {
  const meeting = state?.meeting;
  const peers = state ? Object.keys(state.peers).length : 0;
  const since = meeting?.startedAt ?? meeting?.earliestAt;
  replaceChildren(
    facts,
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
      : h('span', { class: 'badge badge-idle' }, meeting?.endedAt ? 'Meeting ended' : 'No meeting'),
    h('span', { class: 'fact' }, `${peers} ${peers === 1 ? 'person' : 'people'}`),
    state?.recording.active && h('span', { class: 'badge badge-rec' }, 'REC'),
    state &&
      state.updatedAt > 0 &&
      h('span', { class: 'fact' }, `last event ${formatClock(state.updatedAt)}`),
  );
}
