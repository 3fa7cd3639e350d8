/**
 * The selected room: its header (room-header.ts), who is in it (peer-list.ts), the recording
 * (recording-card.ts) and the live event log (log-card.ts). The frame is built once per room;
 * its parts are redrawn only when their slice of the state changed (the reducer shares
 * unchanged parts), so focus on the filter, a link or the back button survives live updates.
 */
import type { RecordingState, RoomState, RoomStatus } from '@roomcast/client';
import { h, replaceChildren, setAttrs } from './dom.ts';
import type { EventLog, LogEntry } from './event-log.ts';
import { createLogCard } from './log-card.ts';
import type { LogCard, LogFilter } from './log-card.ts';
import { createPeerList } from './peer-list.ts';
import type { PeerList } from './peer-list.ts';
import { createRecordingCard } from './recording-card.ts';
import type { RecordingCard } from './recording-card.ts';
import { createRoomHeader } from './room-header.ts';
import type { RoomHeader } from './room-header.ts';

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

/** The parts of one room's frame, and the slices of state they last drew. */
interface Frame {
  roomId: string;
  header: RoomHeader;
  peers: PeerList;
  recording: RecordingCard;
  log: LogCard;
  peersShown: RoomState['peers'] | undefined;
  reconnectingShown: RoomState['reconnecting'] | undefined;
  /** `null`: never drawn (undefined is a state: no recording). */
  recordingShown: RecordingState | undefined | null;
}

/** Binds the `<section>`; `onBack` returns to the list on narrow screens. */
export function createRoomView(section: HTMLElement, onBack: () => void): RoomView {
  const filter: LogFilter = { value: 'all' };
  let model: RoomModel | undefined;
  let frame: Frame | undefined;

  function buildFrame(roomId: string): Frame {
    const built: Frame = {
      roomId,
      header: createRoomHeader(roomId, onBack),
      peers: createPeerList(),
      recording: createRecordingCard(),
      log: createLogCard(filter, () => model?.log),
      peersShown: undefined,
      reconnectingShown: undefined,
      recordingShown: null,
    };
    replaceChildren(
      section,
      built.header.header,
      built.header.notice,
      h('div', { class: 'room-grid' }, built.peers.card, built.recording.card, built.log.card),
    );
    section.setAttribute('aria-labelledby', 'room-title');
    return built;
  }

  function showPlaceholder() {
    section.removeAttribute('aria-labelledby');
    replaceChildren(
      section,
      h(
        'div',
        { class: 'room-placeholder' },
        h('h2', {}, 'Pick a room'),
        h('p', {}, 'Choose a room on the left to see who is in it and what happens there, live.'),
      ),
    );
  }

  return {
    render(next) {
      model = next;
      if (!next) {
        frame = undefined;
        return showPlaceholder();
      }
      if (next.roomId !== frame?.roomId) {
        frame = buildFrame(next.roomId);
        frame.log.draw(next.log);
      }
      setAttrs(section, { 'data-room': next.roomId, 'data-status': next.status });
      frame.header.update(next);
      const peers = next.state?.peers;
      const reconnecting = next.state?.reconnecting;
      if (
        peers !== frame.peersShown ||
        reconnecting !== frame.reconnectingShown ||
        peers === undefined
      ) {
        frame.peersShown = peers;
        frame.reconnectingShown = reconnecting;
        frame.peers.draw(next.state, next.nameOf);
      }
      const recording = next.state?.recording;
      if (recording !== frame.recordingShown) {
        frame.recordingShown = recording;
        frame.recording.draw(recording);
      }
    },
    redrawLog() {
      if (frame && model) frame.log.draw(model.log);
    },
    prepend(entry) {
      frame?.log.prepend(entry);
    },
  };
}
