/**
 * The pure parts of reconcile: the plan (Huddle01's live view against the room state → synthetic
 * events) and the redundancy check the engines apply. Examples first, then fast-check
 * properties: the plan converges, is idempotent, yields valid marked events, and the late real
 * webhook of each correction (or the correction after a real webhook) is recognised.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { emptyRoomState, payloadSchemas, reduceRoom } from '../shared/src/index.ts';
import type { RoomEvent, RoomState } from '../shared/src/index.ts';
import { planReconcile, sameLiveSession } from '../server/src/reconcile/reconcile-plan.ts';
import type { LiveView, PlanInput } from '../server/src/reconcile/reconcile-plan.ts';
import { isRedundantAfterReconcile } from '../server/src/reconcile/redundancy.ts';

const ROOM = 'abc-defg-hij';
const T0 = 1_790_000_000_000;
const NOW = T0 + 3_600_000;
const SETTLE = 10_000;

const started = (sessionId: string, createdAt = T0): RoomEvent => ({
  event: 'meeting:started',
  payload: { sessionId, roomId: ROOM, createdAt },
});
const joined = (id: string, sessionId: string, joinedAt: number): RoomEvent => ({
  event: 'peer:joined',
  payload: { id, sessionId, roomId: ROOM, joinedAt, browser: { name: 'Firefox' }, device: {} },
});
const left = (id: string, sessionId: string, leftAt: number): RoomEvent => ({
  event: 'peer:left',
  payload: { id, sessionId, roomId: ROOM, leftAt, duration: 1 },
});
const ended = (sessionId: string, endedAt: number): RoomEvent => ({
  event: 'meeting:ended',
  payload: {
    sessionId,
    roomId: ROOM,
    createdAt: T0,
    endedAt,
    duration: 60,
    participants: 3,
    maxParticipants: 3,
    audioMinutes: 2,
    videoMinutes: 2,
  },
});

const media = (sessionId: string, counts: Counts, observedAt: number): RoomEvent => ({
  event: 'reconcile:media',
  payload: { roomId: ROOM, sessionId, ...counts, observedAt, source: 'reconcile' },
});
const fold = (events: RoomEvent[], state = emptyRoomState(ROOM)): RoomState =>
  events.reduce((s, e) => reduceRoom(s, e), state);

function plan(state: RoomState, live: LiveView | null, observedAt = NOW) {
  const input: PlanInput = { roomId: ROOM, state, live, observedAt, settleMs: SETTLE };
  return planReconcile(input);
}

const applyPlan = (state: RoomState, corrections: ReturnType<typeof plan>) =>
  fold(
    corrections.map((c) => c.event),
    state,
  );

describe('reconcile plan: examples', () => {
  it('bootstrap: an empty state gets the live session and every participant', () => {
    const live: LiveView = {
      sessionId: 's1',
      startTime: T0,
      participants: [
        { peerId: 'a', joinTime: T0 + 1000, metadata: { displayName: 'Ada' } },
        { peerId: 'b', joinTime: T0 + 2000 },
      ],
    };
    const corrections = plan(emptyRoomState(ROOM), live);
    assert.deepEqual(
      corrections.map((c) => c.kind),
      ['meeting_started', 'peer_joined', 'peer_joined'],
    );
    assert.deepEqual(
      corrections.map((c) => c.webhookId),
      [
        `reconcile:${ROOM}:meeting:started:s1`,
        `reconcile:${ROOM}:peer:joined:a:s1:${T0 + 1000}`,
        `reconcile:${ROOM}:peer:joined:b:s1:${T0 + 2000}`,
      ],
    );
    const state = applyPlan(emptyRoomState(ROOM), corrections);
    assert.equal(state.meeting.active, true);
    assert.equal(state.meeting.startedAt, T0);
    assert.equal(state.meeting.source, 'reconcile');
    assert.deepEqual(state.peers.a?.metadata, { displayName: 'Ada' });
    assert.equal(state.peers.a?.source, 'reconcile');
    assert.deepEqual(Object.keys(state.peers).sort(), ['a', 'b']);
  });

  it('a ghost is removed, dated when roomcast asked; a fresh peer is left alone', () => {
    const state = fold([
      started('s1'),
      joined('ghost', 's1', T0 + 1000),
      joined('stays', 's1', T0 + 2000),
      joined('fresh', 's1', NOW - 2000),
    ]);
    const corrections = plan(state, {
      sessionId: 's1',
      startTime: T0,
      participants: [{ peerId: 'stays', joinTime: T0 + 2000 }],
    });
    assert.deepEqual(
      corrections.map((c) => [c.kind, c.event.payload]),
      [
        [
          'peer_left',
          {
            id: 'ghost',
            sessionId: 's1',
            roomId: ROOM,
            leftAt: NOW,
            duration: 3599,
            source: 'reconcile',
          },
        ],
      ],
    );
  });

  it('no live session: the meeting ends, unless it is younger than the settle time', () => {
    const state = fold([started('s1'), joined('a', 's1', T0 + 1000)]);
    const corrections = plan(state, null);
    assert.deepEqual(
      corrections.map((c) => c.kind),
      ['meeting_ended'],
    );
    const after = applyPlan(state, corrections);
    assert.equal(after.meeting.active, false);
    assert.deepEqual(after.peers, {});
    assert.equal(after.meeting.endedAt, NOW);
    const young = fold([started('s1', NOW - 3000)]);
    assert.deepEqual(plan(young, null), []);
    assert.deepEqual(plan(emptyRoomState(ROOM), null), []);
  });

  it('another live session: the old one ends when the new one started, the new one begins', () => {
    const state = fold([started('old'), joined('a', 'old', T0 + 1000)]);
    const corrections = plan(state, {
      sessionId: 'new',
      startTime: NOW - 60_000,
      participants: [{ peerId: 'b', joinTime: NOW - 50_000 }],
    });
    assert.deepEqual(
      corrections.map((c) => c.kind),
      ['meeting_ended', 'meeting_started', 'peer_joined'],
    );
    assert.equal(corrections[0]!.event.payload.sessionId, 'old');
    assert.equal((corrections[0]!.event.payload as { endedAt: number }).endedAt, NOW - 60_000);
    const after = applyPlan(state, corrections);
    assert.equal(after.meeting.sessionId, 'new');
    assert.deepEqual(Object.keys(after.peers), ['b']);
    assert.ok(after.pastSessions.includes('old'));
  });

  it('a peer the API still lists right after its real leave is not brought back', () => {
    const state = fold([started('s1'), joined('a', 's1', T0 + 1000), left('a', 's1', NOW - 1000)]);
    assert.deepEqual(
      plan(state, { sessionId: 's1', startTime: T0, participants: [{ peerId: 'a' }] }),
      [],
    );
    assert.deepEqual(
      plan(state, {
        sessionId: 's1',
        startTime: T0,
        participants: [{ peerId: 'a', joinTime: T0 + 1000 }],
      }),
      [],
    );
  });

  it('sameLiveSession tells the current session from another by its start time', () => {
    const known = fold([started('s1')]).meeting;
    assert.equal(sameLiveSession(known, T0), true);
    assert.equal(sameLiveSession(known, T0 + 5000), true);
    assert.equal(sameLiveSession(known, T0 + 600_000), false);
    const fromPeers = fold([joined('a', 's1', T0 + 1000)]).meeting;
    assert.equal(sameLiveSession(fromPeers, T0), true);
    assert.equal(sameLiveSession(fromPeers, T0 + 600_000), false);
    assert.equal(sameLiveSession(fold([started('s1'), ended('s1', T0 + 9)]).meeting, T0), false);
    assert.equal(sameLiveSession(emptyRoomState(ROOM).meeting, T0), false);
  });
});

describe('redundancy after reconcile: examples', () => {
  it('real webhooks of changes reconcile made are redundant; others are not', () => {
    const base = fold([started('s1'), joined('ghost', 's1', T0 + 1000)]);
    const healed = applyPlan(
      base,
      plan(base, { sessionId: 's1', startTime: T0, participants: [] }),
    );
    assert.equal(isRedundantAfterReconcile(healed, left('ghost', 's1', T0 + 5000)), true);
    // A later stay's leave (beyond the tolerance) is news.
    assert.equal(isRedundantAfterReconcile(healed, left('ghost', 's1', NOW + 60_000)), false);
    assert.equal(isRedundantAfterReconcile(healed, joined('ghost', 's1', NOW + 60_000)), false);
    // Without reconcile marks nothing is redundant, even a repeat with another id.
    assert.equal(isRedundantAfterReconcile(base, joined('ghost', 's1', T0 + 1000)), false);
    const gone = fold([left('ghost', 's1', T0 + 5000)], base);
    assert.equal(isRedundantAfterReconcile(gone, left('ghost', 's1', T0 + 5000)), false);
    // Tracks and recordings are never redundant.
    assert.equal(
      isRedundantAfterReconcile(healed, {
        event: 'peer:trackPublished',
        payload: { id: 'ghost', track: 'audio' },
      }),
      false,
    );
  });

  it('after a synthesised meeting:ended, the real end and the session’s late events are redundant', () => {
    const base = fold([started('s1'), joined('a', 's1', T0 + 1000)]);
    const over = applyPlan(base, plan(base, null));
    assert.equal(isRedundantAfterReconcile(over, ended('s1', T0 + 50_000)), true);
    assert.equal(isRedundantAfterReconcile(over, left('a', 's1', T0 + 50_000)), true);
    assert.equal(isRedundantAfterReconcile(over, started('s2', NOW + 1000)), false);
  });

  it('a seeded session’s real meeting:started is redundant even with another createdAt', () => {
    const seeded = applyPlan(
      emptyRoomState(ROOM),
      plan(emptyRoomState(ROOM), { sessionId: 's1', startTime: T0 + 7, participants: [] }),
    );
    assert.equal(isRedundantAfterReconcile(seeded, started('s1', T0)), true);
    assert.equal(isRedundantAfterReconcile(seeded, started('s2', NOW)), false);
  });
});

// ----------------------------------------------------------------------------------------------
// Properties

const PEERS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', '__proto__', 'constructor'];
/** Real history of session s1: each peer's stays, oldest first, long before NOW. */
const history = fc.array(
  fc.record({
    peer: fc.constantFrom(...PEERS),
    joinedAt: fc.integer({ min: T0 + 1, max: NOW - 20 * SETTLE }),
    length: fc.option(fc.integer({ min: 1, max: 10 * SETTLE }), { nil: undefined }),
  }),
  { maxLength: 12 },
);
const liveList = fc.uniqueArray(
  fc.record({
    peerId: fc.constantFrom(...PEERS),
    joinTime: fc.option(fc.integer({ min: T0 + 1, max: NOW - 1 }), { nil: undefined }),
  }),
  { selector: (p) => p.peerId, maxLength: PEERS.length },
);
const counts = fc.record({
  recordingCount: fc.integer({ min: 0, max: 3 }),
  livestreamCount: fc.integer({ min: 0, max: 3 }),
});
const scenario = fc.record({
  started: fc.boolean(),
  stays: history,
  live: fc.option(liveList, { nil: null }),
  observedAt: fc.integer({ min: NOW, max: NOW + 60_000 }),
  /** Huddle01's media counts of the live session (undefined: the answer had none). */
  media: fc.option(counts, { nil: undefined }),
  /** Counts already in the state, observed this long before (negative: after) the plan's. */
  priorMedia: fc.option(fc.record({ counts, ago: fc.integer({ min: -5000, max: 60_000 }) }), {
    nil: undefined,
  }),
  /** False: the participants were not fetched (the list's peer count agreed). */
  fetched: fc.boolean(),
});

function stateOf(s: Scenario): RoomState {
  const events: RoomEvent[] = s.started ? [started('s1')] : [];
  for (const stay of s.stays) {
    events.push(joined(stay.peer, 's1', stay.joinedAt));
    if (stay.length !== undefined) events.push(left(stay.peer, 's1', stay.joinedAt + stay.length));
  }
  if (s.priorMedia !== undefined) {
    events.push(media('s1', s.priorMedia.counts, s.observedAt - s.priorMedia.ago));
  }
  return fold(events);
}
type Counts = { recordingCount: number; livestreamCount: number };
type Scenario = {
  started: boolean;
  stays: { peer: string; joinedAt: number; length: number | undefined }[];
  live: { peerId: string; joinTime: number | undefined }[] | null;
  observedAt: number;
  media: Counts | undefined;
  priorMedia: { counts: Counts; ago: number } | undefined;
  fetched: boolean;
};

function liveView(s: Scenario): LiveView | null {
  if (s.live === null) return null;
  const view: LiveView = { sessionId: 's1', startTime: T0 };
  // Not fetched only when the state is in the session (the reconciler's own condition).
  if (s.fetched || stateOf(s).meeting.sessionId !== 's1') {
    view.participants = s.live.map((p) =>
      p.joinTime === undefined ? { peerId: p.peerId } : { peerId: p.peerId, joinTime: p.joinTime },
    );
  }
  if (s.media !== undefined) view.media = s.media;
  return view;
}

const input = (s: Scenario, state = stateOf(s)): PlanInput => ({
  roomId: ROOM,
  state,
  live: liveView(s),
  observedAt: s.observedAt,
  settleMs: SETTLE,
});

describe('reconcile plan: properties', () => {
  it('folds Huddle01’s media counts in, unless the state holds a newer observation', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const before = stateOf(s);
        const corrections = planReconcile(input(s, before));
        const after = applyPlan(before, corrections);
        const planned = corrections.filter((c) => c.kind === 'media');
        assert.ok(planned.length <= 1);
        const shown = (state: RoomState): Counts => ({
          recordingCount: state.meeting.media?.recordingCount ?? 0,
          livestreamCount: state.meeting.media?.livestreamCount ?? 0,
        });
        if (s.live === null || s.media === undefined) {
          assert.equal(planned.length, 0);
          if (s.live === null) assert.equal(after.meeting.media, undefined, 'ended: no counts');
          return;
        }
        const newer = before.meeting.media !== undefined && s.priorMedia!.ago <= 0;
        assert.deepEqual(shown(after), newer ? shown(before) : { ...s.media });
        if (planned[0] !== undefined) {
          assert.equal(planned[0].event.event, 'reconcile:media');
          assert.deepEqual(after.meeting.media, { ...s.media, observedAt: s.observedAt });
        }
      }),
    );
  });

  it('media counts in any order of arrival: the latest observation wins', () => {
    const observations = fc.uniqueArray(
      fc.record({ counts, at: fc.integer({ min: T0 + 1, max: NOW }) }),
      { selector: (o) => o.at, minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(observations, fc.infiniteStream(fc.nat()), (list, picks) => {
        const shuffled = [...list];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = picks.next().value % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const state = fold([started('s1'), ...shuffled.map((o) => media('s1', o.counts, o.at))]);
        const latest = list.reduce((a, b) => (b.at > a.at ? b : a));
        assert.deepEqual(state.meeting.media, { ...latest.counts, observedAt: latest.at });
        // Another session's counts, or counts after the end, change nothing.
        assert.equal(reduceRoom(state, media('s2', latest.counts, NOW + 1)).meeting, state.meeting);
        const over = reduceRoom(state, ended('s1', NOW));
        assert.equal(over.meeting.media, undefined);
        assert.equal(reduceRoom(over, media('s1', latest.counts, NOW + 2)).meeting, over.meeting);
      }),
    );
  });

  it('converges: listed peers are present (unless a newer leave says otherwise), others gone', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const before = stateOf(s);
        const after = applyPlan(before, planReconcile(input(s, before)));
        if (s.live === null) {
          if (before.meeting.sessionId !== undefined) assert.equal(after.meeting.active, false);
          assert.deepEqual(after.peers, {});
          return;
        }
        assert.equal(after.meeting.sessionId, 's1');
        assert.equal(after.meeting.active, true);
        if (liveView(s)?.participants === undefined) {
          assert.equal(after.peers, before.peers, 'peers not fetched: left as they are');
          return;
        }
        const listed = new Set(s.live.map((p) => p.peerId));
        for (const id of Object.keys(after.peers)) assert.ok(listed.has(id), `${id} listed`);
        for (const p of s.live) {
          const tombstone = Object.hasOwn(after.departed, p.peerId)
            ? after.departed[p.peerId]!
            : undefined;
          const present = Object.hasOwn(after.peers, p.peerId);
          assert.ok(
            present || (tombstone !== undefined && tombstone >= (p.joinTime ?? s.observedAt)),
            `${p.peerId} present or departed later than its join`,
          );
        }
      }),
    );
  });

  it('is idempotent and emits valid, marked events with distinct ids', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const before = stateOf(s);
        const corrections = planReconcile(input(s, before));
        const ids = corrections.map((c) => c.webhookId);
        assert.equal(new Set(ids).size, ids.length);
        for (const c of corrections) {
          assert.ok(c.webhookId.startsWith(`reconcile:${ROOM}:`));
          assert.equal(c.event.payload.source, 'reconcile');
          assert.ok(payloadSchemas[c.event.event].safeParse(c.event.payload).success);
        }
        const after = applyPlan(before, corrections);
        assert.deepEqual(planReconcile(input(s, after)), []);
      }),
    );
  });

  it('the late real webhook of every correction is redundant, and so is each correction after it', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const before = stateOf(s);
        const corrections = planReconcile(input(s, before));
        const after = applyPlan(before, corrections);
        for (const c of corrections) {
          const real = realCounterpart(c.event, before);
          if (real === undefined) continue;
          assert.equal(isRedundantAfterReconcile(after, real), true, JSON.stringify(real));
          // The other way round: the real webhook first, then the correction.
          const fixedFirst = reduceRoom(before, real);
          if (c === corrections[0]) {
            assert.equal(isRedundantAfterReconcile(fixedFirst, c.event), true, c.webhookId);
          }
        }
      }),
    );
  });
});

/** What Huddle01 would have sent for the change a correction stands in for (no source mark). */
function realCounterpart(event: RoomEvent, before: RoomState): RoomEvent | undefined {
  switch (event.event) {
    case 'peer:left': {
      const stay = before.peers[event.payload.id]!;
      // Really left somewhere between its join and the moment roomcast asked.
      return left(event.payload.id, 's1', stay.joinedAt + 1);
    }
    case 'peer:joined':
      return joined(event.payload.id, 's1', event.payload.joinedAt);
    case 'meeting:ended':
      return ended(event.payload.sessionId, event.payload.endedAt - 1);
    default:
      return undefined;
  }
}
