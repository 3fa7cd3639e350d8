/**
 * REST: room snapshots, room history, the active-rooms list, health and readiness.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { meetingStarted, peerJoined, peerLeft } from './helpers/payloads.ts';
import { postWebhook, startServer, testToken } from './helpers/server.ts';
import { createMemoryEngine } from '../server/src/engine/memory-engine.ts';
import { readHistory } from '../server/src/rooms/room-routes.ts';
import type { TestServer } from './helpers/server.ts';

describe('REST', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test('GET /rooms/:roomId is {roomId, epoch, seq, state}', async () => {
    await postWebhook(server, 'meeting:started', meetingStarted('rest-a'));
    await postWebhook(
      server,
      'peer:joined',
      peerJoined('rest-a', 'p1', undefined, undefined, { metadata: '{"displayName":"Ada"}' }),
    );
    await postWebhook(server, 'peer:joined', peerJoined('rest-a', 'p2'));
    await postWebhook(server, 'peer:left', peerLeft('rest-a', 'p2'));
    const response = await server.get('/rooms/rest-a');
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      roomId: string;
      epoch: string;
      seq: number;
      state: { peers: Record<string, { metadata: unknown }>; meeting: { active: boolean } };
    };
    assert.equal(body.roomId, 'rest-a');
    assert.equal(body.seq, 4);
    assert.match(body.epoch, /^[\w-]+$/);
    assert.deepEqual(Object.keys(body.state.peers), ['p1']);
    assert.deepEqual(body.state.peers.p1?.metadata, { displayName: 'Ada' });
  });

  test('GET /rooms/:roomId/history: retained event frames, newest last, limit, token rules', async () => {
    for (let i = 0; i < 6; i++)
      await postWebhook(server, 'peer:joined', peerJoined('rest-h', `p${i}`));
    const response = await server.get('/rooms/rest-h/history?limit=4');
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      roomId: string;
      epoch: string;
      events: Array<{ type: string; room: string; epoch: string; seq: number; event: string }>;
    };
    assert.equal(body.roomId, 'rest-h');
    assert.deepEqual(
      body.events.map((event) => event.seq),
      [3, 4, 5, 6],
    );
    for (const event of body.events) {
      assert.equal(event.type, 'event');
      assert.equal(event.room, 'rest-h');
      assert.equal(event.epoch, body.epoch);
      assert.equal(event.event, 'peer:joined');
    }
    const all = (await (await server.get('/rooms/rest-h/history')).json()) as { events: [] };
    assert.equal(all.events.length, 6, 'default limit 100');
    const empty = (await (await server.get('/rooms/rest-nothing/history')).json()) as {
      events: [];
    };
    assert.deepEqual(empty.events, []);
    for (const limit of ['0', '-1', 'x', '1.5'])
      assert.equal((await server.get(`/rooms/rest-h/history?limit=${limit}`)).status, 400);
    assert.equal((await fetch(`${server.url}/rooms/rest-h/history`)).status, 401);
    const other = await testToken(['other']);
    const forbidden = await fetch(`${server.url}/rooms/rest-h/history`, {
      headers: { authorization: `Bearer ${other}` },
    });
    assert.equal(forbidden.status, 403);
  });

  test('history trimmed by size: the page holds what is retained', async () => {
    const engine = createMemoryEngine({ historySize: 3 });
    try {
      for (let i = 0; i < 5; i++) {
        await engine.append({
          webhookId: `h-${i}`,
          event: 'peer:joined',
          payload: peerJoined('trim', `p${i}`) as never,
          receivedAt: Date.now(),
        });
      }
      const page = await readHistory(engine, 'trim', 100);
      assert.deepEqual(
        page.events.map((event) => event.seq),
        [3, 4, 5],
      );
    } finally {
      await engine.close();
    }
  });

  test('GET /rooms lists active rooms with peer counts, newest activity first', async () => {
    await postWebhook(server, 'meeting:started', meetingStarted('rest-b'));
    await postWebhook(server, 'peer:joined', peerJoined('rest-b', 'x'));
    const body = (await (await server.get('/rooms')).json()) as {
      rooms: Array<{
        roomId: string;
        peers: number;
        meetingActive: boolean;
        recordingActive: boolean;
      }>;
    };
    assert.equal(body.rooms[0]?.roomId, 'rest-b');
    assert.equal(body.rooms[0]?.peers, 1);
    assert.equal(body.rooms[0]?.meetingActive, true);
    assert.equal(body.rooms.find((r) => r.roomId === 'rest-a')?.peers, 1);
  });

  test('GET /rooms pages with ?limit= and ?cursor= to a null nextCursor; bad ones: 400 INVALID_PAGE', async () => {
    for (const room of ['rest-p1', 'rest-p2', 'rest-p3']) {
      await postWebhook(server, 'meeting:started', meetingStarted(room));
    }
    type Page = {
      rooms: Array<{ roomId: string; subscribers: number }>;
      nextCursor: string | null;
    };
    const ids: string[] = [];
    let path = '/rooms?limit=2';
    for (let pages = 0; pages < 20; pages++) {
      const page = (await (await server.get(path)).json()) as Page;
      assert.ok(page.rooms.length <= 2);
      assert.equal(page.rooms[0]?.subscribers, 0);
      ids.push(...page.rooms.map((room) => room.roomId));
      if (page.nextCursor === null) break;
      path = `/rooms?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    assert.deepEqual(ids.slice(0, 3), ['rest-p3', 'rest-p2', 'rest-p1']);
    assert.equal(new Set(ids).size, ids.length, 'no room twice');
    const all = (await (await server.get('/rooms')).json()) as Page;
    assert.deepEqual(
      ids,
      all.rooms.map((room) => room.roomId),
    );
    assert.equal(all.nextCursor, null);
    for (const query of ['limit=0', 'limit=501', 'limit=two', 'limit=1&limit=2', 'cursor=%25%25']) {
      const refused = await server.get(`/rooms?${query}`);
      assert.equal(refused.status, 400, query);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'INVALID_PAGE', query);
    }
    const forged = await server.get(`/rooms?cursor=${Buffer.from('x').toString('base64url')}`);
    assert.equal(forged.status, 400);
  });

  test('invalid room id: 400 BAD_REQUEST; unknown route: 404 NOT_FOUND', async () => {
    const bad = await server.get(`/rooms/${encodeURIComponent('has space')}`);
    assert.equal(bad.status, 400);
    const missing = await fetch(`${server.url}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });

  test('healthz and readyz answer 200 while the engine is up', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  });
});
