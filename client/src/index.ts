/**
 * @roomcast/client — the browser client. Not built yet (see the client issue); for now the
 * package re-exports the wire types, type-only, so nothing of zod reaches a bundle.
 */
export type {
  ClientFrame,
  ServerFrame,
  SnapshotFrame,
  EventFrame,
  SubscribedFrame,
  ErrorFrame,
  Position,
  EventName,
  EventPayloads,
  RoomState,
  PeerState,
} from '@roomcast/shared';

/** Package version, for diagnostics. */
export const VERSION = '0.1.0';
