/**
 * @roomcast/client/share-tabs: one server connection for every tab of an origin (opt-in).
 * `createSharedClient({ url, getToken })` takes the same options as createClient. One tab, the
 * leader (a Web Lock), runs the real client for the union of every tab's rooms; each tab keeps
 * its own copy of its rooms, fed over a BroadcastChannel. When the leader closes, the lock
 * passes to another tab, which resumes every room from the position its own copy holds: the
 * server replays what the gap missed, and each copy drops what it already has (by seq).
 * Where Web Locks or BroadcastChannel are missing, it is a plain createClient.
 *
 * Not done here: a SharedWorker host (the app would have to serve the worker script).
 */
import { createClient } from './client.ts';
import type { Client, ClientOptions, ConnectionState, StateChange } from './client.ts';
import { createRoom } from './room.ts';
import type { CachedRoom, Room, RoomFeed, RoomOptions } from './room.ts';

/** What one tab holds: its rooms, and those it wants occupancy of. */
type Hold = Pick<Extract<Message, { t: 'hold' }>, 'rooms' | 'occupancy'>;

/** What travels between the tabs. */
type Message =
  /** A tab's rooms (all of them, each time), and those it wants occupancy of. */
  | { t: 'hold'; tab: string; rooms: string[]; occupancy: string[] }
  /** A tab is leaving. */
  | { t: 'bye'; tab: string }
  /** A new leader asks every tab for its rooms. */
  | { t: 'ask' }
  /** Leader → tabs: a server frame of a room (events, errors). */
  | { t: 'frame'; frame: Record<string, unknown> }
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
  /** Tab → leader: a new token, or reconnect. */
  | { t: 'token'; token: string }
  | { t: 'reconnect' };

/** Creates a client whose tabs share one connection (see the module comment). */
export function createSharedClient(options: ClientOptions): Client {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks || typeof BroadcastChannel === 'undefined') return createClient(options);
  const name = `roomcast:${options.url}`;
  const channel = new BroadcastChannel(name);
  const tab = Math.random().toString(36).slice(2);
  const mirrors = new Map<string, RoomFeed>();
  const holders = new Map<RoomFeed, number>();
  const stateHandlers = new Set<(change: StateChange) => void>();
  let state: ConnectionState = 'idle';
  let transport: 'websocket' | 'sse' = options.transport === 'sse' ? 'sse' : 'websocket';
  let closed = false;
  let releaseLock: (() => void) | undefined;
  /** The leader's side: the real client and every tab's rooms. */
  let leader: { client: Client; holds: Map<string, Hold>; rooms: Map<string, Room> } | undefined;

  const post = (message: Message) => channel.postMessage(message);
  const mine = (): Hold => ({
    rooms: [...mirrors.keys()],
    occupancy: [...mirrors.values()].filter((m) => m.wantsOccupancy).map((m) => m.id),
  });
  const holdMine = (): Message => ({ t: 'hold', tab, ...mine() });
  /** Delivers to this tab and to the others (a channel does not hear itself). */
  function broadcast(message: Message) {
    receive(message);
    post(message);
  }

  function receive(message: Message) {
    if (message.t === 'frame') {
      mirrors.get(message.frame.room as string)?.applyFrame(message.frame);
    } else if (message.t === 'sync') {
      sync(message);
    } else if (message.t === 'state') {
      const { change } = message;
      transport = change.transport;
      if (change.state !== state) {
        state = change.state;
        for (const handler of stateHandlers) handler({ ...change });
      }
    } else if (leader) lead(message);
  }

  /** A room's copy catches up with the leader's. */
  function sync({ room: id, status, recovered, at, occupancy }: Extract<Message, { t: 'sync' }>) {
    const mirror = mirrors.get(id);
    if (!mirror) return;
    // A tab that just came hears the count the leader already has, not only the next change.
    if (occupancy !== undefined && occupancy !== mirror.occupancy) {
      mirror.applyFrame({ type: 'occupancy', room: id, subscribers: occupancy });
    }
    const since = mirror.since();
    if (at && !since) mirror.restore(at);
    else if (at && since?.split(':')[0] !== at.since.split(':')[0]) {
      const [epoch, seq] = at.since.split(':');
      mirror.applyFrame({ type: 'snapshot', room: id, epoch, seq: Number(seq), state: at.state });
    }
    if (status === 'live') mirror.applyFrame({ type: 'subscribed', room: id, recovered });
    else mirror.setStatus(status);
  }

  /** The leader hears the tabs. */
  function lead(message: Message) {
    const own = leader!;
    if (message.t === 'hold') {
      own.holds.set(message.tab, { rooms: message.rooms, occupancy: message.occupancy });
      // A tab that just came knows nothing yet of the connection.
      const { state: now, transport: on } = own.client;
      post({ t: 'state', change: { state: now, previous: now, transport: on } });
    } else if (message.t === 'bye') own.holds.delete(message.tab);
    else if (message.t === 'token') return own.client.setToken(message.token);
    else if (message.t === 'reconnect') return own.client.reconnect();
    else if (message.t === 'ask') return;
    follow();
    if (message.t !== 'hold') return;
    for (const id of message.rooms) {
      const room = own.rooms.get(id);
      if (room) announce(room);
    }
  }

  /** The leader's real rooms: the union of every tab's, occupancy where any tab asked. */
  function follow() {
    const own = leader!;
    const holds = [...own.holds.values()];
    const wanted = new Set(holds.flatMap((hold) => hold.rooms));
    const counted = new Set(holds.flatMap((hold) => hold.occupancy));
    for (const [id, room] of own.rooms) {
      if (wanted.has(id)) continue;
      own.rooms.delete(id);
      room.close();
    }
    for (const id of wanted) {
      const room = own.rooms.get(id);
      const occupancy = counted.has(id);
      if (!room) forward(id, occupancy);
      else if (occupancy && room.occupancy === undefined) {
        // The client upgrades a held room to occupancy; the extra hold is let go at once.
        own.client.room(id, { occupancy }).close();
      }
    }
  }

  /** The leader's real room for `id`, forwarded to every tab. */
  function forward(id: string, occupancy: boolean) {
    const own = leader!;
    const room = own.client.room(id, { occupancy });
    own.rooms.set(id, room);
    room.on('occupancy', (subscribers) =>
      broadcast({ t: 'frame', frame: { type: 'occupancy', room: id, subscribers } }),
    );
    room.on('*', ({ event, payload, meta }) =>
      broadcast({ t: 'frame', frame: { type: 'event', ...meta, event, payload } }),
    );
    room.on('error', ({ code, message }) =>
      broadcast({ t: 'frame', frame: { type: 'error', room: id, code, message } }),
    );
    room.on('status', () => announce(room));
    room.on('resync', () => announce(room));
  }

  function announce(room: Room) {
    const since = room.since();
    const at = since && room.state ? { since, state: room.state } : undefined;
    const { id, status, recovered, occupancy } = room;
    broadcast({ t: 'sync', room: id, status, recovered, at, occupancy });
  }

  channel.onmessage = (event: MessageEvent<Message>) => {
    if (event.data.t === 'ask') post(holdMine());
    receive(event.data);
  };

  // Whoever holds the lock leads; the lock passes on when its tab goes.
  void locks.request(name, () => {
    if (closed) return undefined;
    const client = createClient({
      ...options,
      // Each room resumes from where this tab's copy of it stands: nothing missed, nothing twice.
      cache: {
        load: (id) => {
          const mirror = mirrors.get(id);
          const since = mirror?.since();
          return since && mirror!.state ? { since, state: mirror!.state } : undefined;
        },
        save: () => undefined,
      },
    });
    leader = { client, holds: new Map([[tab, mine()]]), rooms: new Map() };
    client.on('state', (change) => broadcast({ t: 'state', change }));
    follow();
    post({ t: 'ask' });
    return new Promise<void>((resolve) => (releaseLock = resolve));
  });

  const host = {
    release(room: RoomFeed) {
      if (!holders.has(room)) return;
      const left = holders.get(room)! - 1;
      holders.set(room, left);
      if (left > 0) return;
      setTimeout(() => {
        if (holders.get(room)! > 0) return;
        holders.delete(room);
        mirrors.delete(room.id);
        room.setStatus('closed');
        broadcast(holdMine());
      });
    },
    refused(room: RoomFeed) {
      holders.delete(room);
      mirrors.delete(room.id);
      broadcast(holdMine());
    },
    // Any tab reads history itself: a plain request, not a connection.
    async history(id: string, limit: number) {
      const token = options.token ?? (await options.getToken?.()) ?? '';
      const base = options.url.replace(/\/+$/, '');
      const response = await fetch(
        `${base}/rooms/${encodeURIComponent(id)}/history?limit=${limit}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      const body = await response.json();
      if (!response.ok) throw Object.assign(new Error(body.error?.message), body.error);
      return body;
    },
  };

  addEventListener('pagehide', () => post({ t: 'bye', tab }));

  return {
    room(id, roomOptions: RoomOptions = {}) {
      let mirror = mirrors.get(id);
      if (!mirror) {
        mirror = createRoom(id, host, roomOptions);
        mirrors.set(id, mirror);
        broadcast(holdMine());
      } else if (roomOptions.occupancy && !mirror.wantsOccupancy) {
        mirror.wantsOccupancy = true;
        broadcast(holdMine());
      }
      holders.set(mirror, (holders.get(mirror) ?? 0) + 1);
      return mirror;
    },
    get: (id) => mirrors.get(id),
    get state() {
      return state;
    },
    on(_name, handler) {
      stateHandlers.add(handler);
      return () => void stateHandlers.delete(handler);
    },
    get transport() {
      return transport;
    },
    reconnect: () => (leader ? leader.client.reconnect() : post({ t: 'reconnect' })),
    setToken: (token) => (leader ? leader.client.setToken(token) : post({ t: 'token', token })),
    close() {
      closed = true;
      post({ t: 'bye', tab });
      leader?.client.close();
      releaseLock?.();
      channel.close();
      for (const mirror of mirrors.values()) mirror.setStatus('closed');
      mirrors.clear();
      state = 'closed';
    },
  };
}
