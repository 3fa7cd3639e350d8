/**
 * The engine contract: one suite, run against every Engine implementation (memory now, Redis
 * later). Import `engineContract` and call it with a factory.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { allRooms } from '../server/src/engine/engine.ts';
import type {
  AppendInput,
  DeadLetter,
  Engine,
  LogEntry,
  RoomCursor,
} from '../server/src/engine/engine.ts';
import { meetingStarted, peerJoined, peerLeft, track } from './helpers/payloads.ts';
import { appendInput, webhookId } from './helpers/server.ts';
import { until } from './helpers/wait.ts';

/** Options every engine factory must honour. */
export interface ContractEngineOptions {
  historySize?: number;
  historyTtl?: number;
  trackHold?: number;
  now?: () => number;
}

function input(event: AppendInput['event'], payload: unknown, id = webhookId()): AppendInput {
  return appendInput(event, payload, { webhookId: id });
}

/** Runs the contract suite against engines made by `create`. */
export function engineContract(
  name: string,
  create: (options: ContractEngineOptions) => Promise<Engine>,
) {
  describe(`engine contract: ${name}`, () => {
    const engines: Engine[] = [];
    const make = async (options: ContractEngineOptions = {}) => {
      const engine = await create(options);
      engines.push(engine);
      return engine;
    };
    afterEach(async () => {
      await Promise.all(engines.splice(0).map((engine) => engine.close()));
    });

    test('append assigns consecutive seqs per room, in one epoch', async () => {
      const engine = await make();
      const a1 = await engine.append(input('meeting:started', meetingStarted('ca')));
      const b1 = await engine.append(input('meeting:started', meetingStarted('cb')));
      const a2 = await engine.append(input('peer:joined', peerJoined('ca', 'p1')));
      assert.equal(a1.status, 'appended');
      assert.equal(a2.status, 'appended');
      assert.equal(b1.status, 'appended');
      if (a1.status !== 'appended' || a2.status !== 'appended' || b1.status !== 'appended') return;
      assert.deepEqual([a1.seq, a2.seq, b1.seq], [1, 2, 1]);
      assert.equal(a1.epoch, a2.epoch);
      assert.equal(a1.roomId, 'ca');
    });

    test('an app event takes a seq in its named room, leaves the state alone, replays', async () => {
      const engine = await make();
      await engine.append(input('meeting:started', meetingStarted('capp')));
      await engine.append(input('peer:joined', peerJoined('capp', 'p1')));
      const before = await engine.snapshot('capp');
      const app = (id = webhookId()) =>
        engine.append({
          webhookId: id,
          event: 'app:hand-raised',
          payload: { peerId: 'p1', nested: { list: [1, 'two', null] } },
          receivedAt: Date.now(),
          roomId: 'capp',
        });
      const id = webhookId();
      const first = await app(id);
      assert.equal(first.status, 'appended');
      if (first.status !== 'appended') return;
      assert.equal(first.seq, 3);
      assert.deepEqual(await app(id), { status: 'duplicate' });
      const after = await engine.snapshot('capp');
      assert.equal(after.seq, 3);
      assert.deepEqual(after.state, before.state, 'an app event never changes the room state');
      const read = await engine.read('capp', { epoch: before.epoch, seq: 2 });
      assert.ok(read.recovered);
      if (!read.recovered) return;
      assert.deepEqual(
        read.entries.map((e) => [e.seq, e.event, e.payload]),
        [[3, 'app:hand-raised', { peerId: 'p1', nested: { list: [1, 'two', null] } }]],
      );
      // A room that only ever had app events exists, with the empty state.
      await engine.append({
        webhookId: webhookId(),
        event: 'app:poll-opened',
        payload: null,
        receivedAt: Date.now(),
        roomId: 'capp-only',
      });
      const only = await engine.snapshot('capp-only');
      assert.equal(only.seq, 1);
      assert.equal(Object.keys(only.state.peers).length, 0);
    });

    test('remember and recall keep a publish answer by id', async () => {
      const engine = await make();
      if (!engine.remember || !engine.recall) return;
      await engine.remember('app:r:k', '{"seq":4}', 60_000);
      assert.equal(await engine.recall('app:r:k'), '{"seq":4}');
      assert.equal(await engine.recall('app:r:other'), undefined);
    });

    test('a repeated webhook id is a duplicate and changes nothing', async () => {
      const engine = await make();
      const id = webhookId();
      await engine.append(input('meeting:started', meetingStarted('cd'), id));
      assert.deepEqual(await engine.append(input('meeting:started', meetingStarted('cd'), id)), {
        status: 'duplicate',
      });
      assert.equal((await engine.snapshot('cd')).seq, 1);
      assert.equal(await engine.seen(id), true);
      assert.equal(await engine.seen('never-seen'), false);
    });

    test('concurrent appends to one room get distinct consecutive seqs', async () => {
      const engine = await make();
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          engine.append(input('peer:joined', peerJoined('cc', `p${i}`))),
        ),
      );
      const seqs = results.map((r) => (r.status === 'appended' ? r.seq : -1)).sort((a, b) => a - b);
      assert.deepEqual(
        seqs,
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
    });

    test('snapshot is the reduced state at the head', async () => {
      const engine = await make();
      const empty = await engine.snapshot('cs');
      assert.equal(empty.seq, 0);
      assert.deepEqual(empty.state.peers, {});
      await engine.append(input('meeting:started', meetingStarted('cs')));
      await engine.append(input('peer:joined', peerJoined('cs', 'p1')));
      await engine.append(input('peer:joined', peerJoined('cs', 'p2')));
      await engine.append(input('peer:left', peerLeft('cs', 'p1')));
      const snapshot = await engine.snapshot('cs');
      assert.equal(snapshot.seq, 4);
      assert.equal(snapshot.epoch, empty.epoch);
      assert.deepEqual(Object.keys(snapshot.state.peers), ['p2']);
      assert.equal(snapshot.state.meeting.active, true);
    });

    test('subscribers get every new entry in order, and nothing after unsubscribing', async () => {
      const engine = await make();
      const seen: LogEntry[] = [];
      const stop = await engine.subscribe('cl', (entry) => seen.push(entry));
      for (let i = 0; i < 5; i++)
        await engine.append(input('peer:joined', peerJoined('cl', `p${i}`)));
      await engine.append(input('peer:joined', peerJoined('other-room', 'x')));
      await until(() => seen.length >= 5, { what: 'five entries' });
      assert.deepEqual(
        seen.map((e) => e.seq),
        [1, 2, 3, 4, 5],
      );
      assert.ok(seen.every((e) => e.roomId === 'cl' && e.event === 'peer:joined'));
      await stop();
      // A probe subscribed after the stop gets the late entry: by then the stopped one would have.
      const probe: LogEntry[] = [];
      const stopProbe = await engine.subscribe('cl', (entry) => probe.push(entry));
      await engine.append(input('peer:joined', peerJoined('cl', 'late')));
      await until(() => probe.length === 1, { what: 'the late entry at the probe' });
      assert.equal(seen.length, 5);
      await stopProbe();
    });

    test('read: inside history recovers exactly the missed entries', async () => {
      const engine = await make();
      for (let i = 0; i < 6; i++)
        await engine.append(input('peer:joined', peerJoined('cr', `p${i}`)));
      const { epoch } = await engine.snapshot('cr');
      const result = await engine.read('cr', { epoch, seq: 3 });
      assert.equal(result.recovered, true);
      if (!result.recovered) return;
      assert.deepEqual(
        result.entries.map((e) => e.seq),
        [4, 5, 6],
      );
      assert.deepEqual(result.head, { epoch, seq: 6 });
      const atHead = await engine.read('cr', { epoch, seq: 6 });
      assert.equal(atHead.recovered, true);
      if (atHead.recovered) assert.equal(atHead.entries.length, 0);
    });

    test('read: another epoch, a future seq, or a trimmed history gives a snapshot', async () => {
      const engine = await make({ historySize: 3 });
      for (let i = 0; i < 6; i++)
        await engine.append(input('peer:joined', peerJoined('ch', `p${i}`)));
      const { epoch } = await engine.snapshot('ch');
      for (const since of [
        { epoch: 'otherEpoch', seq: 5 },
        { epoch, seq: 99 },
        { epoch, seq: 1 },
      ]) {
        const result = await engine.read('ch', since);
        assert.equal(result.recovered, false, JSON.stringify(since));
        if (!result.recovered) assert.equal(result.snapshot.seq, 6);
      }
      const inside = await engine.read('ch', { epoch, seq: 3 });
      assert.equal(inside.recovered, true);
      if (inside.recovered)
        assert.deepEqual(
          inside.entries.map((e) => e.seq),
          [4, 5, 6],
        );
    });

    test('read: entries older than historyTtl are not replayed, a snapshot comes instead', async () => {
      let clock = Date.now();
      const engine = await make({ historyTtl: 60_000, now: () => clock });
      for (let i = 0; i < 3; i++) {
        await engine.append({
          ...input('peer:joined', peerJoined('cttl', `p${i}`)),
          receivedAt: clock,
        });
      }
      const { epoch } = await engine.snapshot('cttl');
      const inside = await engine.read('cttl', { epoch, seq: 1 });
      assert.equal(inside.recovered, true);
      if (inside.recovered)
        assert.deepEqual(
          inside.entries.map((e) => e.seq),
          [2, 3],
        );
      clock += 120_000;
      const expired = await engine.read('cttl', { epoch, seq: 1 });
      assert.equal(expired.recovered, false);
      if (!expired.recovered) {
        assert.equal(expired.snapshot.seq, 3);
        assert.deepEqual(Object.keys(expired.snapshot.state.peers).sort(), ['p0', 'p1', 'p2']);
      }
      // At the head nothing is missed, however old the history.
      assert.equal((await engine.read('cttl', { epoch, seq: 3 })).recovered, true);
    });

    test('watch: every entry this engine appends, held track events too, in append order', async () => {
      const engine = await make({ trackHold: 5000 });
      const watched: LogEntry[] = [];
      const stop = engine.watch((entry) => watched.push(entry));
      await engine.append(input('meeting:started', meetingStarted('cw1')));
      await engine.append(input('peer:trackPublished', track('pw', 'audio')));
      const dupId = webhookId();
      await engine.append(input('meeting:started', meetingStarted('cw2'), dupId));
      await engine.append(input('meeting:started', meetingStarted('cw2'), dupId));
      await engine.append(input('peer:joined', peerJoined('cw1', 'pw')));
      await until(() => watched.length >= 4, { what: 'four watched entries' });
      // The duplicate is not appended, so not watched; the held track follows its peer's join.
      assert.deepEqual(
        watched.map((e) => `${e.roomId} ${e.seq} ${e.event}`),
        [
          'cw1 1 meeting:started',
          'cw2 1 meeting:started',
          'cw1 2 peer:joined',
          'cw1 3 peer:trackPublished',
        ],
      );
      stop();
      // A probe watching after the stop sees the next entry: by then the stopped one would have.
      const probe: LogEntry[] = [];
      const stopProbe = engine.watch((entry) => probe.push(entry));
      await engine.append(input('peer:left', peerLeft('cw1', 'pw')));
      await until(() => probe.length === 1, { what: 'the next entry at the probe' });
      assert.equal(watched.length, 4);
      stopProbe();
    });

    test('track events route through the peer→room index; early ones wait for peer:joined', async () => {
      const engine = await make({ trackHold: 5000 });
      const early = await engine.append(input('peer:trackPublished', track('pt', 'video')));
      assert.deepEqual(early, { status: 'held', peerId: 'pt' });
      await engine.append(input('peer:joined', peerJoined('ct', 'pt')));
      const later = await engine.append(input('peer:trackPublished', track('pt', 'audio')));
      assert.equal(later.status === 'appended' && later.roomId, 'ct');
      const snapshot = await engine.snapshot('ct');
      assert.equal(snapshot.seq, 3);
      assert.deepEqual(snapshot.state.peers.pt?.tracks, ['audio', 'video']);
    });

    test('a held track event whose peer never joins becomes a dead letter', async () => {
      const engine = await make({ trackHold: 100 });
      const id = webhookId();
      await engine.append(input('peer:trackPublished', track('ghost'), id));
      let letter: DeadLetter | undefined;
      await until(
        async () =>
          (letter = (await engine.deadLetters()).find((l) => l.webhookId === id)) !== undefined,
        { what: 'the dead letter' },
      );
      assert.equal(letter?.reason, 'UNROUTABLE');
    });

    test('dead letters are kept newest first and deduplicated by id', async () => {
      const engine = await make();
      const letter = {
        webhookId: webhookId(),
        event: 'x:y',
        reason: 'UNKNOWN_EVENT' as const,
        detail: 'd',
        receivedAt: 1,
        body: {},
      };
      assert.equal(await engine.deadLetter(letter), 'kept');
      assert.equal(await engine.deadLetter(letter), 'duplicate');
      const second = { ...letter, webhookId: webhookId() };
      await engine.deadLetter(second);
      const letters = await engine.deadLetters();
      assert.deepEqual(
        letters.slice(0, 2).map((l) => l.webhookId),
        [second.webhookId, letter.webhookId],
      );
    });

    test('listRooms lists rooms with events, with peer counts', async () => {
      const engine = await make();
      await engine.append(input('meeting:started', meetingStarted('cr1')));
      await engine.append(input('peer:joined', peerJoined('cr1', 'a')));
      await engine.append(input('peer:joined', peerJoined('cr1', 'b')));
      await engine.snapshot('never-written');
      const rooms = await allRooms(engine);
      const room = rooms.find((r) => r.roomId === 'cr1');
      assert.equal(room?.peers, 2);
      assert.equal(room?.meetingActive, true);
      assert.equal(room?.seq, 3);
      assert.equal(
        rooms.some((r) => r.roomId === 'never-written'),
        false,
      );
    });

    // A clock far ahead: rooms of other tests (real time) are idle to it, so the list is ours.
    const listClock = () => {
      const clock = { at: Date.now() + 400 * 86_400_000 };
      return { clock, now: () => clock.at };
    };
    const pageIds = async (engine: Engine, limit: number, cursor?: RoomCursor) => {
      const page = await engine.listRooms(cursor ? { limit, cursor } : { limit });
      return { ids: page.rooms.map((room) => room.roomId), next: page.nextCursor };
    };

    test('listRooms pages newest activity first, ties by id, with a cursor to the end', async () => {
      const { clock, now } = listClock();
      const engine = await make({ now });
      for (const room of ['lp-a', 'lp-b', 'lp-c', 'lp-d', 'lp-e']) {
        clock.at += 10;
        await engine.append(input('meeting:started', meetingStarted(room)));
      }
      // Two rooms active in the same millisecond: the greater id first (Redis's own order).
      clock.at += 10;
      await engine.append(input('peer:joined', peerJoined('lp-b', 'x')));
      await engine.append(input('peer:joined', peerJoined('lp-c', 'y')));
      const seen: string[] = [];
      let cursor: RoomCursor | undefined;
      let pages = 0;
      do {
        const { ids, next } = await pageIds(engine, 2, cursor);
        assert.ok(ids.length <= 2);
        seen.push(...ids);
        cursor = next ?? undefined;
        pages++;
      } while (cursor && pages < 10);
      assert.deepEqual(seen, ['lp-c', 'lp-b', 'lp-e', 'lp-d', 'lp-a']);
      assert.equal(pages, 3);
      const first = await engine.listRooms({ limit: 2 });
      assert.deepEqual(
        first.rooms.map((room) => room.updatedAt),
        [clock.at, clock.at],
      );
      const exact = await engine.listRooms({ limit: 5 });
      assert.equal(exact.nextCursor, null, 'a page that reaches the end has no next cursor');
      const recent = await engine.listRooms({ limit: 10, after: clock.at - 15 });
      assert.deepEqual(
        recent.rooms.map((room) => room.roomId),
        ['lp-c', 'lp-b', 'lp-e'],
        '`after` lists only rooms active since then',
      );
    });

    test('a room list cursor stays valid while rooms change: unchanged rooms once each', async () => {
      const { clock, now } = listClock();
      const engine = await make({ now });
      const rooms = ['lc-1', 'lc-2', 'lc-3', 'lc-4', 'lc-5', 'lc-6', 'lc-7'];
      for (const room of rooms) {
        clock.at += 10;
        await engine.append(input('meeting:started', meetingStarted(room)));
      }
      const first = await pageIds(engine, 3);
      assert.deepEqual(first.ids, ['lc-7', 'lc-6', 'lc-5']);
      // Meanwhile: the cursor's own room and a room of a later page get events, a new room starts.
      clock.at += 10;
      await engine.append(input('peer:joined', peerJoined('lc-5', 'p')));
      await engine.append(input('peer:joined', peerJoined('lc-3', 'q')));
      await engine.append(input('meeting:started', meetingStarted('lc-new')));
      const rest: string[] = [];
      let cursor = first.next ?? undefined;
      while (cursor) {
        const page = await pageIds(engine, 3, cursor);
        rest.push(...page.ids);
        cursor = page.next ?? undefined;
      }
      assert.deepEqual(rest, ['lc-4', 'lc-2', 'lc-1'], 'no duplicate, no skip of unchanged rooms');
      const fresh = await pageIds(engine, 3);
      assert.deepEqual(fresh.ids, ['lc-new', 'lc-5', 'lc-3'], 'moved rooms lead a new first page');
    });

    test('a real webhook after the synthetic one reconcile appended is redundant, not appended', async () => {
      const engine = await make();
      await engine.append(input('meeting:started', meetingStarted('cx')));
      await engine.append(input('peer:joined', peerJoined('cx', 'ghost')));
      const healed = await engine.append(
        input('peer:left', { ...peerLeft('cx', 'ghost', 1_790_000_900_000), source: 'reconcile' }),
      );
      assert.equal(healed.status, 'appended');
      const lateId = webhookId();
      // Huddle01's own peer:left, older than the moment reconcile saw the peer gone.
      const late = await engine.append(input('peer:left', peerLeft('cx', 'ghost'), lateId));
      assert.deepEqual(late, { status: 'redundant', roomId: 'cx' });
      assert.equal((await engine.snapshot('cx')).seq, 3);
      assert.equal(await engine.seen(lateId), true);
      assert.deepEqual(await engine.append(input('peer:left', peerLeft('cx', 'ghost'), lateId)), {
        status: 'duplicate',
      });
    });

    test('a synthetic correction a real webhook already made is redundant; a seeded peer is not joined twice', async () => {
      const engine = await make();
      await engine.append(input('meeting:started', meetingStarted('cy')));
      await engine.append(input('peer:joined', peerJoined('cy', 'p1')));
      await engine.append(input('peer:left', peerLeft('cy', 'p1')));
      const moot = await engine.append(
        input('peer:left', { ...peerLeft('cy', 'p1', 1_790_000_900_000), source: 'reconcile' }),
      );
      assert.deepEqual(moot, { status: 'redundant', roomId: 'cy' });
      const seeded = await engine.append(
        input('peer:joined', { ...peerJoined('cy', 'p2'), browser: {}, source: 'reconcile' }),
      );
      assert.equal(seeded.status, 'appended');
      const real = await engine.append(input('peer:joined', peerJoined('cy', 'p2')));
      assert.deepEqual(real, { status: 'redundant', roomId: 'cy' });
      const snapshot = await engine.snapshot('cy');
      assert.equal(snapshot.seq, 4);
      assert.equal(snapshot.state.peers.p2?.source, 'reconcile');
    });

    test('lease: a fresh room lease is granted', async () => {
      const engine = await make();
      assert.equal(await engine.lease?.('cz', 5000), true);
    });

    test('ping resolves while the engine is up', async () => {
      const engine = await make();
      await engine.ping();
    });
  });
}
