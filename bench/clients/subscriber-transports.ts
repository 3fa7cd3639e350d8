/**
 * One subscriber per transport, as a browser app would hold it: `ws` WebSocket (roomcast and the
 * bare `ws` floor speak the same subscribe frame), socket.io-client (WebSocket transport only),
 * and a raw node:http GET reading text/event-stream (messages split on a blank line).
 *
 * Each connects, subscribes, resolves once the server confirmed the subscription, then hands
 * every event frame to `onEvent`.
 */
import { request } from 'node:http';
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import type { EventFrameView } from '../lib/fanout-events.ts';

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
  onEvent(frame: EventFrameView): void;
  onClose(): void;
}

/** A connected, subscribed subscriber. */
export interface Subscriber {
  close(): void;
}

function failure(frame: EventFrameView): Error {
  return new Error(`server refused the subscription: ${frame.code ?? ''} ${frame.message ?? ''}`);
}

function subscribeWs(target: SubscribeTarget, hooks: SubscriberHooks): Promise<Subscriber> {
  const { port, room, token, batch } = target;
  const socket = new WebSocket(
    `ws://127.0.0.1:${port}/ws?token=${token}${batch ? '&batch=1' : ''}`,
    {
      perMessageDeflate: false,
    },
  );
  return new Promise((resolve, reject) => {
    let subscribed = false;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', room })));
    const handle = (frame: EventFrameView) => {
      if (frame.type === 'event') hooks.onEvent(frame);
      else if (frame.type === 'subscribed') {
        subscribed = true;
        resolve({ close: () => socket.terminate() });
      } else if (frame.type === 'error') reject(failure(frame));
    };
    socket.on('message', (data: Buffer) => {
      const parsed = JSON.parse(data.toString()) as EventFrameView | EventFrameView[];
      if (Array.isArray(parsed)) parsed.forEach(handle);
      else handle(parsed);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (subscribed) hooks.onClose();
      else reject(new Error('closed before subscribed'));
    });
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
    socket.on('event', (frame: EventFrameView) => hooks.onEvent(frame));
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
    // agent: false: one TCP connection per subscriber, like one EventSource per tab.
    const req = request({
      host: '127.0.0.1',
      port,
      path: `/rooms/${encodeURIComponent(room)}/events?token=${token}`,
      headers: { accept: 'text/event-stream' },
      agent: false,
    });
    let subscribed = false;
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`SSE answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      let buffered = '';
      res.on('data', (chunk: string) => {
        buffered += chunk;
        const messages = buffered.split('\n\n');
        buffered = messages.pop()!;
        for (const message of messages) {
          const dataAt = message.indexOf('data: ');
          if (dataAt < 0) continue; // retry: lines, heartbeat comments
          const end = message.indexOf('\n', dataAt);
          const frame = JSON.parse(
            message.slice(dataAt + 6, end < 0 ? undefined : end),
          ) as EventFrameView;
          if (frame.type === 'event') hooks.onEvent(frame);
          else if (frame.type === 'subscribed') {
            subscribed = true;
            resolve({ close: () => req.destroy() });
          } else if (frame.type === 'error') reject(failure(frame));
        }
      });
      res.on('close', () => {
        if (subscribed) hooks.onClose();
      });
    });
    req.on('error', reject);
    req.end();
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
