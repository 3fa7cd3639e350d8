/**
 * The rooms feed through real sockets: a `*` connection sends `{type:"rooms"}` and gets the
 * first page, then deltas of only the rooms that changed (at most one frame a second); other
 * tokens are refused, bad pages too; `unsubscribe "*"` leaves; and on two nodes sharing Redis a
 * node's feed carries rooms appended through the other node.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { startRedisNodes } from './helpers/redis-nodes.ts';
import type { RedisNodes } from './helpers/redis-nodes.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import { postWebhook, startServer, testToken } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { connect } from './helpers/ws-client.ts';
import type { Frame, TestSocket } from './helpers/ws-client.ts';

type RoomsFrame = Frame & {
  rooms: { roomId: string; peers: number; subscribers: number; updatedAt: number }[];
  nextCursor?: string | null;
  idleTtl?: number;
};

const roomsFrames = (socket: TestSocket) =>
  socket.frames.filter((f): f is RoomsFrame => f.type === 'rooms');
const deltaWith = (socket: TestSocket, roomId: string) =>
  roomsFrames(socket).find(
    (f) => f.idleTtl === undefined && f.rooms.some((r) => r.roomId === roomId),
  );

async function feedMember(server: TestServer, frame: Record<string, unknown> = {}) {
  const socket = await connect(server.wsUrl);
  socket.send({ type: 'rooms', ...frame });
  await socket.until((frames) => frames.some((f) => f.type === 'rooms'), 5000, 'first page');
  return socket;
}

describe('rooms feed, one node', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test('first page, then only the changed rooms; unsubscribe "*" leaves the feed', async (t) => {
    for (const room of ['feed-a', 'feed-b', 'feed-c']) {
      await postWebhook(server, 'meeting:started', meetingStarted(room));
    }
    const started = Date.now();
    const member = await feedMember(server, { limit: 2 });
    t.after(() => member.socket.terminate());
    const [first] = roomsFrames(member);
    assert.deepEqual(
      first?.rooms.map((r) => r.roomId),
      ['feed-c', 'feed-b'],
    );
    assert.equal(typeof first?.nextCursor, 'string', 'the rest of the list is a GET /rooms away');
    assert.equal(first?.idleTtl, 86_400_000);
    const rest = (await (
      await server.get(`/rooms?cursor=${encodeURIComponent(first!.nextCursor!)}`)
    ).json()) as { rooms: { roomId: string }[] };
    assert.equal(rest.rooms[0]?.roomId, 'feed-a');

    await postWebhook(server, 'peer:joined', peerJoined('feed-a', 'p1'));
    await postWebhook(server, 'meeting:started', meetingStarted('feed-new'));
    await member.until(
      () => Boolean(deltaWith(member, 'feed-a') && deltaWith(member, 'feed-new')),
      8000,
      'a delta with feed-a and feed-new',
    );
    const deltas = roomsFrames(member).slice(1);
    const listed = deltas.flatMap((f) => f.rooms.map((r) => r.roomId));
    assert.ok(!listed.includes('feed-b') && !listed.includes('feed-c'), `unchanged: ${listed}`);
    assert.equal(deltaWith(member, 'feed-a')!.rooms.find((r) => r.roomId === 'feed-a')?.peers, 1);
    assert.ok(
      deltas.length <= Math.ceil((Date.now() - started) / 1000) + 1,
      'one a second at most',
    );

    // Leaving: a member that stays in sees the next change, the one that left does not.
    const other = await feedMember(server);
    t.after(() => other.socket.terminate());
    member.send({ type: 'unsubscribe', room: '*' });
    // Deltas go out on the next tick: the unsubscribe, sent first, is handled long before.
    const before = member.frames.length;
    await postWebhook(server, 'peer:joined', peerJoined('feed-b', 'p2'));
    await other.until(() => Boolean(deltaWith(other, 'feed-b')), 8000, 'feed-b on the other');
    assert.equal(
      member.frames.slice(before).filter((f) => f.type === 'rooms').length,
      0,
      'no frame after leaving',
    );
  });

  test('a token without "*" is FORBIDDEN; a bad limit or cursor is INVALID_PAGE', async (t) => {
    const token = await testToken(['feed-a']);
    const narrow = await connect(`${server.bareWsUrl}?token=${token}`);
    t.after(() => narrow.socket.terminate());
    narrow.send({ type: 'rooms' });
    const [refused] = await narrow.until((f) => f.some((x) => x.type === 'error'));
    assert.equal(refused?.code, 'FORBIDDEN');
    assert.equal(refused?.room, '*');

    const socket = await connect(server.wsUrl);
    t.after(() => socket.socket.terminate());
    for (const frame of [{ limit: 0 }, { limit: 501 }, { limit: 'ten' }, { cursor: '!!' }]) {
      socket.send({ type: 'rooms', ...frame });
    }
    const errors = await socket.until((f) => f.filter((x) => x.type === 'error').length === 4);
    assert.deepEqual(
      errors.map((f) => f.code),
      ['INVALID_PAGE', 'INVALID_PAGE', 'INVALID_PAGE', 'INVALID_PAGE'],
    );
    assert.equal(roomsFrames(socket).length, 0);
  });
});

const redis = await startRedisServer();
describe('rooms feed, two nodes on one Redis', { skip: !redis }, () => {
  let nodes: RedisNodes | undefined;
  before(async () => {
    nodes = await startRedisNodes(redis!.url, 'feed');
  });
  after(async () => {
    await nodes?.close();
    await redis?.close();
  });

  test("a node's feed carries rooms appended through the other node", async (t) => {
    const { a, b } = nodes!;
    await postWebhook(b, 'meeting:started', meetingStarted('feed-r1'));
    const member = await feedMember(a);
    t.after(() => member.socket.terminate());
    assert.ok(roomsFrames(member)[0]!.rooms.some((r) => r.roomId === 'feed-r1'));
    // Nobody subscribes to feed-r2 anywhere: node A learns of it from the shared index only.
    await postWebhook(b, 'meeting:started', meetingStarted('feed-r2'));
    await postWebhook(b, 'peer:joined', peerJoined('feed-r2', 'p'));
    await member.until(
      () => deltaWith(member, 'feed-r2')?.rooms.find((r) => r.roomId === 'feed-r2')?.peers === 1,
      8000,
      'feed-r2 with its peer',
    );
  });
});
