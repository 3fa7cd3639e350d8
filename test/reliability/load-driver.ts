/**
 * Many subscribers at once (WebSocket and SSE, one room or several each), every frame fed to an
 * invariant checker, with random drops and resumes: a dropped subscriber reconnects after a
 * random pause and resumes from the position it holds (WS `since`, SSE `Last-Event-ID`), as the
 * browser client does. Subscribers the server closes (slow consumer, restart) or whose
 * subscription it ends (an error frame) come back the same way.
 */
import WebSocket from 'ws';
import { formatPosition, parsePosition } from '../../shared/src/index.ts';
import type { Position } from '../../shared/src/index.ts';
import { parseMultiRoomId } from '../../server/src/transports/sse-position.ts';
import type { InvariantChecker, ReceivedFrame, SubscriberTrack } from './invariant-checker.ts';
import { openSseStream } from './sse-stream.ts';
import type { SseStream } from './sse-stream.ts';

/** Options of the driver. */
export interface LoadDriverOptions {
  checker: InvariantChecker;
  /** Server base URLs (http://…); subscribers spread over them, and reconnect to any. */
  urls: string[];
  /** A token granting every room the subscribers use. */
  token: string;
  rooms: string[];
  ws: number;
  sse: number;
  /** Share of subscribers that hold three rooms instead of one (multi-room SSE, one WS). Default 0.1. */
  multiRoomShare?: number;
  /** Connections opened at once while opening. Default 200. */
  connectConcurrency?: number;
  /** Pause before a reconnect, ms: [min, max]. Default [0, 500]. */
  reconnectDelay?: [number, number];
  /** Called with a progress line now and then while opening. */
  progress?: (line: string) => void;
}

/** Counters of the driver. */
export interface LoadStats {
  connected: number;
  peakConnected: number;
  /** Drops the driver caused (churn). */
  drops: number;
  /** Closes the server caused, by WS close code (or `sse-end`). */
  serverCloses: Record<string, number>;
  /** Reconnections made. */
  reconnects: number;
  /** Connection attempts refused (HTTP status or network error), retried. */
  refused: number;
}

/** One logical subscriber. */
export interface LoadSubscriber {
  readonly transport: 'ws' | 'sse';
  readonly rooms: readonly string[];
  readonly track: SubscriberTrack;
  readonly connected: boolean;
  /** Cuts the connection now; it comes back after the reconnect pause. */
  drop(): void;
  /** Stops reading (the socket paused): a client that never reads. */
  pause(): void;
  resume(): void;
}

/** The driver. */
export interface LoadDriver {
  readonly subscribers: readonly LoadSubscriber[];
  readonly stats: LoadStats;
  /** Opens every subscriber; resolves when each holds all its rooms. */
  open(): Promise<void>;
  /** Drops `perSecond` random subscribers a second until the returned stop is called. */
  churn(perSecond: number): () => void;
  /** Resolves when every subscriber is connected and at `heads` in each of its rooms. */
  settle(heads: Map<string, Position>, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const random = (min: number, max: number) => min + Math.random() * (max - min);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates the driver (nothing is opened until `open`). */
export function createLoadDriver(options: LoadDriverOptions): LoadDriver {
  const { checker, urls, token, rooms } = options;
  const [minDelay, maxDelay] = options.reconnectDelay ?? [0, 500];
  const multiRoomShare = options.multiRoomShare ?? 0.1;
  const stats: LoadStats = {
    connected: 0,
    peakConnected: 0,
    drops: 0,
    serverCloses: {},
    reconnects: 0,
    refused: 0,
  };
  const subscribers: Subscriber[] = [];
  let closing = false;

  function onConnected() {
    stats.connected++;
    if (stats.connected > stats.peakConnected) stats.peakConnected = stats.connected;
  }

  /** Shared by both transports: the connection life cycle and the reconnect loop. */
  abstract class Subscriber implements LoadSubscriber {
    abstract readonly transport: 'ws' | 'sse';
    connected = false;
    /** Rooms not yet confirmed by a `subscribed` frame on this connection. */
    pending = new Set<string>();
    private ready: (() => void) | undefined;
    private reconnectTimer: NodeJS.Timeout | undefined;
    private urlIndex: number;

    constructor(
      readonly rooms: string[],
      readonly track: SubscriberTrack,
      index: number,
    ) {
      this.urlIndex = index % urls.length;
    }

    get url(): string {
      return urls[this.urlIndex % urls.length]!;
    }

    /** Connects once; resolves when every room is subscribed (or the attempt failed). */
    connect(): Promise<void> {
      this.pending = new Set(this.rooms);
      return new Promise<void>((resolve) => {
        this.ready = resolve;
        this.start();
      });
    }

    protected abstract start(): void;
    protected abstract cut(): void;
    abstract pause(): void;
    abstract resume(): void;

    protected opened(): void {
      this.connected = true;
      onConnected();
    }

    protected receive(frame: ReceivedFrame): void {
      this.track.frame(frame);
      if (frame.type === 'subscribed' && frame.room !== undefined) {
        this.pending.delete(frame.room);
        if (this.pending.size === 0) this.settled();
      } else if (
        frame.type === 'error' &&
        frame.room !== undefined &&
        this.rooms.includes(frame.room)
      ) {
        // The server ended this room's subscription (e.g. the engine failed): start it again.
        this.resubscribe(frame.room);
      }
    }

    /** Re-subscribes one room; by default by reconnecting. */
    protected resubscribe(_room: string): void {
      this.drop();
    }

    protected settled(): void {
      const ready = this.ready;
      this.ready = undefined;
      ready?.();
    }

    /** The connection ended (by anyone): reconnect after a pause, to any node. */
    protected ended(reason: string | undefined): void {
      if (this.connected) stats.connected--;
      this.connected = false;
      if (reason !== undefined) stats.serverCloses[reason] = (stats.serverCloses[reason] ?? 0) + 1;
      this.settled();
      if (closing || this.reconnectTimer) return;
      this.reconnectTimer = setTimeout(
        () => {
          this.reconnectTimer = undefined;
          if (closing) return;
          stats.reconnects++;
          this.urlIndex++;
          void this.connect();
        },
        random(minDelay, maxDelay),
      );
    }

    protected refused(): void {
      stats.refused++;
    }

    drop(): void {
      if (!this.connected) return;
      stats.drops++;
      this.cut();
    }

    shutdown(): void {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.cut();
    }
  }

  class WsSubscriber extends Subscriber {
    readonly transport = 'ws' as const;
    socket: WebSocket | undefined;

    protected start(): void {
      const socket = new WebSocket(`${this.url.replace(/^http/, 'ws')}/ws?token=${token}`);
      this.socket = socket;
      let closedByUs = false;
      socket.on('open', () => {
        this.opened();
        const since = new Map(this.rooms.map((room) => [room, this.track.position(room)]));
        this.track.connecting(since);
        for (const [room, position] of since) {
          const frame = position
            ? { type: 'subscribe', room, since: formatPosition(position) }
            : { type: 'subscribe', room };
          socket.send(JSON.stringify(frame));
        }
      });
      socket.on('message', (data) => this.receive(JSON.parse(String(data)) as ReceivedFrame));
      socket.on('error', () => {
        if (!this.connected) this.refused();
      });
      socket.on('close', (code) => {
        closedByUs = closedByUs || socket !== this.socket;
        this.ended(closedByUs ? undefined : String(code));
      });
      this.cutSocket = () => {
        closedByUs = true;
        socket.terminate();
      };
    }

    private cutSocket: () => void = () => undefined;

    protected cut(): void {
      this.cutSocket();
    }

    protected override resubscribe(room: string): void {
      const socket = this.socket;
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      // Resubscribing after an error frame: a fresh connection for this room's stream.
      const position = this.track.position(room);
      this.track.connecting([[room, position]]);
      this.pending.add(room);
      const since = position ? { since: formatPosition(position) } : {};
      setTimeout(
        () => socket.send(JSON.stringify({ type: 'subscribe', room, ...since })),
        random(minDelay, maxDelay),
      );
    }

    pause(): void {
      (this.socket as unknown as { _socket?: { pause(): void } })?._socket?.pause();
    }

    resume(): void {
      (this.socket as unknown as { _socket?: { resume(): void } })?._socket?.resume();
    }
  }

  class SseSubscriber extends Subscriber {
    readonly transport = 'sse' as const;
    stream: SseStream | undefined;
    lastEventId: string | undefined;

    private get multi(): boolean {
      return this.rooms.length > 1;
    }

    protected start(): void {
      const lastId = this.lastEventId;
      const path = this.multi
        ? `/events?${this.rooms.map((room) => `room=${encodeURIComponent(room)}`).join('&')}`
        : `/rooms/${encodeURIComponent(this.rooms[0]!)}/events`;
      // What the server will read from the id: the checker verifies it is the position held.
      const since = this.multi
        ? parseMultiRoomId(lastId ?? '')
        : new Map([[this.rooms[0]!, lastId === undefined ? undefined : parsePosition(lastId)]]);
      let cutByUs = false;
      const stream = openSseStream(`${this.url}${path}`, {
        headers: {
          authorization: `Bearer ${token}`,
          ...(lastId === undefined ? {} : { 'last-event-id': lastId }),
        },
        onMessage: (message) => {
          const frame = JSON.parse(message.data) as ReceivedFrame;
          this.checkId(message.id, frame);
          if (message.id !== undefined) this.lastEventId = message.id;
          this.receive(frame);
        },
        onOpen: (status) => {
          if (status !== 200) return this.refused();
          this.track.connecting(this.rooms.map((room) => [room, since.get(room)]));
          this.opened();
        },
        onEnd: () => this.ended(cutByUs || !this.connected ? undefined : 'sse-end'),
      });
      this.stream = stream;
      this.cutStream = () => {
        cutByUs = true;
        stream.close();
      };
      stream.opened.catch(() => this.refused());
    }

    /** The SSE `id:` must name the position the frame leaves the subscriber at. */
    private checkId(id: string | undefined, frame: ReceivedFrame): void {
      if (frame.type === 'error' || frame.room === undefined) return;
      const position = { epoch: frame.epoch ?? '', seq: frame.seq ?? -1 };
      const named = this.multi
        ? parseMultiRoomId(id ?? '').get(frame.room)
        : parsePosition(id ?? '');
      if (!named || named.epoch !== position.epoch || named.seq !== position.seq) {
        this.track.violation(
          'sse-id',
          `id ${id} on ${frame.type} ${formatPosition(position)}`,
          frame.room,
        );
      }
    }

    private cutStream: () => void = () => undefined;

    protected cut(): void {
      this.cutStream();
    }

    pause(): void {
      this.stream?.pause();
    }

    resume(): void {
      this.stream?.resume();
    }
  }

  let nextName = 0;
  function roomsFor(index: number): string[] {
    const first = index % rooms.length;
    if (Math.random() >= multiRoomShare || rooms.length < 3) return [rooms[first]!];
    return [0, 1, 2]
      .map((offset) => rooms[(first + offset * 7) % rooms.length]!)
      .filter((room, i, all) => all.indexOf(room) === i);
  }
  for (let i = 0; i < options.ws + options.sse; i++) {
    const transport = i < options.ws ? 'ws' : 'sse';
    const track = checker.subscriber(`${transport}-${++nextName}`);
    const held = roomsFor(i);
    subscribers.push(
      transport === 'ws' ? new WsSubscriber(held, track, i) : new SseSubscriber(held, track, i),
    );
  }

  return {
    subscribers,
    stats,
    async open() {
      const concurrency = options.connectConcurrency ?? 200;
      let next = 0;
      let done = 0;
      const progress = setInterval(
        () => options.progress?.(`opening subscribers: ${done}/${subscribers.length}`),
        2000,
      );
      const worker = async () => {
        while (next < subscribers.length) {
          const subscriber = subscribers[next++]!;
          await subscriber.connect();
          // A refused first attempt reconnects by itself; wait for it to hold its rooms.
          while (!subscriber.connected || subscriber.pending.size > 0) await sleep(50);
          done++;
        }
      };
      try {
        await Promise.all(Array.from({ length: concurrency }, worker));
      } finally {
        clearInterval(progress);
      }
    },
    churn(perSecond) {
      const tick = 100;
      let owed = 0;
      const timer = setInterval(() => {
        owed += (perSecond * tick) / 1000;
        for (; owed >= 1; owed--) {
          const subscriber = subscribers[Math.floor(Math.random() * subscribers.length)];
          subscriber?.drop();
        }
      }, tick);
      return () => clearInterval(timer);
    },
    async settle(heads, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const behind = () =>
        subscribers.filter(
          (subscriber) =>
            !subscriber.connected ||
            subscriber.pending.size > 0 ||
            subscriber.rooms.some((room) => {
              const head = heads.get(room);
              return head !== undefined && !subscriber.track.atHead(room, head);
            }),
        );
      let lagging = behind();
      while (lagging.length > 0) {
        if (Date.now() > deadline) {
          const sample = lagging.slice(0, 3).map((subscriber) => ({
            name: subscriber.track.name,
            connected: subscriber.connected,
            rooms: [...subscriber.track.rooms()].map(
              ([room, held]) =>
                `${room}@${held ? formatPosition(held) : '-'} (head ${formatPosition(heads.get(room) ?? { epoch: '?', seq: -1 })})`,
            ),
          }));
          throw new Error(
            `${lagging.length} subscribers not at the heads after ${timeoutMs} ms: ${JSON.stringify(sample)}`,
          );
        }
        await sleep(200);
        lagging = behind();
      }
    },
    async close() {
      closing = true;
      for (const subscriber of subscribers) subscriber.shutdown();
      await sleep(50);
    },
  };
}
