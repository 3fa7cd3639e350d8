import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { PeerJoinedPayload, RoomEvent } from '../shared/src/events.ts';
import {
  emptyRoomState,
  peerCount,
  reduceRoom,
  type RecordingFile,
  type RecordingStream,
  type RoomState,
} from '../shared/src/room-state.ts';

const ROOM = 'room-1';

// ----------------------------------------------------------------------------------------------
// Event builders with realistic payloads

function started(sessionId: string, createdAt: number, roomId = ROOM): RoomEvent {
  return { event: 'meeting:started', payload: { sessionId, roomId, createdAt } };
}

function ended(sessionId: string, createdAt: number, endedAt: number): RoomEvent {
  return {
    event: 'meeting:ended',
    payload: {
      sessionId,
      roomId: ROOM,
      createdAt,
      endedAt,
      duration: endedAt - createdAt,
      participants: 2,
      maxParticipants: 2,
      audioMinutes: 1,
      videoMinutes: 1,
    },
  };
}

function joined(
  id: string,
  sessionId: string,
  joinedAt: number,
  extra: Partial<PeerJoinedPayload> = {},
): RoomEvent {
  return {
    event: 'peer:joined',
    payload: {
      id,
      sessionId,
      roomId: ROOM,
      joinedAt,
      browser: { name: 'Chrome', version: '126' },
      device: { model: 'Macintosh', type: 'desktop', vendor: 'Apple' },
      ...extra,
    },
  };
}

function left(id: string, sessionId: string, leftAt: number): RoomEvent {
  return {
    event: 'peer:left',
    payload: { id, sessionId, roomId: ROOM, leftAt, duration: 1000 },
  };
}

function published(id: string, track: string): RoomEvent {
  return { event: 'peer:trackPublished', payload: { id, track } };
}

function unpublished(id: string, track: string): RoomEvent {
  return { event: 'peer:trackUnpublished', payload: { id, track } };
}

function file(name: string): RecordingFile {
  return { duration: 60, size: 1024, filename: `${name}.mp4`, location: `s3://rec/${name}.mp4` };
}

function stream(startedAt: number): RecordingStream {
  return { duration: 60, url: `rtmp://live/${startedAt}`, startedAt, endedAt: startedAt + 60 };
}

function recording(
  event: 'recording:started' | 'recording:updated' | 'recording:ended',
  id: string,
  sessionId: string,
  extra: { files?: RecordingFile[]; streams?: RecordingStream[]; cid?: string } = {},
): RoomEvent {
  const { files = [], streams = [], ...rest } = extra;
  return { event, payload: { id, roomId: ROOM, sessionId, files, streams, ...rest } };
}

function stopped(payload: {
  id: string;
  sessionId?: string;
  files?: RecordingFile[];
  ipfsUrl?: string;
}): RoomEvent {
  return { event: 'recording:stopped', payload: { roomId: ROOM, ...payload } };
}

function fold(events: readonly RoomEvent[], state: RoomState = emptyRoomState(ROOM)): RoomState {
  return events.reduce((s, e) => reduceRoom(s, e), state);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) {
      deepFreeze((value as Record<PropertyKey, unknown>)[key]);
    }
  }
  return value;
}

// ----------------------------------------------------------------------------------------------
// Unit tests

describe('emptyRoomState / peerCount', () => {
  it('starts with nothing known', () => {
    const state = emptyRoomState(ROOM);
    assert.deepEqual(state, {
      roomId: ROOM,
      meeting: { active: false },
      peers: {},
      departed: {},
      recording: { active: false },
      pastSessions: [],
      updatedAt: 0,
    });
    assert.equal(peerCount(state), 0);
  });
});

describe('meeting', () => {
  it('meeting:started activates the session with its createdAt', () => {
    const state = fold([started('s1', 1000)]);
    assert.deepEqual(state.meeting, {
      active: true,
      sessionId: 's1',
      startedAt: 1000,
      earliestAt: 1000,
    });
    assert.equal(state.updatedAt, 1000);
  });

  it('a peer:joined before meeting:started starts the session; startedAt waits for createdAt', () => {
    const early = fold([joined('a', 's1', 1500)]);
    assert.equal(early.meeting.active, true);
    assert.equal(early.meeting.sessionId, 's1');
    assert.equal(early.meeting.startedAt, undefined);
    assert.equal(early.meeting.earliestAt, 1500);
    const later = reduceRoom(early, started('s1', 1000));
    assert.equal(later.meeting.startedAt, 1000);
    assert.equal(later.meeting.earliestAt, 1000);
    assert.equal(peerCount(later), 1);
  });

  it('meeting:ended clears peers into tombstones and stops the recording', () => {
    const state = fold([
      started('s1', 1000),
      joined('a', 's1', 1100),
      joined('b', 's1', 1200),
      left('c', 's1', 1300),
      recording('recording:started', 'r1', 's1'),
      ended('s1', 1000, 5000),
    ]);
    assert.deepEqual(state.meeting, {
      active: false,
      sessionId: 's1',
      startedAt: 1000,
      endedAt: 5000,
      earliestAt: 1000,
    });
    assert.deepEqual(state.peers, {});
    assert.deepEqual(state.departed, { a: 5000, b: 5000, c: 1300 });
    assert.equal(state.recording.active, false);
    assert.deepEqual(state.recording.endedIds, ['r1']);
    assert.deepEqual(state.pastSessions, ['s1']);
  });

  it('late peer, track and meeting events of an ended session are ignored', () => {
    const over = fold([started('s1', 1000), joined('a', 's1', 1100), ended('s1', 1000, 5000)]);
    for (const late of [
      joined('b', 's1', 4000),
      joined('a', 's1', 6000),
      left('a', 's1', 7000),
      published('a', 'audio'),
      started('s1', 1000),
      ended('s1', 1000, 9000),
    ]) {
      const next = reduceRoom(over, late);
      assert.deepEqual({ ...next, updatedAt: 0 }, { ...over, updatedAt: 0 }, late.event);
    }
  });

  it('meeting:ended of an unseen, newer session makes it current and ended', () => {
    const state = fold([started('s1', 1000), joined('a', 's1', 1100), ended('s2', 8000, 9000)]);
    assert.deepEqual(state.meeting, {
      active: false,
      sessionId: 's2',
      startedAt: 8000,
      endedAt: 9000,
      earliestAt: 8000,
    });
    assert.deepEqual(state.peers, {});
    assert.deepEqual(state.departed, {});
    assert.deepEqual(state.pastSessions, ['s1', 's2']);
  });

  it('meeting:ended of an unseen, older session only marks it past', () => {
    const state = fold([started('s2', 8000), joined('a', 's2', 8100), ended('s1', 1000, 5000)]);
    assert.equal(state.meeting.sessionId, 's2');
    assert.equal(state.meeting.active, true);
    assert.equal(peerCount(state), 1);
    assert.deepEqual(state.pastSessions, ['s1']);
  });

  it('a newer session resets peers, tombstones and recording', () => {
    const state = fold([
      started('s1', 1000),
      joined('a', 's1', 1100),
      left('x', 's1', 1150),
      recording('recording:started', 'r1', 's1'),
      joined('b', 's2', 9000),
    ]);
    assert.equal(state.meeting.sessionId, 's2');
    assert.equal(state.meeting.active, true);
    assert.deepEqual(Object.keys(state.peers), ['b']);
    assert.deepEqual(state.departed, {});
    assert.deepEqual(state.recording, { active: false });
    assert.deepEqual(state.pastSessions, ['s1']);
  });

  it('late events of a replaced session are ignored', () => {
    const state = fold([started('s1', 1000), joined('a', 's1', 1100), started('s2', 9000)]);
    for (const late of [
      joined('c', 's1', 9500), // even with a timestamp after s2 began: s1 is over
      left('b', 's1', 1200),
      ended('s1', 1000, 2000),
      started('s1', 1000),
      recording('recording:started', 'r1', 's1'),
    ]) {
      const next = reduceRoom(state, late);
      assert.deepEqual({ ...next, updatedAt: 0 }, { ...state, updatedAt: 0 }, late.event);
    }
  });

  it('an unknown session older than the current one is stale: marked past and ignored', () => {
    const state = fold([started('s2', 9000), joined('a', 's2', 9100), joined('z', 's1', 1100)]);
    assert.equal(state.meeting.sessionId, 's2');
    assert.deepEqual(Object.keys(state.peers), ['a']);
    assert.deepEqual(state.pastSessions, ['s1']);
    // Its later events, even its meeting:started, stay ignored.
    const after = fold([started('s1', 1000), joined('y', 's1', 1200)], state);
    assert.equal(after.meeting.sessionId, 's2');
    assert.deepEqual(Object.keys(after.peers), ['a']);
  });

  it('keeps at most the 16 most recent past sessions', () => {
    const events = Array.from({ length: 20 }, (_, i) => started(`s${i}`, 1000 * (i + 1)));
    const state = fold(events);
    assert.equal(state.pastSessions.length, 16);
    assert.deepEqual(
      state.pastSessions,
      Array.from({ length: 16 }, (_, i) => `s${i + 3}`),
    );
    assert.equal(state.meeting.sessionId, 's19');
  });

  it('ignores events of another room, returning the same object', () => {
    const state = fold([started('s1', 1000)]);
    assert.equal(reduceRoom(state, started('s9', 9000, 'other-room'), 99_999), state);
    const otherJoin: RoomEvent = {
      event: 'peer:joined',
      payload: { ...(joined('a', 's1', 1100).payload as PeerJoinedPayload), roomId: 'other' },
    };
    assert.equal(reduceRoom(state, otherJoin), state);
  });

  it('updatedAt is the largest timestamp seen, receivedAt included', () => {
    let state = reduceRoom(emptyRoomState(ROOM), started('s1', 1000), 1005);
    assert.equal(state.updatedAt, 1005);
    state = reduceRoom(state, joined('a', 's1', 2000));
    assert.equal(state.updatedAt, 2000);
    state = reduceRoom(state, left('b', 's1', 1500)); // older: does not move it back
    assert.equal(state.updatedAt, 2000);
    state = reduceRoom(state, ended('s1', 1000, 7000), 6000);
    assert.equal(state.updatedAt, 7000);
    state = reduceRoom(state, published('a', 'audio'), 8000); // ignored event, still seen
    assert.equal(state.updatedAt, 8000);
  });
});

describe('peers', () => {
  it('peer:joined adds the peer with parsed JSON metadata and its client details', () => {
    const state = fold([
      joined('a', 's1', 1100, {
        metadata: '{"displayName":"Ada","avatar":null}',
        role: 'host',
        version: '2.6.0',
        geoData: { region: 'Europe', country: 'DE' },
        browser: { name: 'Firefox', extra: 'dropped' },
      }),
    ]);
    assert.deepEqual(state.peers.a, {
      id: 'a',
      sessionId: 's1',
      joinedAt: 1100,
      role: 'host',
      metadata: { displayName: 'Ada', avatar: null },
      browser: { name: 'Firefox' },
      device: { model: 'Macintosh', type: 'desktop', vendor: 'Apple' },
      geoData: { region: 'Europe', country: 'DE' },
      tracks: [],
    });
    assert.equal(peerCount(state), 1);
  });

  it('keeps metadata that is not JSON as the raw string', () => {
    const state = fold([
      joined('a', 's1', 1100, { metadata: 'just a name' }),
      joined('b', 's1', 1100, { metadata: '42' }),
      joined('c', 's1', 1100, { metadata: '' }),
    ]);
    assert.equal(state.peers.a?.metadata, 'just a name');
    assert.equal(state.peers.b?.metadata, 42);
    assert.equal(state.peers.c?.metadata, '');
  });

  it('a peer:left older than the present peer’s join is ignored (an older stay)', () => {
    const state = fold([joined('a', 's1', 3000), left('a', 's1', 2000)]);
    assert.equal(peerCount(state), 1);
    assert.deepEqual(state.departed, {});
  });

  it('prevents ghosts: a join that arrives after its own (later) leave adds nobody', () => {
    const state = fold([started('s1', 1000), left('a', 's1', 3000), joined('a', 's1', 2000)]);
    assert.equal(peerCount(state), 0);
    assert.deepEqual(state.departed, { a: 3000 });
  });

  it('a leave at the very join instant wins', () => {
    assert.equal(peerCount(fold([left('a', 's1', 2000), joined('a', 's1', 2000)])), 0);
    assert.equal(peerCount(fold([joined('a', 's1', 2000), left('a', 's1', 2000)])), 0);
  });

  it('a rejoin after the tombstone brings the peer back and drops the tombstone', () => {
    const state = fold([joined('a', 's1', 1000), left('a', 's1', 2000), joined('a', 's1', 3000)]);
    assert.equal(state.peers.a?.joinedAt, 3000);
    assert.deepEqual(state.departed, {});
    // The older join arriving late changes nothing.
    assert.equal(reduceRoom(state, joined('a', 's1', 1000)), state);
  });

  it('absent peers keep the newest tombstone', () => {
    const state = fold([left('a', 's1', 3000), left('a', 's1', 2000)]);
    assert.deepEqual(state.departed, { a: 3000 });
  });

  it('applying the same join twice keeps tracks; a newer join starts with none', () => {
    const once = fold([joined('a', 's1', 1000), published('a', 'audio')]);
    const twice = reduceRoom(once, joined('a', 's1', 1000));
    assert.deepEqual(twice, once);
    const newer = reduceRoom(once, joined('a', 's1', 2000));
    assert.deepEqual(newer.peers.a?.tracks, []);
  });
});

describe('tracks', () => {
  it('keeps published labels sorted and unique, and removes unpublished ones', () => {
    let state = fold([
      joined('a', 's1', 1000),
      published('a', 'video'),
      published('a', 'audio'),
      published('a', 'screen-share-video'),
      published('a', 'audio'),
    ]);
    assert.deepEqual(state.peers.a?.tracks, ['audio', 'screen-share-video', 'video']);
    state = fold([unpublished('a', 'video'), unpublished('a', 'never')], state);
    assert.deepEqual(state.peers.a?.tracks, ['audio', 'screen-share-video']);
  });

  it('ignores track events of absent peers, prototype names included', () => {
    const state = fold([joined('a', 's1', 1000)]);
    for (const id of ['b', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      assert.equal(reduceRoom(state, published(id, 'audio')), state, id);
      assert.equal(reduceRoom(state, unpublished(id, 'audio')), state, id);
    }
  });
});

describe('peer ids that are Object.prototype names', () => {
  it('stores __proto__, constructor and toString as ordinary keys', () => {
    const ids = ['__proto__', 'constructor', 'toString'];
    let state = fold(ids.map((id, i) => joined(id, 's1', 1000 + i)));
    assert.equal(peerCount(state), 3);
    assert.equal(Object.getPrototypeOf(state.peers), Object.prototype);
    for (const id of ids) {
      assert.ok(Object.hasOwn(state.peers, id), id);
      assert.equal(state.peers[id]?.id, id);
    }
    state = fold([published('__proto__', 'audio'), left('constructor', 's1', 5000)], state);
    assert.deepEqual(state.peers['__proto__']?.tracks, ['audio']);
    assert.deepEqual(Object.keys(state.peers).sort(), ['__proto__', 'toString']);
    assert.ok(Object.hasOwn(state.departed, 'constructor'));
    assert.equal(state.departed['constructor'], 5000);
    assert.equal(Object.getPrototypeOf(state.departed), Object.prototype);

    // A ghost join of a prototype-named peer is still stopped by its tombstone.
    assert.equal(peerCount(reduceRoom(state, joined('constructor', 's1', 4000))), 2);

    // Snapshots are JSON: the keys survive a round trip.
    const copy = JSON.parse(JSON.stringify(state)) as RoomState;
    assert.deepEqual(Object.keys(copy.peers).sort(), ['__proto__', 'toString']);
    assert.deepEqual(copy, state);

    // Leaving removes it without touching the prototype.
    state = reduceRoom(state, left('__proto__', 's1', 6000));
    assert.ok(!Object.hasOwn(state.peers, '__proto__'));
    assert.equal(Object.getPrototypeOf(state.peers), Object.prototype);
    assert.equal(state.departed['__proto__'], 6000);
  });

  it('absent prototype names never count as present or departed', () => {
    const state = fold([
      joined('constructor', 's1', 1000),
      joined('hasOwnProperty', 's1', 1000),
      left('toString', 's1', 500),
    ]);
    assert.equal(peerCount(state), 2);
    assert.deepEqual(state.departed, { toString: 500 });
  });
});

describe('recording', () => {
  it('runs through started → updated → ended', () => {
    let state = fold([started('s1', 1000), recording('recording:started', 'r1', 's1')]);
    assert.deepEqual(state.recording, { active: true, id: 'r1', files: [], streams: [] });
    state = reduceRoom(
      state,
      recording('recording:updated', 'r1', 's1', { streams: [stream(1100)] }),
    );
    assert.deepEqual(state.recording, {
      active: true,
      id: 'r1',
      files: [],
      streams: [stream(1100)],
    });
    state = reduceRoom(
      state,
      recording('recording:ended', 'r1', 's1', {
        files: [file('r1')],
        streams: [stream(1100)],
        cid: 'bafy',
      }),
    );
    assert.deepEqual(state.recording, {
      active: false,
      id: 'r1',
      files: [file('r1')],
      streams: [stream(1100)],
      cid: 'bafy',
      endedIds: ['r1'],
    });
    // A late start of the ended recording does not bring it back.
    assert.equal(reduceRoom(state, recording('recording:started', 'r1', 's1')), state);
  });

  it('recording:updated of an unknown recording activates it', () => {
    const state = fold([
      started('s1', 1000),
      recording('recording:updated', 'r1', 's1', { files: [file('a')] }),
    ]);
    assert.deepEqual(state.recording, { active: true, id: 'r1', files: [file('a')], streams: [] });
  });

  it('recording:stopped (docs variant, no sessionId) ends the current recording', () => {
    const state = fold([
      started('s1', 1000),
      recording('recording:started', 'r1', 's1', { cid: 'old' }),
      stopped({ id: 'r1', ipfsUrl: 'https://ipfs.example/bafy' }),
    ]);
    assert.deepEqual(state.recording, {
      active: false,
      id: 'r1',
      files: [],
      streams: [],
      cid: 'old',
      ipfsUrl: 'https://ipfs.example/bafy',
      endedIds: ['r1'],
    });
  });

  it('an end arriving before its start keeps the recording ended', () => {
    const state = fold([
      started('s1', 1000),
      recording('recording:ended', 'r1', 's1', { files: [file('r1')] }),
      recording('recording:started', 'r1', 's1'),
    ]);
    assert.equal(state.recording.active, false);
    assert.deepEqual(state.recording.files, [file('r1')]);
  });

  it('a new recording replaces the active one, which counts as ended', () => {
    const state = fold([
      started('s1', 1000),
      recording('recording:started', 'r1', 's1'),
      recording('recording:started', 'r2', 's1'),
      recording('recording:updated', 'r1', 's1'), // late: r1 is over
    ]);
    assert.equal(state.recording.id, 'r2');
    assert.equal(state.recording.active, true);
    assert.deepEqual(state.recording.endedIds, ['r1']);
  });

  it('the end of another recording does not stop the current one', () => {
    const state = fold([
      started('s1', 1000),
      recording('recording:started', 'r2', 's1'),
      recording('recording:ended', 'r1', 's1', { files: [file('r1')] }),
    ]);
    assert.equal(state.recording.id, 'r2');
    assert.equal(state.recording.active, true);
    assert.deepEqual(state.recording.files, []);
    assert.deepEqual(state.recording.endedIds, ['r1']);
  });

  it('files that arrive after meeting:ended are still recorded, never re-activated', () => {
    const state = fold([
      started('s1', 1000),
      recording('recording:started', 'r1', 's1'),
      ended('s1', 1000, 5000),
      recording('recording:updated', 'r1', 's1', { files: [file('part')] }),
      recording('recording:ended', 'r1', 's1', { files: [file('r1')], cid: 'bafy' }),
    ]);
    assert.equal(state.recording.active, false);
    assert.deepEqual(state.recording.files, [file('r1')]);
    assert.equal(state.recording.cid, 'bafy');
    assert.equal(state.meeting.active, false);
  });

  it('starts arriving after meeting:ended count as ended, so a duplicate displaces nothing', () => {
    const events = [
      started('s1', 1000),
      ended('s1', 1000, 5000),
      recording('recording:started', 'r1', 's1'),
      recording('recording:started', 'r2', 's1'),
    ];
    const state = fold(events);
    assert.equal(state.recording.id, 'r2');
    assert.equal(state.recording.active, false);
    assert.deepEqual(state.recording.endedIds, ['r1', 'r2']);
    assert.equal(reduceRoom(state, recording('recording:started', 'r1', 's1')), state);
  });

  it('keeps at most 16 ended recording ids', () => {
    const events = Array.from({ length: 20 }, (_, i) =>
      recording('recording:ended', `r${i}`, 's1'),
    );
    const state = fold([started('s1', 1000), ...events]);
    assert.equal(state.recording.endedIds?.length, 16);
    assert.equal(state.recording.endedIds?.at(-1), 'r19');
  });
});

describe('immutability', () => {
  it('never mutates a frozen input state', () => {
    const base = deepFreeze(
      fold([
        started('s1', 1000),
        joined('a', 's1', 1100),
        published('a', 'audio'),
        recording('recording:started', 'r1', 's1'),
      ]),
    );
    const copy = structuredClone(base);
    for (const event of [
      joined('b', 's1', 1200),
      left('a', 's1', 1300),
      published('a', 'video'),
      unpublished('a', 'audio'),
      recording('recording:ended', 'r1', 's1', { files: [file('r1')] }),
      ended('s1', 1000, 5000),
      started('s2', 9000),
    ]) {
      reduceRoom(base, event, 10_000);
    }
    assert.deepEqual(base, copy);
  });
});

// ----------------------------------------------------------------------------------------------
// Property tests

const ID_POOL = ['alice', 'bob', 'carol', '__proto__', 'constructor', 'toString'];
const peerId = fc.constantFrom(...ID_POOL);

/** A permutation of `items` (all of them, in any order). */
function permutation<T>(items: readonly T[]): fc.Arbitrary<T[]> {
  return fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });
}

describe('properties', () => {
  it('any delivery order of one session’s joins and leaves gives the same state', () => {
    const stay = fc.record({
      id: peerId,
      joinedAt: fc.integer({ min: 1, max: 1_000_000 }),
      stay: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }),
    });
    const scenario = fc
      .record({
        stays: fc.uniqueArray(stay, { selector: (s) => s.id, maxLength: ID_POOL.length }),
        withStart: fc.boolean(),
      })
      .map(({ stays, withStart }) => {
        const events: RoomEvent[] = withStart ? [started('s1', 0)] : [];
        for (const s of stays) {
          events.push(joined(s.id, 's1', s.joinedAt, { metadata: `{"n":${s.joinedAt}}` }));
          if (s.stay !== undefined) events.push(left(s.id, 's1', s.joinedAt + s.stay));
        }
        return { stays, events };
      })
      .chain(({ stays, events }) =>
        permutation(events).map((shuffled) => ({ stays, events, shuffled })),
      );
    fc.assert(
      fc.property(scenario, ({ stays, events, shuffled }) => {
        const inOrder = fold(events);
        const reordered = fold(shuffled);
        const expected = stays.filter((s) => s.stay === undefined).map((s) => s.id);
        assert.deepEqual(Object.keys(reordered.peers).sort(), expected.sort());
        assert.deepEqual(reordered, inOrder);
      }),
      { numRuns: 300 },
    );
  });

  it('any delivery order of repeated stays: the newest join or leave of each peer wins', () => {
    // Per peer: alternating join/leave at strictly increasing times, starting with a join.
    const history = fc.record({
      id: peerId,
      gaps: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 5 }),
    });
    const scenario = fc
      .uniqueArray(history, { selector: (h) => h.id, maxLength: ID_POOL.length })
      .map((histories) => {
        const events: RoomEvent[] = [];
        const present = new Map<string, number>();
        for (const { id, gaps } of histories) {
          let time = 0;
          gaps.forEach((gap, i) => {
            time += gap;
            events.push(i % 2 === 0 ? joined(id, 's1', time) : left(id, 's1', time));
          });
          if (gaps.length % 2 === 1) present.set(id, time);
        }
        return { events, present };
      })
      .chain((s) => permutation(s.events).map((shuffled) => ({ ...s, shuffled })));
    fc.assert(
      fc.property(scenario, ({ events, present, shuffled }) => {
        const reordered = fold(shuffled);
        assert.deepEqual(
          Object.fromEntries(Object.entries(reordered.peers).map(([id, p]) => [id, p.joinedAt])),
          Object.fromEntries(present),
        );
        assert.deepEqual(reordered, fold(events));
      }),
      { numRuns: 300 },
    );
  });

  it('delivering any peer/meeting/recording event again later changes nothing', () => {
    // Sessions s0 < s1 < s2 live in disjoint time windows; payloads are fixed per identity so
    // that a duplicate is byte-for-byte the same webhook.
    const W = 1_000_000;
    const event = fc.integer({ min: 0, max: 2 }).chain((k) => {
      const sid = `s${k}`;
      const at = (t: number) => k * W + t;
      return fc.oneof(
        fc.constant(started(sid, at(0))),
        fc.constant(ended(sid, at(0), at(W - 1))),
        fc
          .record({ id: peerId, t: fc.integer({ min: 1, max: W - 2 }) })
          .map(({ id, t }) => joined(id, sid, at(t), { metadata: `{"t":${t}}` })),
        fc
          .record({ id: peerId, t: fc.integer({ min: 1, max: W - 2 }) })
          .map(({ id, t }) => left(id, sid, at(t))),
        fc
          .record({
            kind: fc.constantFrom('recording:started' as const, 'recording:ended' as const),
            n: fc.integer({ min: 0, max: 2 }),
          })
          .map(({ kind, n }) =>
            recording(kind, `r${k}${n}`, sid, {
              streams: [stream(at(10 + n))],
              files: kind === 'recording:ended' ? [file(`r${k}${n}`)] : [],
            }),
          ),
      );
    });
    const scenario = fc
      .array(event, { maxLength: 30 })
      .chain((events) =>
        fc
          .array(fc.nat(), { minLength: events.length, maxLength: events.length })
          .map((slots) => ({ events, slots })),
      );
    fc.assert(
      fc.property(scenario, ({ events, slots }) => {
        // Each event i is delivered again right after event slot_i, with i <= slot_i < n.
        const withDuplicates: RoomEvent[] = [];
        events.forEach((e, j) => {
          withDuplicates.push(e);
          events.forEach((dup, i) => {
            const slot = i + ((slots[i] ?? 0) % (events.length - i));
            if (slot === j) withDuplicates.push(structuredClone(dup));
          });
        });
        assert.equal(withDuplicates.length, events.length * 2);
        assert.deepEqual(fold(withDuplicates), fold(events));
      }),
      { numRuns: 400 },
    );
  });

  it('never throws, never mutates its input, and keeps its invariants', () => {
    const time = fc.integer({ min: 0, max: 10_000 });
    const sid = fc.constantFrom('s1', 's2', 's3');
    const roomId = fc.constantFrom(ROOM, ROOM, ROOM, 'other-room');
    const metadata = fc.option(fc.oneof(fc.json(), fc.string()), { nil: undefined });
    const trackLabel = fc.constantFrom('audio', 'video', 'screen-share-video', '__proto__');
    const files = fc.array(fc.string().map(file), { maxLength: 2 });
    const streams = fc.array(time.map(stream), { maxLength: 2 });
    const recId = fc.constantFrom('r1', 'r2', 'constructor');
    const anyEvent: fc.Arbitrary<RoomEvent> = fc.oneof(
      fc.record({ s: sid, t: time, room: roomId }).map(({ s, t, room }) => started(s, t, room)),
      fc.record({ s: sid, t: time, d: time }).map(({ s, t, d }) => ended(s, t, t + d)),
      fc
        .record({
          id: peerId,
          s: sid,
          t: time,
          metadata,
          role: fc.option(fc.constantFrom('host', 'guest'), { nil: undefined }),
          geo: fc.boolean(),
        })
        .map(({ id, s, t, metadata, role, geo }) =>
          joined(id, s, t, {
            ...(metadata === undefined ? {} : { metadata }),
            ...(role === undefined ? {} : { role }),
            ...(geo ? { geoData: { region: 'Asia', country: 'IN' } } : {}),
          }),
        ),
      fc.record({ id: peerId, s: sid, t: time }).map(({ id, s, t }) => left(id, s, t)),
      fc.record({ id: peerId, l: trackLabel }).map(({ id, l }) => published(id, l)),
      fc.record({ id: peerId, l: trackLabel }).map(({ id, l }) => unpublished(id, l)),
      fc
        .record({
          kind: fc.constantFrom(
            'recording:started' as const,
            'recording:updated' as const,
            'recording:ended' as const,
          ),
          id: recId,
          s: sid,
          files,
          streams,
        })
        .map(({ kind, id, s, files, streams }) => recording(kind, id, s, { files, streams })),
      fc
        .record({
          id: recId,
          s: fc.option(sid, { nil: undefined }),
          files: fc.option(files, { nil: undefined }),
        })
        .map(({ id, s, files }) =>
          stopped({
            id,
            ...(s === undefined ? {} : { sessionId: s }),
            ...(files === undefined ? {} : { files }),
          }),
        ),
    );
    const step = fc.record({
      event: anyEvent,
      receivedAt: fc.option(time, { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let state = deepFreeze(emptyRoomState(ROOM));
        for (const { event, receivedAt } of steps) {
          const before = structuredClone(state);
          const next = deepFreeze(reduceRoom(state, event, receivedAt));
          assert.deepEqual(state, before);

          assert.ok(next.updatedAt >= state.updatedAt);
          assert.equal(Object.getPrototypeOf(next.peers), Object.prototype);
          assert.equal(Object.getPrototypeOf(next.departed), Object.prototype);
          for (const [id, peer] of Object.entries(next.peers)) {
            assert.equal(peer.id, id);
            assert.equal(peer.sessionId, next.meeting.sessionId);
            assert.ok(!Object.hasOwn(next.departed, id), `${id} is both present and departed`);
            assert.deepEqual(peer.tracks, [...new Set(peer.tracks)].sort());
          }
          if (next.meeting.endedAt !== undefined) {
            assert.equal(peerCount(next), 0);
            assert.equal(next.meeting.active, false);
            assert.equal(next.recording.active, false);
          }
          assert.ok(next.pastSessions.length <= 16);
          assert.equal(new Set(next.pastSessions).size, next.pastSessions.length);
          assert.ok((next.recording.endedIds?.length ?? 0) <= 16);
          if (next.recording.active && next.recording.id !== undefined) {
            assert.ok(!(next.recording.endedIds ?? []).includes(next.recording.id));
          }
          // Plain JSON: nothing is lost in a snapshot.
          const json = JSON.stringify(next);
          assert.equal(JSON.stringify(JSON.parse(json)), json);
          assert.equal(Object.keys(JSON.parse(json).peers as object).length, peerCount(next));
          state = next;
        }
      }),
      { numRuns: 300 },
    );
  });
});
