/**
 * The rooms list, keyed by room id: items are updated in place and only moved when the order
 * changes, so a polled refresh neither flickers nor takes keyboard focus away.
 */
import { h, setAttrs, setText } from './dom.ts';

/** What one line of the list shows. */
export interface RoomLine {
  roomId: string;
  peers: number;
  /** Subscribers watching the room (all nodes), when the server told. */
  watching?: number;
  live: boolean;
  recording: boolean;
  /** Meeting start (ms), when known: the duration ticks from it. */
  startedAt?: number;
}

interface Item {
  li: HTMLLIElement;
  button: HTMLButtonElement;
  peers: HTMLSpanElement;
  watching: HTMLSpanElement;
  duration: HTMLSpanElement;
  rec: HTMLSpanElement;
}

/** The list view. */
export interface RoomsList {
  render(lines: RoomLine[], selected: string | undefined): void;
}

/** Binds the `<ul>`; `onSelect` runs when a room is chosen (click, Enter or Space). */
export function createRoomsList(
  list: HTMLUListElement,
  onSelect: (roomId: string) => void,
): RoomsList {
  const items = new Map<string, Item>();

  function create(roomId: string): Item {
    const peers = h('span', { class: 'room-peers' });
    const watching = h('span', { class: 'room-watching' });
    const duration = h('span', { class: 'room-duration' });
    const rec = h('span', { class: 'badge badge-rec' }, 'REC');
    const button = h(
      'button',
      { type: 'button', class: 'room-item', 'data-room': roomId, onclick: () => onSelect(roomId) },
      h('span', { class: 'room-name' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), roomId),
      h('span', { class: 'room-meta' }, peers, watching, duration, rec),
    );
    return { li: h('li', {}, button), button, peers, watching, duration, rec };
  }

  function update(item: Item, line: RoomLine, selected: boolean) {
    const { peers, live, recording, startedAt } = line;
    setText(item.peers, `${peers} ${peers === 1 ? 'person' : 'people'}`);
    item.watching.hidden = line.watching === undefined;
    setText(item.watching, `${line.watching ?? 0} watching`);
    setAttrs(item.button, {
      'aria-current': selected ? 'true' : undefined,
      'data-state': live ? 'live' : 'ended',
      'data-peers': String(peers),
    });
    item.rec.hidden = !recording;
    if (live && startedAt !== undefined) {
      item.duration.dataset.since = String(startedAt);
      item.duration.hidden = false;
    } else {
      delete item.duration.dataset.since;
      setText(item.duration, live ? 'live' : 'ended');
    }
  }

  return {
    render(lines, selected) {
      const wanted = new Set(lines.map((line) => line.roomId));
      for (const [roomId, item] of items) {
        if (!wanted.has(roomId)) {
          item.li.remove();
          items.delete(roomId);
        }
      }
      const focused = document.activeElement;
      let cursor: Element | null = list.firstElementChild;
      for (const line of lines) {
        let item = items.get(line.roomId);
        if (!item) {
          item = create(line.roomId);
          items.set(line.roomId, item);
        }
        update(item, line, line.roomId === selected);
        if (item.li === cursor) {
          cursor = cursor.nextElementSibling;
        } else {
          list.insertBefore(item.li, cursor);
        }
      }
      // Moving a focused node drops its focus in some browsers: give it back.
      if (
        focused instanceof HTMLElement &&
        focused !== document.activeElement &&
        focused.isConnected
      ) {
        focused.focus({ preventScroll: true });
      }
    },
  };
}
