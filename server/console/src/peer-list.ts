/**
 * The "People" card of the selected room: one row a peer (name, role, browser and device,
 * country, time in the room, tracks). A peer inside its presence grace keeps its row, marked
 * reconnecting, so a blip never makes the list flap.
 */
import type { PeerState, ReconnectingPeer, RoomState } from '@roomcast/client';
import { h, replaceChildren, setText } from './dom.ts';
import {
  browserText,
  countryName,
  deviceText,
  formatClock,
  formatElapsed,
  hashOf,
  initials,
} from './format.ts';
import { trackIcon } from './icons.ts';

/** The people card. */
export interface PeerList {
  /** The card's `<section>`. */
  card: HTMLElement;
  /** Draws every row again from the room's state. */
  draw(state: RoomState | undefined, nameOf: (peerId: string) => string): void;
}

const AVATAR_COLOURS = 8;

/** Builds an empty people card. */
export function createPeerList(): PeerList {
  const count = h('span', { class: 'count' });
  const list = h('ul', { class: 'peer-list', id: 'peer-list' });
  const empty = h('p', { class: 'empty' }, 'Nobody is in this room right now.');
  const card = h(
    'section',
    { class: 'card peers-card', 'aria-labelledby': 'peers-title' },
    h('h3', { id: 'peers-title' }, 'People ', count),
    h(
      'div',
      { class: 'peer-columns', 'aria-hidden': 'true' },
      h('span', {}, 'Name'),
      h('span', {}, 'Role'),
      h('span', {}, 'Device'),
      h('span', {}, 'In room'),
      h('span', {}, 'Tracks'),
    ),
    list,
    empty,
  );
  return {
    card,
    draw(state, nameOf) {
      const peers: (PeerState | ReconnectingPeer)[] = [
        ...Object.values(state?.peers ?? {}),
        ...Object.values(state?.reconnecting ?? {}),
      ].sort((a, b) => a.joinedAt - b.joinedAt);
      setText(count, String(peers.length));
      replaceChildren(list, ...peers.map((peer) => peerItem(peer, nameOf(peer.id))));
      empty.hidden = peers.length > 0;
    },
  };
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
