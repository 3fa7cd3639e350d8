/**
 * A real `ws` client that records every frame and waits for the ones a test expects.
 */
import WebSocket from 'ws';

/** A server frame as received (parsed JSON). */
export type Frame = Record<string, unknown> & { type: string; room?: string; seq?: number };

/** A recording WebSocket client. */
export class TestSocket {
  readonly frames: Frame[] = [];
  /** Heartbeat frames, kept apart: they come at any time and would only get in the way. */
  readonly heartbeats: Frame[] = [];
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<number>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      (frame.type === 'heartbeat' ? this.heartbeats : this.frames).push(frame);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code) => {
        this.closeCode = code;
        this.wake();
        resolve(code);
      });
    });
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits until `predicate` holds for the recorded frames; rejects after `timeoutMs`. */
  async until(
    predicate: (frames: Frame[]) => boolean,
    timeoutMs = 5000,
    what = 'frames',
  ): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.frames)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; got ${JSON.stringify(this.frames).slice(0, 2000)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames;
  }

  /** Frames of one room and type. */
  of(room: string, type?: string): Frame[] {
    return this.frames.filter(
      (frame) => frame.room === room && (type === undefined || frame.type === type),
    );
  }

  /** Waits for the `subscribed` frame of a room (the subscription is live after it). */
  subscribed(room: string, count = 1): Promise<Frame[]> {
    return this.until(
      (frames) => frames.filter((f) => f.type === 'subscribed' && f.room === room).length >= count,
      5000,
      `subscribed ${room}`,
    );
  }

  close(): void {
    this.socket.terminate();
  }
}

/** Opens a WebSocket and waits until it is open. */
export async function connect(
  url: string,
  options: WebSocket.ClientOptions = {},
): Promise<TestSocket> {
  const socket = new WebSocket(url, options);
  const client = new TestSocket(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return client;
}

/** Seqs of the event frames of a room, in arrival order. */
export function eventSeqs(frames: Frame[], room: string): number[] {
  return frames.filter((f) => f.type === 'event' && f.room === room).map((f) => f.seq as number);
}
