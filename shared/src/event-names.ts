/**
 * The names of the events roomcast knows, without zod: for the browser client (SSE listeners)
 * and anything else that must stay small. events.ts checks at compile time that this list and
 * its schemas name the same events.
 */
export const EVENT_NAME_LIST = [
  'meeting:started',
  'meeting:ended',
  'peer:joined',
  'peer:left',
  'peer:trackPublished',
  'peer:trackUnpublished',
  'recording:started',
  'recording:ended',
  'recording:updated',
  'recording:stopped',
  'reconcile:media',
] as const;

/** Names of the SSE messages that are not webhook events. */
export const FRAME_EVENT_NAMES = [
  'snapshot',
  'subscribed',
  'error',
  'heartbeat',
  'occupancy',
] as const;

/**
 * The `source` of events roomcast synthesised from Huddle01's live API (docs/reconcile.md);
 * Huddle01's own webhooks carry none. Here, zod-free, because the client's reducer reads it.
 */
export const RECONCILE_SOURCE = 'reconcile';
