/**
 * A small Server-Sent Events reader over node:http, for thousands of streams in one process and
 * for faults a browser's EventSource hides: it never reconnects by itself, can stop reading
 * (the socket paused) and be cut at any moment. Messages are parsed as the SSE spec says
 * (fields, comments, the id updated on dispatch).
 */
import { request } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';

/** One dispatched message. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** Options of a stream. */
export interface SseStreamOptions {
  headers?: Record<string, string>;
  onMessage(message: SseMessage): void;
  /** Called with the status as soon as the answer's head arrives, before any message. */
  onOpen?(status: number): void;
  /** Called once when the stream ends for any reason (server end, cut, error). */
  onEnd?(): void;
}

/** An open (or opening) stream. */
export interface SseStream {
  /** Resolves with the status once the answer's head arrived; the body of a non-200 is read whole. */
  readonly opened: Promise<{ status: number; body: string }>;
  /** The id of the last dispatched message that had one. */
  readonly lastEventId: string | undefined;
  /** Stops reading (the kernel buffers fill, then the server's). */
  pause(): void;
  resume(): void;
  /** Cuts the connection. */
  close(): void;
  readonly ended: boolean;
}

/** Opens `url` as an event stream. */
export function openSseStream(url: string, options: SseStreamOptions): SseStream {
  let lastEventId: string | undefined;
  let ended = false;
  let response: IncomingMessage | undefined;
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    options.onEnd?.();
  };

  function line(text: string): void {
    if (text === '') {
      if (id !== undefined) lastEventId = id;
      if (data.length > 0) {
        options.onMessage({ id: lastEventId, event: event || 'message', data: data.join('\n') });
      }
      data = [];
      event = '';
      return;
    }
    if (text.startsWith(':')) return; // a comment (heartbeat)
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  }

  const req: ClientRequest = request(url, {
    agent: false,
    headers: { accept: 'text/event-stream', ...options.headers },
  });
  const opened = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      response = res;
      res.setEncoding('utf8');
      res.on('close', end);
      res.on('error', end);
      const status = res.statusCode ?? 0;
      options.onOpen?.(status);
      if (status !== 200) {
        let body = '';
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status, body }));
        return;
      }
      resolve({ status, body: '' });
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const text = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          line(text.endsWith('\r') ? text.slice(0, -1) : text);
        }
      });
    });
    req.on('error', (error) => {
      end();
      reject(error);
    });
  });
  opened.catch(() => undefined); // observed by callers that care; an end is reported either way
  req.end();

  return {
    opened,
    get lastEventId() {
      return lastEventId;
    },
    pause: () => response?.socket?.pause(),
    resume: () => response?.socket?.resume(),
    close() {
      req.destroy();
      end();
    },
    get ended() {
      return ended;
    },
  };
}
