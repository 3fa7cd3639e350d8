/**
 * One subscriber per transport: a light raw-socket WebSocket (light-websocket.ts; roomcast and
 * the bare `ws` floor speak the same subscribe frame), socket.io-client (the Socket.IO peer's own
 * client library, WebSocket transport only), and a light raw-socket text/event-stream reader
 * (light-sse.ts). WS and SSE messages are read with event-frame-scan.ts, without
 * a JSON.parse per delivery: the bench must measure the servers, not its own subscribers.
 *
 * Each connects, subscribes, resolves once the server confirmed the subscription, then hands
 * every event's index and send time to `onEvent`.
 */
import { io } from 'socket.io-client';
import { fanoutIndexOf } from '../lib/fanout-events.ts';
import type { EventFrameView } from '../lib/fanout-events.ts';
import { readMessage } from './event-frame-scan.ts';
import type { FrameSink } from './event-frame-scan.ts';
import { openLightSse } from './light-sse.ts';
import type { LightSse } from './light-sse.ts';
import { openLightWebSocket } from './light-websocket.ts';
import type { LightWebSocket } from './light-websocket.ts';

/** The transports the subscribers can use. */
export type SubscriberTransport = 'ws' | 'socketio' | 'sse';

/** Where and how to subscribe. */
export interface SubscribeTarget {
  transport: SubscriberTransport;
  port: number;
  room: string;
  token: string;
  /** roomcast only: connect with `?batch=1` (frames of one tick may come as one JSON array). */
  batch?: boolean;
}

/** Callbacks of one subscriber. */
export interface SubscriberHooks {
  /** Fan-out event `index` (NaN if none), sent at `sentAt` (ms, `nowMs` clock; NaN if none). */
  onEvent(index: number, sentAt: number): void;
  onClose(): void;
}

/** A connected, subscribed subscriber. */
export interface Subscriber {
  close(): void;
}

function failure(frame: EventFrameView): Error {
  return new Error(`server refused the subscription: ${frame.code ?? ''} ${frame.message ?? ''}`);
}

/**
 * The sink of one subscriber's messages: events to `hooks`, `subscribed` resolves, `error`
 * rejects, anything else (snapshots) is ignored.
 */
function frameSink(hooks: SubscriberHooks, subscribed: () => void, refused: (e: Error) => void) {
  return {
    event: hooks.onEvent,
    other(frame: EventFrameView) {
      if (frame.type === 'subscribed') subscribed();
      else if (frame.type === 'error') refused(failure(frame));
    },
  } satisfies FrameSink;
}

function subscribeWs(target: SubscribeTarget, hooks: SubscriberHooks): Promise<Subscriber> {
  const { port, room, token, batch } = target;
  return new Promise((resolve, reject) => {
    let subscribed = false;
    let socket: LightWebSocket | undefined;
    const sink = frameSink(
      hooks,
      () => {
        subscribed = true;
        resolve({ close: () => socket?.terminate() });
      },
      reject,
    );
    openLightWebSocket(port, `/ws?token=${token}${batch ? '&batch=1' : ''}`, {
      onMessage: (buf, start, end) => readMessage(buf, start, end, sink),
      onClose: () => {
        if (subscribed) hooks.onClose();
        else reject(new Error('closed before subscribed'));
      },
    }).then((opened) => {
      socket = opened;
      opened.sendText(JSON.stringify({ type: 'subscribe', room }));
    }, reject);
  });
}

function subscribeSocketIo(target: SubscribeTarget, hooks: SubscriberHooks): Promise<Subscriber> {
  const { port, room, token } = target;
  const socket = io(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    auth: { token },
  });
  return new Promise((resolve, reject) => {
    let subscribed = false;
    socket.on('event', (frame: EventFrameView) =>
      hooks.onEvent(fanoutIndexOf(frame), frame.payload?.joinedAt ?? NaN),
    );
    socket.on('connect', () =>
      socket.emit('subscribe', room, () => {
        subscribed = true;
        resolve({ close: () => socket.disconnect() });
      }),
    );
    socket.on('connect_error', reject);
    socket.on('disconnect', () => {
      if (subscribed) hooks.onClose();
    });
  });
}

function subscribeSse(target: SubscribeTarget, hooks: SubscriberHooks): Promise<Subscriber> {
  const { port, room, token } = target;
  return new Promise((resolve, reject) => {
    let subscribed = false;
    let stream: LightSse | undefined;
    const sink = frameSink(
      hooks,
      () => {
        subscribed = true;
        resolve({ close: () => stream?.close() });
      },
      reject,
    );
    openLightSse(port, `/rooms/${encodeURIComponent(room)}/events?token=${token}`, {
      onData: (buf, start, end) => readMessage(buf, start, end, sink),
      onClose: () => {
        if (subscribed) hooks.onClose();
        else reject(new Error('closed before subscribed'));
      },
    }).then((opened) => (stream = opened), reject);
  });
}

/** Connects one subscriber and waits until it is subscribed. */
export function subscribe(target: SubscribeTarget, hooks: SubscriberHooks): Promise<Subscriber> {
  switch (target.transport) {
    case 'ws':
      return subscribeWs(target, hooks);
    case 'socketio':
      return subscribeSocketIo(target, hooks);
    case 'sse':
      return subscribeSse(target, hooks);
  }
}
