/**
 * One room the console subscribes to: the client's live room plus what the console adds to
 * it: the readable event log (opening with the room's recent history), a cache of display
 * names (a peer:left no longer finds the peer in the state), and when the room last resynced
 * after a gap.
 */
import type { AnyEvent, Client, EventFrame, Room } from '@roomcast/client';
import { createEventLog, describeEvent, eventTime } from './event-log.ts';
import type { EventLog, LogEntry } from './event-log.ts';
import { nameFromMetadata } from './format.ts';

/** A subscribed room. */
export interface WatchedRoom {
  readonly room: Room;
  readonly log: EventLog;
  /** When the last snapshot replaced the state after a gap (ms). */
  readonly resyncedAt: number | undefined;
  /** When the last event arrived here (ms), for "newest activity first". */
  readonly lastEventAt: number;
  /** A peer's display name (its metadata's name, else its id). */
  nameOf(peerId: string): string;
  close(): void;
}

/** What the console wants to hear about a watched room. */
export interface WatchHooks {
  /** State, status or log changed. */
  changed(roomId: string): void;
  /** A new log line (to show it without redrawing the log). */
  logged(roomId: string, entry: LogEntry): void;
  /** A peer joined, not rejoined after a blip (for the toast). */
  joined(roomId: string, name: string, role: string | undefined): void;
  /** The room's earlier events were put in its log (to redraw it). */
  history(roomId: string): void;
}

/** Earlier events shown when a room opens. */
const HISTORY_SHOWN = 100;

function asEvent(frame: EventFrame): AnyEvent {
  const { room, epoch, seq, id } = frame;
  return { event: frame.event, payload: frame.payload, meta: { room, epoch, seq, id } } as AnyEvent;
}

/** Subscribes to `roomId` on `client`. */
export function watchRoom(client: Client, roomId: string, hooks: WatchHooks): WatchedRoom {
  const room = client.room(roomId);
  const log = createEventLog();
  const names = new Map<string, string>();
  let resyncedAt: number | undefined;
  let lastEventAt = 0;
  let wasLive = false;

  const learnNames = () => {
    for (const peer of Object.values(room.state?.peers ?? {})) {
      const name = nameFromMetadata(peer.metadata);
      if (name) names.set(peer.id, name);
    }
  };
  const nameOf = (peerId: string) => names.get(peerId) ?? peerId;
  const note = (text: string) => hooks.logged(roomId, log.add('connection', text));

  const stops = [
    room.subscribe(() => {
      learnNames();
      hooks.changed(roomId);
    }),
    room.on('*', (event: AnyEvent) => {
      lastEventAt = Date.now();
      if (event.event === 'peer:joined') {
        const name = nameFromMetadata(event.payload.metadata);
        if (name) names.set(event.payload.id, name);
      }
      hooks.logged(roomId, log.add(event.event, describeEvent(event, nameOf), event.meta.seq));
      // A rejoin within the presence grace is a network blip: logged, but no "joined" toast.
      if (event.event === 'peer:joined' && event.meta.rejoin !== true) {
        hooks.joined(roomId, nameOf(event.payload.id), event.payload.role);
      }
    }),
    room.on('resync', () => {
      resyncedAt = Date.now();
      note('Resynced: the gap could not be replayed, so the room was reloaded from a snapshot');
    }),
    room.on('status', (status, previous) => {
      if (status === 'connecting' && previous === 'live') note('Connection lost; reconnecting…');
      if (status === 'live') {
        if (wasLive && room.recovered) note('Reconnected: every missed event was replayed');
        wasLive = true;
      }
      hooks.changed(roomId);
    }),
    room.on('error', (error) => note(`Refused: ${error.code} ${error.message}`)),
  ];

  // The log opens with what happened before: the room's retained events.
  room.history({ limit: HISTORY_SHOWN }).then(
    (page) => {
      const events = page.events.map(asEvent);
      for (const event of events) {
        if (event.event !== 'peer:joined') continue;
        const name = nameFromMetadata(event.payload.metadata);
        if (name && !names.has(event.payload.id)) names.set(event.payload.id, name);
      }
      log.addOlder(
        events.map((event) => ({
          kind: event.event,
          text: describeEvent(event, nameOf),
          seq: event.meta.seq,
          at: eventTime(event) ?? Date.now(),
        })),
      );
      hooks.history(roomId);
    },
    (error: { code?: string }) => note(`History unavailable: ${error.code ?? 'network error'}`),
  );

  return {
    room,
    log,
    get resyncedAt() {
      return resyncedAt;
    },
    get lastEventAt() {
      return lastEventAt;
    },
    nameOf,
    close() {
      for (const stop of stops) stop();
      room.close();
    },
  };
}
