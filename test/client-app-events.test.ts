/**
 * The client and the room channel's two additions, in Node against the real server over
 * WebSocket and SSE: app events typed through `createClient<AppEvents>()` arrive exactly once
 * in seq order and leave `room.state` alone; a room opened with `{ occupancy: true }` learns who
 * watches it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { createClient } from '../client/src/index.ts';
import type { EventMeta } from '../client/src/index.ts';
import { meetingStarted } from './helpers/payloads.ts';
import { postWebhook, startServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';

/** The app's own events, as an app declares them. */
type AppEvents = {
  'app:hand-raised': { peerId: string; raised: boolean };
  'app:poll-opened': { question: string };
};

async function until(check: () => boolean, what: string, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const transport of ['websocket', 'sse'] as const) {
  describe(`client: app events and occupancy over ${transport}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer();
    });
    after(() => server.close());

    test('typed app events arrive once, in order, and never change the state', async (t) => {
      const room = `cae-${transport}`;
      await postWebhook(server, 'meeting:started', meetingStarted(room));
      const client = createClient<AppEvents>({
        url: server.url,
        token: server.token,
        transport,
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      });
      t.after(() => client.close());
      const subscription = client.room(room, { occupancy: true });
      const raised: [string, number][] = [];
      subscription.on('app:hand-raised', (payload, meta: EventMeta) => {
        const peer: string = payload.peerId; // typed by AppEvents
        raised.push([peer, meta.seq]);
      });
      const polls: string[] = [];
      subscription.on('app:poll-opened', ({ question }) => polls.push(question));
      await until(() => subscription.status === 'live', 'live');
      const before = JSON.stringify(subscription.state);

      await server.app.roomcast.publish(room, 'app:hand-raised', { peerId: 'p1', raised: true });
      await server.app.roomcast.publish(room, 'app:poll-opened', { question: 'lunch?' });
      await server.app.roomcast.publish(room, 'app:hand-raised', { peerId: 'p2', raised: true });
      await until(() => raised.length === 2 && polls.length === 1, 'app events');
      assert.deepEqual(raised, [
        ['p1', 2],
        ['p2', 4],
      ]);
      assert.deepEqual(polls, ['lunch?']);
      assert.equal(JSON.stringify(subscription.state), before, 'the state is Huddle01’s room only');

      await until(() => subscription.occupancy === 1, 'occupancy 1');
      const second = createClient({
        url: server.url,
        token: server.token,
        transport,
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      });
      t.after(() => second.close());
      const seen: number[] = [];
      subscription.on('occupancy', (subscribers) => seen.push(subscribers));
      second.room(room);
      await until(() => subscription.occupancy === 2, 'occupancy 2');
      second.close();
      await until(() => subscription.occupancy === 1, 'occupancy back to 1');
      assert.deepEqual(seen, [2, 1]);
    });
  });
}
