/**
 * The leading side of tab sharing: one real client for the union of every tab's rooms, each
 * room's frames and status sent on to the tabs. Runs in the tab holding the Web Lock
 * (share-tabs.ts) or in a SharedWorker (share-worker.ts); both speak the messages below.
 */
import type { Client, ClientOptions, StateChange } from './client.ts';
import type { EventFrame } from '@roomcast/shared';
import type { CachedRoom, Room, RoomFrame } from './room.ts';

/** What travels between the tabs (and the worker). */
export type Message =
  /** A tab's rooms (all of them, each time), and those it wants occupancy of. */
  | { t: 'hold'; tab: string; rooms: string[]; occupancy: string[] }
  /** A tab is leaving. */
  | { t: 'bye'; tab: string }
  /** A new leader asks every tab for its rooms. */
  | { t: 'ask' }
  /** Leader → tabs: a server frame of a room (events, errors, occupancy). */
  | { t: 'frame'; frame: RoomFrame }
  /** Leader → tabs: where a room stands (on each status change, and for a new holder). */
  | {
      t: 'sync';
      room: string;
      status: Room['status'];
      recovered: boolean;
      at?: CachedRoom;
      occupancy?: number;
    }
  /** Leader → tabs: the connection state. */
  | { t: 'state'; change: StateChange }
  /** Tab → leader: a new token (or the one the worker asked for), or reconnect. */
  | { t: 'token'; token: string }
  | { t: 'reconnect' }
  /** Tab → worker: the client's options (the plain values: no functions, no objects). */
  | { t: 'init'; options: Partial<ClientOptions> }
  /** Worker → a tab: the worker's client needs a token (the tab answers with `token`). */
  | { t: 'need-token' };

/** What one tab holds: its rooms, and those it wants occupancy of. */
export type Hold = Pick<Extract<Message, { t: 'hold' }>, 'rooms' | 'occupancy'>;

/** The leader, fed with the tabs' messages. */
export interface Leader {
  hear(message: Message): void;
}

/**
 * Leads with `client`, telling every tab (this one included, if it has rooms) through `send`.
 * `holds` starts with what is known already (the leading tab's own rooms).
 */
export function createLeader(
  client: Client,
  send: (message: Message) => void,
  holds = new Map<string, Hold>(),
): Leader {
  const rooms = new Map<string, Room>();

  /** The real rooms: the union of every tab's, occupancy where any tab asked. */
  function follow() {
    const all = [...holds.values()];
    const wanted = new Set(all.flatMap((hold) => hold.rooms));
    const counted = new Set(all.flatMap((hold) => hold.occupancy));
    for (const [id, room] of rooms) {
      if (wanted.has(id)) continue;
      rooms.delete(id);
      room.close();
    }
    for (const id of wanted) {
      const room = rooms.get(id);
      const occupancy = counted.has(id);
      if (!room) forward(id, occupancy);
      else if (occupancy && room.occupancy === undefined) {
        // The client upgrades a held room to occupancy; the extra hold is let go at once.
        client.room(id, { occupancy }).close();
      }
    }
  }

  /** The real room for `id`, forwarded to every tab. */
  function forward(id: string, occupancy: boolean) {
    const room = client.room(id, { occupancy });
    rooms.set(id, room);
    room.on('occupancy', (subscribers) =>
      send({ t: 'frame', frame: { type: 'occupancy', room: id, subscribers } }),
    );
    room.on('*', ({ event, payload, meta }) =>
      // `event` and `payload` come from one AnyEvent: they agree, though TS cannot see it here.
      send({ t: 'frame', frame: { type: 'event', ...meta, event, payload } as EventFrame }),
    );
    room.on('error', ({ code, message }) =>
      send({ t: 'frame', frame: { type: 'error', room: id, code, message } }),
    );
    room.on('status', () => announce(room));
    room.on('resync', () => announce(room));
  }

  function announce(room: Room) {
    const since = room.since();
    const at = since && room.state ? { since, state: room.state } : undefined;
    const { id, status, recovered, occupancy } = room;
    send({ t: 'sync', room: id, status, recovered, at, occupancy });
  }

  client.on('state', (change) => send({ t: 'state', change }));
  follow();

  return {
    hear(message) {
      if (message.t === 'hold') {
        holds.set(message.tab, { rooms: message.rooms, occupancy: message.occupancy });
        // A tab that just came knows nothing yet of the connection.
        const { state: now, transport: on } = client;
        send({ t: 'state', change: { state: now, previous: now, transport: on } });
      } else if (message.t === 'bye') holds.delete(message.tab);
      else if (message.t === 'token') return client.setToken(message.token);
      else if (message.t === 'reconnect') return client.reconnect();
      else return;
      follow();
      if (message.t !== 'hold') return;
      for (const id of message.rooms) {
        const room = rooms.get(id);
        if (room) announce(room);
      }
    },
  };
}
