/**
 * The invariant checker itself, on made-up frames: a checker that cannot fail proves nothing,
 * so each broken guarantee must be caught, and the one allowed break (a resync) must pass.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyRoomState, reduceRoom } from '../../shared/src/index.ts';
import type { RoomEvent, RoomState } from '../../shared/src/index.ts';
import { peerJoined } from '../helpers/payloads.ts';
import { createInvariantChecker } from './invariant-checker.ts';
import type { InvariantChecker, ReceivedFrame, RoomHead } from './invariant-checker.ts';

const ROOM = 'r';
const EPOCH = 'e1';
const at = (seq: number) => ({ epoch: EPOCH, seq });

function event(seq: number, id = `w${seq}`): ReceivedFrame {
  return {
    type: 'event',
    room: ROOM,
    ...at(seq),
    id,
    event: 'peer:joined',
    payload: peerJoined(ROOM, `p${seq}`),
  };
}
const snapshot = (seq: number): ReceivedFrame => ({
  type: 'snapshot',
  room: ROOM,
  ...at(seq),
  recovered: false,
});
const subscribed = (seq: number, recovered: boolean): ReceivedFrame => ({
  type: 'subscribed',
  room: ROOM,
  ...at(seq),
  recovered,
});

/** The true state after `count` joins, as the server would hold it. */
function stateAfter(count: number): RoomState {
  let state = emptyRoomState(ROOM);
  for (let seq = 1; seq <= count; seq++) {
    state = reduceRoom(state, { event: 'peer:joined', payload: event(seq).payload } as RoomEvent);
  }
  return state;
}
const head = (seq: number, state = stateAfter(seq)): RoomHead => ({
  roomId: ROOM,
  ...at(seq),
  state,
});

/** A subscriber that joined at seq 0 and received `frames`. */
function run(frames: ReceivedFrame[], checker: InvariantChecker = createInvariantChecker()) {
  const track = checker.subscriber('s1');
  track.connecting([[ROOM, undefined]]);
  for (const frame of [snapshot(0), subscribed(0, false), ...frames]) track.frame(frame);
  return { checker, track };
}
const kinds = (checker: InvariantChecker, seq: number, state?: RoomState) =>
  checker.verify([head(seq, state)]).violations.map((violation) => violation.kind);

describe('invariant checker', () => {
  test('an intact stream, stitched across a resume, passes', () => {
    const { checker, track } = run([event(1), event(2)]);
    track.connecting([[ROOM, at(2)]]);
    for (const frame of [event(3), subscribed(3, true), event(4)]) track.frame(frame);
    checker.acknowledged({ roomId: ROOM, seq: 3, id: 'w3' });
    const summary = checker.verify([head(4)]);
    assert.deepEqual(summary.violations, []);
    assert.equal(summary.resumes, 1);
    assert.equal(summary.recovered, 1);
    assert.equal(summary.eventsDelivered, 4);
  });

  test('a gap, a duplicate and an event of another epoch are caught', () => {
    assert.deepEqual(kinds(run([event(1), event(3)]).checker, 3), ['gap', 'log-incomplete']);
    assert.deepEqual(kinds(run([event(1), event(1)]).checker, 1), ['duplicate']);
    const foreign = { ...event(1), epoch: 'e2' };
    assert.ok(kinds(run([foreign]).checker, 1).includes('epoch-switch'));
  });

  test('a resume that replays from the wrong place, or claims a wrong position, is caught', () => {
    const { checker, track } = run([event(1), event(2)]);
    track.connecting([[ROOM, at(2)]]);
    for (const frame of [event(2), subscribed(3, true)]) track.frame(frame);
    assert.deepEqual(kinds(checker, 2), ['duplicate', 'subscribed-position']);
    const wrongSince = run([event(1)]);
    wrongSince.track.connecting([[ROOM, at(0)]]);
    assert.ok(kinds(wrongSince.checker, 1).includes('resume-point'));
  });

  test('a resync (snapshot, recovered:false) is the allowed break, and is counted', () => {
    const { checker, track } = run([event(1)]);
    track.connecting([[ROOM, at(1)]]);
    for (const frame of [snapshot(5), subscribed(5, false), event(6)]) track.frame(frame);
    for (let seq = 2; seq <= 5; seq++)
      checker.acknowledged({ roomId: ROOM, seq, id: `w${seq}`, ...rest(seq) });
    const summary = checker.verify([head(6)]);
    assert.deepEqual(summary.violations, []);
    assert.equal(summary.resyncs, 1);
  });

  test('an acknowledged webhook missing from the log, or another id at its seq, is caught', () => {
    const lost = run([event(1)]).checker;
    lost.acknowledged({ roomId: ROOM, seq: 2, id: 'w2' });
    assert.deepEqual(kinds(lost, 1), ['ack-lost']);
    const swapped = run([event(1)]).checker;
    swapped.acknowledged({ roomId: ROOM, seq: 1, id: 'other' });
    assert.deepEqual(kinds(swapped, 1), ['ack-mismatch']);
    const duplicate = run([event(1)]).checker;
    duplicate.duplicate('never-seen', 'peer:joined');
    assert.deepEqual(kinds(duplicate, 1), ['duplicate-not-in-log']);
  });

  test('two subscribers that disagree on the order are caught', () => {
    const { checker } = run([event(1), event(2)]);
    run([event(1, 'w1'), event(2, 'w9')], checker);
    assert.deepEqual(kinds(checker, 2), ['order-disagreement']);
  });

  test('a subscriber left behind, and a state that is not the fold of the log, are caught', () => {
    assert.deepEqual(kinds(run([event(1)]).checker, 2, stateAfter(2)), [
      'not-at-head',
      'log-incomplete',
    ]);
    assert.deepEqual(kinds(run([event(1), event(2)]).checker, 2, stateAfter(1)), ['state']);
  });
});

/** Event and payload of the made-up webhook at `seq`, as an ack carries them. */
function rest(seq: number) {
  const { event: name, payload } = event(seq);
  return { event: name, payload };
}
