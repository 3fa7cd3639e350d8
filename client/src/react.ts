/**
 * @roomcast/client/react: React bindings for a roomcast client. React is an optional peer
 * dependency: only this entry imports it, the core (`@roomcast/client`) never does.
 *
 * ```ts
 * const client = createClient({ url, getToken });
 * createElement(RoomcastProvider, { client }, createElement(App));
 * // in a component:
 * const { state, status } = useRoom('standup');
 * useRoomEvent('standup', 'peer:joined', (peer) => toast(`${peer.id} joined`));
 * const { state: connection, code } = useConnection();
 * ```
 *
 * Rooms are held while a component that uses them is mounted and let go on unmount (the client
 * counts holders; Strict Mode's unmount-and-mount keeps the subscription).
 */
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useLayoutEffect,
  useRef,
  useSyncExternalStore,
} from 'react';
import type { ReactNode } from 'react';
import type { Client, ConnectionState, StateChange } from './client.ts';
import type { AnyEvent, EventMeta, Room, RoomStatus } from './room.ts';
import type { RoomState } from '@roomcast/shared/room-state';
import type { EventName, EventPayloads } from '@roomcast/shared';

const ClientContext = createContext<Client | undefined>(undefined);

/** Props of RoomcastProvider. */
export interface RoomcastProviderProps {
  /** The client every hook below this provider uses (create it once, outside render). */
  client: Client;
  children?: ReactNode;
}

/** Makes `client` available to `useRoom`, `useRoomEvent` and `useConnection` in the tree below. */
export function RoomcastProvider({ client, children }: RoomcastProviderProps) {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The client given to the nearest RoomcastProvider. Throws outside one. */
export function useRoomcastClient(): Client {
  const client = useContext(ClientContext);
  if (!client) throw new Error('roomcast: the roomcast hooks need a <RoomcastProvider client>');
  return client;
}

/** What `useRoom` returns; a new object only when one of its fields changes. */
export interface RoomView {
  /** The room state; undefined until the first snapshot. */
  state: RoomState | undefined;
  status: RoomStatus;
  /** The last event applied, if any. */
  lastEvent: AnyEvent | undefined;
}

/** What a room looks like before its subscription exists (the first render). */
const PENDING: RoomView = { state: undefined, status: 'connecting', lastEvent: undefined };

// One cached view per room, shared by every component reading it: useSyncExternalStore
// needs getSnapshot to return the same object until something actually changed.
const views = new WeakMap<Room, RoomView>();

function viewOf(room: Room | undefined): RoomView {
  if (!room) return PENDING;
  const { state, status, lastEvent } = room;
  const cached = views.get(room);
  if (
    cached &&
    cached.state === state &&
    cached.status === status &&
    cached.lastEvent === lastEvent
  )
    return cached;
  const view = { state, status, lastEvent };
  views.set(room, view);
  return view;
}

/**
 * Subscribes to a room (through the provider's client) while the component is mounted and
 * re-renders on every change of its state, status or last event. The subscription is shared
 * with every other user of the room and let go when the last of them unmounts.
 */
export function useRoom(roomId: string): RoomView {
  const client = useRoomcastClient();
  // The room this component holds: kept after a refusal, when the client has let it go.
  const held = useRef<Room | undefined>(undefined);
  const subscribe = useCallback(
    (listener: () => void) => {
      // Held from commit to unmount, never during render (a discarded render holds nothing).
      const room = client.room(roomId);
      held.current = room;
      const stop = room.subscribe(listener);
      return () => {
        stop();
        room.close();
      };
    },
    [client, roomId],
  );
  const getSnapshot = useCallback(() => {
    const room = client.get(roomId) ?? (held.current?.id === roomId ? held.current : undefined);
    return viewOf(room);
  }, [client, roomId]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/** What `useConnection` returns; a new object only when the state changes. */
export interface ConnectionView {
  state: ConnectionState;
  /** Why the connection is in this state (see `StateChange.code`), when known. */
  code?: string | undefined;
  reason?: string | undefined;
  transport: 'websocket' | 'sse';
}

const connectionViews = new WeakMap<Client, ConnectionView>();

function connectionViewOf(client: Client, change?: StateChange): ConnectionView {
  const cached = connectionViews.get(client);
  if (!change && cached?.state === client.state) return cached;
  const view: ConnectionView = change
    ? { state: change.state, code: change.code, reason: change.reason, transport: change.transport }
    : { state: client.state, transport: client.transport };
  connectionViews.set(client, view);
  return view;
}

/** The provider's client connection state (`connected`, `reconnecting`, `failed`…), live. */
export function useConnection(): ConnectionView {
  const client = useRoomcastClient();
  const subscribe = useCallback(
    (listener: () => void) =>
      client.on('state', (change) => {
        connectionViewOf(client, change);
        listener();
      }),
    [client],
  );
  const getSnapshot = useCallback(() => connectionViewOf(client), [client]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/** Handler shapes of `useRoomEvent`, by name (the same as `Room.on`). */
export type RoomEventHandlers = {
  [K in EventName]: (payload: EventPayloads[K], meta: EventMeta) => void;
} & {
  '*': (event: AnyEvent) => void;
  status: (status: RoomStatus, previous: RoomStatus) => void;
  resync: (state: RoomState) => void;
  error: (error: { code: string; message: string }) => void;
};

/**
 * Calls `handler` for each `name` event of the room (`'*'` for all, or `status`, `resync`,
 * `error`) while the component is mounted. The latest handler is always the one called, so
 * an inline arrow does not resubscribe on every render.
 */
export function useRoomEvent<K extends keyof RoomEventHandlers>(
  roomId: string,
  name: K,
  handler: RoomEventHandlers[K],
): void {
  const client = useRoomcastClient();
  const latest = useRef(handler);
  // Updated after commit rather than during render (renders may be discarded).
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    const room = client.room(roomId); // held while mounted
    const call = (...args: unknown[]) => (latest.current as (...a: unknown[]) => void)(...args);
    const stop = room.on(name as '*', call);
    return () => {
      stop();
      room.close();
    };
  }, [client, roomId, name]);
}
