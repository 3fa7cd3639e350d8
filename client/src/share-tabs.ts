/**
 * @roomcast/client/share-tabs: one server connection for every tab of an origin (opt-in).
 * `createSharedClient({ url, getToken })` takes the same options as createClient. One tab, the
 * leader (a Web Lock), runs the real client for the union of every tab's rooms; each tab keeps
 * its own copy of its rooms, fed over a BroadcastChannel. When the leader closes, the lock
 * passes to another tab, which resumes every room from the position its own copy holds: the
 * server replays what the gap missed, and each copy drops what it already has (by seq).
 * Where Web Locks or BroadcastChannel are missing, it is a plain createClient.
 *
 * With `shareTabs: { worker: url }` (where SharedWorker exists) the real client runs in a
 * SharedWorker instead (`@roomcast/client/share-worker`, served by the app at `url`), so no tab
 * is special: closing any of them never drops the connection. The tabs speak the same messages
 * to it over its port (share-leader.ts).
 */
import type { SnapshotFrame, SubscribedFrame } from '@roomcast/shared';
import { createClient } from './client.ts';
import type { Client, ClientOptions, ConnectionState, StateChange } from './client.ts';
import { createRoom } from './room.ts';
import type { RoomFeed, RoomOptions } from './room.ts';
import { createLeader } from './share-leader.ts';
import type { Hold, Leader, Message } from './share-leader.ts';

/** Creates a client whose tabs share one connection (see the module comment). */
export function createSharedClient(options: ClientOptions): Client {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  const { shareTabs } = options;
  const workerUrl =
    typeof shareTabs === 'object' && typeof SharedWorker !== 'undefined'
      ? shareTabs.worker
      : undefined;
  if (!workerUrl && (!locks || typeof BroadcastChannel === 'undefined')) {
    return createClient(options);
  }
  const name = `roomcast:${options.url}`;
  const tab = Math.random().toString(36).slice(2);
  const mirrors = new Map<string, RoomFeed>();
  const holders = new Map<RoomFeed, number>();
  const stateHandlers = new Set<(change: StateChange) => void>();
  let state: ConnectionState = 'idle';
  let transport: 'websocket' | 'sse' = options.transport === 'sse' ? 'sse' : 'websocket';
  let closed = false;
  let releaseLock: (() => void) | undefined;
  /** The leading side (the real client and every tab's rooms), here while this tab holds the lock. */
  let leader: (Leader & { client: Client }) | undefined;

  // Where the messages go: the worker's port, or the channel every tab of the origin hears.
  const port = workerUrl ? new SharedWorker(workerUrl, { type: 'module', name }).port : undefined;
  const channel = port ? undefined : new BroadcastChannel(name);
  const post = (message: Message) => (port ?? channel)!.postMessage(message);
  const mine = (): Hold => ({
    rooms: [...mirrors.keys()],
    occupancy: [...mirrors.values()].filter((m) => m.wantsOccupancy).map((m) => m.id),
  });
  const holdMine = (): Message => ({ t: 'hold', tab, ...mine() });
  /** Delivers to this tab and to the others (a channel does not hear itself; a worker answers). */
  function broadcast(message: Message) {
    if (!port) receive(message);
    post(message);
  }

  function receive(message: Message) {
    if (message.t === 'frame') {
      mirrors.get(message.frame.room!)?.applyFrame(message.frame);
    } else if (message.t === 'sync') {
      sync(message);
    } else if (message.t === 'state') {
      const { change } = message;
      transport = change.transport;
      if (change.state !== state) {
        state = change.state;
        for (const handler of stateHandlers) handler({ ...change });
      }
    } else leader?.hear(message);
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
      // Frames made here, not heard: of each, room.ts reads only the fields given.
      mirror.applyFrame({
        type: 'snapshot',
        room: id,
        epoch,
        seq: Number(seq),
        state: at.state,
      } as SnapshotFrame);
    }
    if (status === 'live')
      mirror.applyFrame({ type: 'subscribed', room: id, recovered } as SubscribedFrame);
    else mirror.setStatus(status);
  }

  if (port) {
    port.onmessage = async ({ data }: MessageEvent<Message>) => {
      if (data.t !== 'need-token') return receive(data);
      post({ t: 'token', token: (await options.getToken?.()) ?? options.token ?? '' });
    };
    // What the worker's client can be given: the plain values (no functions, no objects).
    const plain = Object.entries(options).filter(([, v]) => /^[sbn]/.test(typeof v));
    post({ t: 'init', options: Object.fromEntries(plain) });
  } else {
    channel!.onmessage = (event: MessageEvent<Message>) => {
      if (event.data.t === 'ask') post(holdMine());
      receive(event.data);
    };
  }

  // Whoever holds the lock leads; the lock passes on when its tab goes.
  void (port
    ? undefined
    : locks!.request(name, () => {
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
        const own = new Map<string, Hold>([[tab, mine()]]);
        leader = Object.assign(createLeader(client, broadcast, own), { client });
        post({ t: 'ask' });
        return new Promise<void>((resolve) => (releaseLock = resolve));
      }));

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
      (port ?? channel)!.close();
      for (const mirror of mirrors.values()) mirror.setStatus('closed');
      mirrors.clear();
      state = 'closed';
    },
  };
}
