/**
 * Realistic meetings as a timed script of webhooks: a meeting starts, peers with varied roles,
 * browsers and devices join over time and publish tracks, some rooms record, peers leave, the
 * meeting ends. Pure and seeded, so a run can be replayed.
 */
import type { EventName, EventPayloads } from '@roomcast/shared';

/** One webhook of the script, `at` ms after the start. */
export interface ScriptedWebhook<K extends EventName = EventName> {
  at: number;
  event: K;
  payload: EventPayloads[K];
}

/** Options of a script. */
export interface ScriptOptions {
  rooms: number;
  /** Peers per room. */
  peers: number;
  durationMs: number;
  /** Wall-clock start (payload timestamps are start + at). */
  startAt: number;
  seed?: number;
  /** Room id prefix. Default "sim". */
  prefix?: string;
}

const ROLES = ['host', 'coHost', 'speaker', 'listener', 'guest', 'bot'];
const BROWSERS = [
  { name: 'Chrome', version: '131.0.0' },
  { name: 'Firefox', version: '133.0' },
  { name: 'Safari', version: '18.1' },
  { name: 'Edge', version: '131.0.2903' },
];
const DEVICES = [
  { type: 'desktop', vendor: 'Apple', model: 'MacBookPro18,3' },
  { type: 'desktop', vendor: 'Dell', model: 'XPS 13' },
  { type: 'mobile', vendor: 'Apple', model: 'iPhone15,2' },
  { type: 'mobile', vendor: 'Samsung', model: 'SM-S918B' },
  { type: 'tablet', vendor: 'Apple', model: 'iPad13,4' },
];
const COUNTRIES = [
  { region: 'Europe', country: 'DE' },
  { region: 'Asia', country: 'IN' },
  { region: 'North America', country: 'US' },
  { region: 'South America', country: 'BR' },
];
const NAMES = [
  'Ada',
  'Grace',
  'Linus',
  'Margaret',
  'Alan',
  'Barbara',
  'Dennis',
  'Frances',
  'Ken',
  'Radia',
];

/** A small deterministic PRNG (mulberry32). */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds the whole script, sorted by time. */
export function meetingScript(options: ScriptOptions): ScriptedWebhook[] {
  const { rooms, peers, durationMs, startAt, seed = 1, prefix = 'sim' } = options;
  const rand = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const script: ScriptedWebhook[] = [];
  const push = <K extends EventName>(at: number, event: K, payload: EventPayloads[K]) =>
    script.push({ at: Math.round(at), event, payload } as ScriptedWebhook);

  for (let r = 0; r < rooms; r++) {
    const roomId = `${prefix}-${r + 1}`;
    const sessionId = `${roomId}-s${seed}`;
    const end = durationMs * (0.9 + 0.1 * rand());
    push(0, 'meeting:started', { sessionId, roomId, createdAt: startAt });
    let maxPresent = 0;
    for (let p = 0; p < peers; p++) {
      const id = `peerId--${roomId}-${p + 1}`;
      const joinAt = rand() * end * 0.6;
      const leaves = rand() < 0.5;
      const leaveAt = leaves ? joinAt + rand() * (end - joinAt) * 0.9 : undefined;
      const role = p === 0 ? 'host' : pick(ROLES);
      const metadata = JSON.stringify({
        displayName: `${pick(NAMES)} ${String.fromCharCode(65 + (p % 26))}.`,
      });
      push(joinAt, 'peer:joined', {
        id,
        sessionId,
        roomId,
        joinedAt: startAt + Math.round(joinAt),
        metadata,
        role,
        version: '2.3.1',
        browser: pick(BROWSERS),
        device: pick(DEVICES),
        geoData: pick(COUNTRIES),
      });
      const until = leaveAt ?? end;
      push(joinAt + 200, 'peer:trackPublished', { id, track: 'audio' });
      if (rand() < 0.7) push(joinAt + 400, 'peer:trackPublished', { id, track: 'video' });
      if (rand() < 0.15) {
        const shareAt = joinAt + (until - joinAt) * 0.3;
        push(shareAt, 'peer:trackPublished', { id, track: 'screen-share-video' });
        push(shareAt + (until - shareAt) * 0.5, 'peer:trackUnpublished', {
          id,
          track: 'screen-share-video',
        });
      }
      if (leaveAt !== undefined) {
        push(leaveAt, 'peer:left', {
          id,
          sessionId,
          roomId,
          leftAt: startAt + Math.round(leaveAt),
          duration: Math.round((leaveAt - joinAt) / 1000),
          role,
        });
      }
      maxPresent++;
    }
    if (r % 2 === 0) {
      const recording = { id: `rec-${roomId}`, roomId, sessionId, files: [], streams: [] };
      const file = {
        duration: Math.round((end * 0.6) / 1000),
        size: 48_000_000,
        filename: `${roomId}.mp4`,
        location: `https://recordings.example/${roomId}.mp4`,
      };
      push(end * 0.2, 'recording:started', recording);
      push(end * 0.5, 'recording:updated', {
        ...recording,
        files: [{ ...file, duration: Math.round((end * 0.3) / 1000) }],
      });
      push(end * 0.8, 'recording:ended', { ...recording, files: [file] });
    }
    push(end, 'meeting:ended', {
      sessionId,
      roomId,
      createdAt: startAt,
      endedAt: startAt + Math.round(end),
      duration: Math.round(end / 1000),
      participants: peers,
      maxParticipants: maxPresent,
      audioMinutes: Math.round((peers * end) / 120_000),
      videoMinutes: Math.round((peers * end) / 180_000),
    });
  }
  return script.sort((a, b) => a.at - b.at);
}
