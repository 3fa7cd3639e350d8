/**
 * Everything that belongs to one token: the rooms feed, the @roomcast/client connection, the
 * watched rooms and the token's expiry timer. A new token replaces the session whole.
 */
import type { Client, StateChange } from '@roomcast/client';
import { createRoomsFeed } from './rooms-feed.ts';
import type { PollResult, RoomSummary, RoomsFeed } from './rooms-feed.ts';
import type { WatchedRoom } from './watched-room.ts';

/** One token's session. */
export interface Session {
  readonly token: string;
  readonly feed: RoomsFeed;
  /** Made on the first room watched. */
  client: Client | undefined;
  /** The client's last connection change (the indicator reads it). */
  connection: StateChange | undefined;
  readonly watched: Map<string, WatchedRoom>;
  /** The rooms feed's last list. */
  summaries: RoomSummary[];
  /** Whether the last update of the list reached the server. */
  reachable: boolean;
  /** Whether the console shows (after the first answer of the feed). */
  started: boolean;
}

/** Options of openSession. */
export interface SessionOptions {
  /** The server's base URL. */
  base: string;
  token: string;
  /** Each update of the room list (`session` is the one opened). */
  onResult(session: Session, result: PollResult): void;
  /** The token's `exp` passed while the session was open. */
  onExpired(session: Session): void;
}

/** A session and what starts and ends it. */
export interface SessionHandle {
  session: Session;
  /** Starts the feed (its first result may come at once: make the session current first). */
  start(): void;
  /** Stops the feed and the timer, lets go of every room and closes the client. */
  close(): void;
}

/** A session for `token`, which expires at `expiresAt` (ms) when known; not started yet. */
export function createSession(
  options: SessionOptions,
  expiresAt: number | undefined,
): SessionHandle {
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;
  let feed: RoomsFeed | undefined;
  const session: Session = {
    token: options.token,
    get feed() {
      if (!feed) throw new Error('the session has not started');
      return feed;
    },
    client: undefined,
    connection: undefined,
    watched: new Map(),
    summaries: [],
    reachable: false,
    started: false,
  };
  return {
    session,
    start() {
      if (expiresAt !== undefined) {
        // Past setTimeout's range the feed's 401 tells us instead.
        const left = expiresAt - Date.now();
        if (left < 2 ** 31) expiryTimer = setTimeout(() => options.onExpired(session), left);
      }
      feed = createRoomsFeed({
        base: options.base,
        token: options.token,
        onResult: (result) => options.onResult(session, result),
      });
    },
    close() {
      feed?.stop();
      clearTimeout(expiryTimer);
      for (const watched of session.watched.values()) watched.close();
      session.client?.close();
    },
  };
}
