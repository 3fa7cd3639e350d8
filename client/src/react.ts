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
 * ```
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
import type { Client } from './client.ts';
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

/** Makes `client` available to `useRoom` and `useRoomEvent` in the tree below. */
export function RoomcastProvider({ client, children }: RoomcastProviderProps) {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The client given to the nearest RoomcastProvider. Throws outside one. */
export function useRoomcastClient(): Client {
  const client = useContext(ClientContext);
  if (!client) throw new Error('roomcast: useRoom/useRoomEvent need a <RoomcastProvider client>');
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

// One cached view per room, shared by every component reading it: useSyncExternalStore
// needs getSnapshot to return the same object until something actually changed.
const views = new WeakMap<Room, RoomView>();

function viewOf(room: Room): RoomView {
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
 * Subscribes to a room (through the provider's client) and re-renders on every change of its
 * state, status or last event. The subscription is shared with every other user of the room
 * and stays open on unmount; call `client.room(roomId).close()` to leave the room for good.
 */
export function useRoom(roomId: string): RoomView {
  const room = useRoomcastClient().room(roomId);
  const subscribe = useCallback((listener: () => void) => room.subscribe(listener), [room]);
  const getSnapshot = useCallback(() => viewOf(room), [room]);
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
  const room = useRoomcastClient().room(roomId);
  const latest = useRef(handler);
  // Updated after commit rather than during render (renders may be discarded).
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    const call = (...args: unknown[]) => (latest.current as (...a: unknown[]) => void)(...args);
    return room.on(name as '*', call);
  }, [room, name]);
}
