/**
 * App events: your app's own events ("hand raised", "poll opened") in the room channels its
 * frontends already hold. Named `app:<name>`, they get a seq, history, resume and fan-out like
 * Huddle01's events, and never change the room state. Zod-free, for the client too.
 */

/** Every app event's name starts with this. */
export const APP_EVENT_PREFIX = 'app:';

/** The name of an app event: `app:` and 1–64 of `A-Z a-z 0-9 _ . : -`. */
export type AppEventName = `app:${string}`;

/** The largest app event payload, as JSON text (bytes of UTF-8). */
export const MAX_APP_PAYLOAD_BYTES = 64 * 1024;

/** The longest idempotency key of a publish. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

const APP_EVENT_NAME = /^app:[A-Za-z0-9_.:-]{1,64}$/;

/** True for a well-formed app event name (`app:hand-raised`). */
export function isAppEventName(name: unknown): name is AppEventName {
  return typeof name === 'string' && APP_EVENT_NAME.test(name);
}
