/**
 * Connection: one subscriber over one transport (WebSocket or SSE), as the Hub sees it.
 * Transports know nothing of webhooks; the Hub knows nothing of sockets.
 */
import type { Socket } from 'node:net';
import type { OutgoingFrame } from './frames.ts';

/** A subscriber connection. */
export interface Connection {
  readonly transport: 'ws' | 'sse';
  /** Queues one frame. */
  send(frame: OutgoingFrame): void;
  /** Bytes queued and not yet written to the network. */
  bufferedBytes(): number;
  /**
   * Resolves when the backlog may have shrunk: the socket drained or closed, or a short while
   * passed (bytes held outside the socket shrink without a 'drain'). Never rejects.
   */
  drained(): Promise<void>;
  /** Ends the connection because it reads too slowly (WS close 4008, SSE stream ended). */
  dropSlow(): void;
}

/** How long `nextDrain` waits at most for a 'drain' before the caller looks again, ms. */
const DRAIN_POLL_MS = 50;

/**
 * Resolves on `socket`'s next 'drain' or 'close', or after a short poll (a backlog held outside
 * the socket, e.g. a batch waiting for the tick's end, shrinks without a 'drain'). Never at once,
 * so a caller looping on it always lets the event loop run (and a close be handled).
 */
export function nextDrain(socket: Socket | null | undefined): Promise<void> {
  return new Promise((resolve) => {
    const live = socket && !socket.destroyed ? socket : undefined;
    const done = () => {
      clearTimeout(timer);
      live?.off('drain', done);
      live?.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, DRAIN_POLL_MS);
    timer.unref();
    live?.once('drain', done);
    live?.once('close', done);
  });
}
