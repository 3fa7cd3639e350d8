/**
 * A real WHATWG EventSource client (the `eventsource` package) that records messages.
 */
import { EventSource } from 'eventsource';
import { EVENT_NAME_LIST, FRAME_EVENT_NAMES } from '../../shared/src/event-names.ts';

/** One received SSE message. */
export interface SseMessage {
  type: string;
  id: string;
  data: Record<string, unknown> & { type: string; seq?: number; room?: string };
}

const NAMES = [...FRAME_EVENT_NAMES, ...EVENT_NAME_LIST];

/** A recording EventSource. */
export class TestEventSource {
  readonly messages: SseMessage[] = [];
  /** Heartbeat messages, kept apart: they come at any time and would only get in the way. */
  readonly heartbeats: SseMessage[] = [];
  readonly source: EventSource;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.source = new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { ...(init?.headers as Record<string, string>), ...headers },
        }),
    });
    for (const name of NAMES) {
      this.source.addEventListener(name, (event) => {
        const message = { type: event.type, id: event.lastEventId, data: JSON.parse(event.data) };
        (event.type === 'heartbeat' ? this.heartbeats : this.messages).push(message);
      });
    }
  }

  async until(
    predicate: (messages: SseMessage[]) => boolean,
    timeoutMs = 5000,
  ): Promise<SseMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (Date.now() > deadline)
        throw new Error(`timed out; got ${JSON.stringify(this.messages).slice(0, 1500)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.messages;
  }

  events(room?: string): SseMessage[] {
    return this.messages.filter(
      (m) => m.data.type === 'event' && (room === undefined || m.data.room === room),
    );
  }

  close(): void {
    this.source.close();
  }
}
