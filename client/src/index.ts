/**
 * @roomcast/client: live Huddle01 room state and events in the browser. Zero runtime
 * dependencies; types come from @roomcast/shared (type-only), the reducer from its
 * zod-free subpath.
 */
export { createClient } from './create-client.ts';
export { createSharedClient } from './share-tabs.ts';
export { sessionCache } from './session-cache.ts';
export type { Client, ClientOptions, ConnectionState, RoomCache, StateChange } from './client.ts';
export type { SseLinkOpener, Link, LinkHandlers, LinkDown, StreamRequest } from './link.ts';
export type {
  Room,
  RoomStatus,
  RoomOptions,
  EventMeta,
  AnyEvent,
  AppEventMap,
  CachedRoom,
} from './room.ts';
export { backoffDelay } from './backoff.ts';
export type {
  PeerState,
  ReconnectingPeer,
  RoomState,
  MeetingState,
  RecordingState,
} from '@roomcast/shared/room-state';
export type { EventName, EventPayloads, EventFrame, HistoryPage } from '@roomcast/shared';
