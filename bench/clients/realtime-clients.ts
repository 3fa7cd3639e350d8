/**
 * One subscriber as an app would run it, with its own library's reconnect: roomcast's real
 * client (`@roomcast/client` on Node's `ws`, resuming from `<epoch>:<seq>`) or socket.io-client
 * (reconnecting and, against a server with connection-state recovery, recovering its session).
 * Each binds its own loopback source address (the fault proxy tells clients apart by it, and it
 * spreads ephemeral ports) and records what the app sees: every event's index and receive time,
 * and each reconnect (when the link was up again, when the room was live again, whether the
 * server said it recovered).
 */
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import { createClient } from '@roomcast/client';
import { fanoutIndexOf } from '../lib/fanout-events.ts';
import type { EventFrameView } from '../lib/fanout-events.ts';
import { nowMs } from '../lib/delivery-tracker.ts';

/** The client libraries a subscriber can run. */
export type RealtimeKind = 'roomcast' | 'socketio';

/** One reconnect of one subscriber (times in `nowMs` ms). */
export interface Reconnect {
  /** When the link had gone down. */
  downAt: number;
  /** The link was up again (roomcast: state `connected`; Socket.IO: `connect`). */
  upAt: number;
  /** The room was live again (roomcast: `subscribed`; Socket.IO: recovered, or re-joined). */
  liveAt: number;
  /** The server resumed the session (roomcast: `recovered: true`; Socket.IO: `recovered`). */
  recovered: boolean;
  /** roomcast: when the first and the last connection attempt of this reconnect started (NaN: unknown). */
  firstAttemptAt: number;
  lastAttemptAt: number;
  /** roomcast: connection attempts this reconnect took. */
  attempts: number;
}

/** What one subscriber saw. */
export interface SubscriberLog {
  room: string;
  address: string;
  /** Event indexes in arrival order, their receive times. */
  indexes: number[];
  receivedAt: number[];
  /** Fresh snapshots after a resume that could not replay (roomcast `resync`). */
  resyncs: number;
  /** Times the link went down. */
  drops: number;
  reconnects: Reconnect[];
  /** Time of the last drop (NaN while none). */
  downAt: number;
  /** The link dropped and the room is not live again yet. */
  down: boolean;
  /** roomcast: start times of the connection attempts since the last drop. */
  attemptsAt: number[];
  /** Why the link dropped (the client's state-change code), per drop. */
  dropCodes: string[];
}

/** A running subscriber. */
export interface RealtimeSubscriber {
  readonly log: SubscriberLog;
  /** Resolves when the room is live (first time). */
  readonly live: Promise<void>;
  close(): void;
}

/** The empty log of a subscriber of `room` bound to `address`. */
export function newLog(room: string, address: string): SubscriberLog {
  return {
    room,
    address,
    indexes: [],
    receivedAt: [],
    resyncs: 0,
    drops: 0,
    reconnects: [],
    downAt: Number.NaN,
    down: false,
    attemptsAt: [],
    dropCodes: [],
  };
}

function record(log: SubscriberLog, index: number): void {
  if (!Number.isFinite(index)) return;
  log.indexes.push(index);
  log.receivedAt.push(nowMs());
}

/** roomcast's own client, as `roomcast tail` runs it on Node. */
function roomcastSubscriber(url: string, token: string, room: string, address: string) {
  const log = newLog(room, address);
  // The client takes a WebSocket constructor: this one binds the subscriber's source address.
  // It also times the connection attempts (the client's backoff, seen from outside).
  class BoundWebSocket extends WebSocket {
    constructor(target: string | URL, protocols?: string | string[]) {
      super(target, protocols, { localAddress: address });
      if (log.down) log.attemptsAt.push(nowMs());
    }
  }
  const client = createClient({
    url,
    token,
    transport: 'websocket',
    WebSocket: BoundWebSocket as unknown as typeof globalThis.WebSocket,
  });
  let pending: Reconnect | undefined;
  let first = true;
  client.on('state', ({ state, previous, code }) => {
    if (state === 'reconnecting' && previous === 'connected') {
      log.drops++;
      log.dropCodes.push(code ?? 'NONE');
      log.down = true;
      log.downAt = nowMs();
      log.attemptsAt = [];
      pending = undefined;
    } else if (state === 'connected' && !first) {
      const attempts = log.attemptsAt;
      pending = {
        downAt: log.downAt,
        upAt: nowMs(),
        liveAt: Number.NaN,
        recovered: false,
        firstAttemptAt: attempts[0] ?? Number.NaN,
        lastAttemptAt: attempts.at(-1) ?? Number.NaN,
        attempts: attempts.length,
      };
    }
  });
  const handle = client.room(room);
  handle.on('*', (event) => record(log, fanoutIndexOf({ payload: event.payload as never })));
  handle.on('resync', () => log.resyncs++);
  const live = new Promise<void>((resolve) => {
    handle.on('status', (status) => {
      if (status !== 'live') return;
      if (first) {
        first = false;
        return resolve();
      }
      if (pending && !Number.isFinite(pending.liveAt)) {
        pending.liveAt = nowMs();
        pending.recovered = handle.recovered;
        log.reconnects.push(pending);
        log.down = false;
      }
    });
  });
  return { log, live, close: () => client.close() };
}

/** socket.io-client's attempts are not timed. */
const unknownAttempts = { firstAttemptAt: Number.NaN, lastAttemptAt: Number.NaN, attempts: 0 };

/** socket.io-client with its default reconnection (1–5 s, randomized). */
function socketIoSubscriber(url: string, token: string, room: string, address: string) {
  const log = newLog(room, address);
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    auth: { token },
    localAddress: address,
  } as Parameters<typeof io>[1]);
  let first = true;
  let resolveLive: () => void = () => {};
  const live = new Promise<void>((resolve) => (resolveLive = resolve));
  socket.on('event', (frame: EventFrameView) => record(log, fanoutIndexOf(frame)));
  socket.on('disconnect', (reason) => {
    log.drops++;
    log.dropCodes.push(reason);
    log.down = true;
    log.downAt = nowMs();
  });
  socket.on('connect', () => {
    const upAt = nowMs();
    if (!first && socket.recovered) {
      // The server restored the session, rooms and missed packets: live at once.
      log.reconnects.push({
        ...unknownAttempts,
        downAt: log.downAt,
        upAt,
        liveAt: upAt,
        recovered: true,
      });
      log.down = false;
      return;
    }
    socket.emit('subscribe', room, () => {
      if (first) {
        first = false;
        return resolveLive();
      }
      log.reconnects.push({
        ...unknownAttempts,
        downAt: log.downAt,
        upAt,
        liveAt: nowMs(),
        recovered: false,
      });
      log.down = false;
    });
  });
  return { log, live, close: () => socket.disconnect() };
}

/** Starts one subscriber of `room` at `url` (through the proxy), bound to `address`. */
export function startSubscriber(
  kind: RealtimeKind,
  url: string,
  token: string,
  room: string,
  address: string,
): RealtimeSubscriber {
  return kind === 'roomcast'
    ? roomcastSubscriber(url, token, room, address)
    : socketIoSubscriber(url, token, room, address);
}
