// Presence that does not flap: a peer:left followed by the same peer's peer:joined within the
// presence grace shows the peer reconnecting, never gone; a longer absence does show it gone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RoomEvent } from '../shared/src/events.ts';
import {
  emptyRoomState,
  isRejoin,
  reduceRoom,
  settleRoom,
  type RoomState,
} from '../shared/src/room-state.ts';

const ROOM = 'room-1';
const GRACE = 10_000;
const IDS = ['a', 'b', 'c', '__proto__'];

const joined = (id: string, joinedAt: number): RoomEvent => ({
  event: 'peer:joined',
  payload: {
    id,
    sessionId: 's1',
    roomId: ROOM,
    joinedAt,
    metadata: `{"at":${joinedAt}}`,
    browser: { name: 'Chrome' },
    device: { type: 'desktop' },
  },
});
const left = (id: string, leftAt: number): RoomEvent => ({
  event: 'peer:left',
  payload: { id, sessionId: 's1', roomId: ROOM, leftAt, duration: 1 },
});
const timeOf = (e: RoomEvent) =>
  e.event === 'peer:joined' ? e.payload.joinedAt : (e.payload as { leftAt: number }).leftAt;

const fold = (
  events: readonly RoomEvent[],
  state = emptyRoomState(ROOM, { presenceGrace: GRACE }),
) => events.reduce((s, e) => reduceRoom(s, e), state);
/** The state as plain JSON (what a snapshot carries). */
const plain = (state: RoomState) => JSON.parse(JSON.stringify(state)) as RoomState;
const shown = (state: RoomState, id: string) =>
  Object.hasOwn(state.peers, id) || Object.hasOwn(state.reconnecting ?? {}, id);
const permutation = <T>(items: readonly T[]) =>
  fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });

describe('presence grace', () => {
  it('a blip shows the peer reconnecting, the rejoin is recognised, and the grace runs out', () => {
    let state = fold([joined('a', 1000), left('a', 5000)]);
    assert.equal(state.peers.a, undefined);
    assert.equal(state.departed.a, 5000);
    assert.deepEqual(state.reconnecting?.a, { ...state.reconnecting!.a!, id: 'a', leftAt: 5000 });
    assert.equal(state.reconnecting?.a?.joinedAt, 1000);
    // The snapshot of that state agrees, and reads back into the same state.
    assert.deepEqual(plain(state).reconnecting, state.reconnecting);
    assert.equal(isRejoin(plain(state), joined('a', 9000)), true);
    assert.equal(isRejoin(state, joined('a', 5000 + GRACE)), false, 'too late: a new arrival');
    const back = reduceRoom(state, joined('a', 9000));
    assert.equal(back.peers.a?.joinedAt, 9000);
    assert.equal(back.reconnecting, undefined);
    assert.equal(back.departed.a, undefined);
    // Without a rejoin: still reconnecting just before the grace ends, gone at its end.
    assert.equal(settleRoom(state, 5000 + GRACE - 1).reconnecting?.a?.leftAt, 5000);
    state = settleRoom(plain(state), 5000 + GRACE);
    assert.equal(state.reconnecting, undefined);
    assert.equal(state.departed.a, 5000);
    assert.equal(state.updatedAt, 5000 + GRACE);
    assert.equal(settleRoom(state, 10), state, 'an earlier now changes nothing');
  });

  it('is off without a grace, and an ended meeting leaves nobody reconnecting', () => {
    const off = [joined('a', 1), left('a', 2)].reduce(
      (s, e) => reduceRoom(s, e),
      emptyRoomState(ROOM),
    );
    assert.deepEqual(Object.keys(off), Object.keys(emptyRoomState(ROOM)));
    const ended = reduceRoom(fold([joined('a', 1), left('a', 2), joined('b', 1)]), {
      event: 'meeting:ended',
      payload: {
        sessionId: 's1',
        roomId: ROOM,
        createdAt: 0,
        endedAt: 3,
        duration: 3,
        participants: 2,
        maxParticipants: 2,
        audioMinutes: 0,
        videoMinutes: 0,
      },
    });
    assert.equal(ended.reconnecting, undefined);
    assert.deepEqual(ended.departed, { a: 2, b: 3 });
  });

  // Per peer: stays separated by gaps, some shorter than the grace (blips), some longer.
  const histories = fc.uniqueArray(
    fc.record({
      id: fc.constantFrom(...IDS),
      start: fc.integer({ min: 0, max: 50_000 }),
      steps: fc.array(fc.integer({ min: 1, max: 3 * GRACE }), { minLength: 1, maxLength: 6 }),
    }),
    { selector: (h) => h.id, maxLength: IDS.length },
  );
  const eventsOf = (h: { id: string; start: number; steps: number[] }) => {
    let time = h.start;
    return h.steps.map((step, i) => {
      time += step;
      return i % 2 === 0 ? joined(h.id, time) : left(h.id, time);
    });
  };

  it('any order of arrival gives the same state, settled or not', () => {
    const scenario = histories
      .map((hs) => hs.flatMap(eventsOf))
      .chain((events) =>
        fc.tuple(fc.constant(events), permutation(events), fc.integer({ min: 0, max: 4 * GRACE })),
      );
    fc.assert(
      fc.property(scenario, ([events, shuffled, later]) => {
        const inOrder = fold(events);
        const reordered = fold(shuffled);
        assert.deepEqual(plain(reordered), plain(inOrder));
        // A state that went through JSON (a snapshot) settles like the one that did not.
        const now = inOrder.updatedAt + later;
        assert.deepEqual(plain(settleRoom(plain(reordered), now)), plain(settleRoom(inOrder, now)));
      }),
      { numRuns: 300 },
    );
  });

  it('a blip shorter than the grace never shows the peer as gone, in any order', () => {
    // Peer `a` joins, leaves and rejoins within the grace; the other peers' events all happen
    // before the rejoin, so the clock never passes the grace while `a` is away.
    const scenario = fc
      .record({
        joinAt: fc.integer({ min: 1000, max: 50_000 }),
        stay: fc.integer({ min: 0, max: 5 * GRACE }),
        away: fc.integer({ min: 1, max: GRACE - 1 }),
        others: histories.map((hs) => hs.filter((h) => h.id !== 'a')),
      })
      .map(({ joinAt, stay, away, others }) => {
        const back = joinAt + stay + away;
        const mine = [joined('a', joinAt), left('a', joinAt + stay), joined('a', back)];
        const theirs = others.flatMap(eventsOf).filter((e) => timeOf(e) <= back);
        return { mine, all: [...mine, ...theirs] };
      })
      .chain((s) => permutation(s.all).map((shuffled) => ({ ...s, shuffled })));
    fc.assert(
      fc.property(scenario, ({ mine, shuffled }) => {
        let state = emptyRoomState(ROOM, { presenceGrace: GRACE });
        let joinsSeen = 0;
        for (const event of shuffled) {
          const inTime = event === mine[2] && shuffled.indexOf(mine[1]!) < shuffled.indexOf(event);
          if (inTime && shuffled.indexOf(mine[0]!) < shuffled.indexOf(event)) {
            assert.equal(isRejoin(state, event), true, 'the rejoin is a blip');
          }
          state = reduceRoom(state, event);
          if (event === mine[0] || event === mine[2]) joinsSeen++;
          if (joinsSeen > 0) assert.ok(shown(state, 'a'), 'a is present or reconnecting');
        }
        assert.equal(state.peers.a?.joinedAt, timeOf(mine[2]!));
        assert.equal(state.reconnecting?.a, undefined);
      }),
      { numRuns: 300 },
    );
  });

  it('an absence as long as the grace shows the peer gone, and its return is an arrival', () => {
    const scenario = fc.record({
      joinAt: fc.integer({ min: 1000, max: 50_000 }),
      stay: fc.integer({ min: 0, max: 5 * GRACE }),
      away: fc.integer({ min: GRACE, max: 10 * GRACE }),
      settleAt: fc.integer({ min: 0, max: 10 * GRACE }),
    });
    fc.assert(
      fc.property(scenario, ({ joinAt, stay, away, settleAt }) => {
        const leftAt = joinAt + stay;
        let state = fold([joined('a', joinAt), left('a', leftAt)]);
        assert.ok(shown(state, 'a'), 'reconnecting at first');
        // Time passes without events (settleRoom) or with another peer's events (the clock).
        const now = leftAt + GRACE + Math.min(settleAt, away - GRACE);
        const viaClock = reduceRoom(state, joined('b', now));
        state = settleRoom(state, now);
        assert.equal(shown(state, 'a'), false, 'gone once the grace ran out');
        assert.equal(shown(viaClock, 'a'), false);
        const back = joined('a', leftAt + away);
        assert.equal(isRejoin(state, back), false);
        assert.equal(reduceRoom(state, back).peers.a?.joinedAt, leftAt + away);
      }),
      { numRuns: 300 },
    );
  });
});
