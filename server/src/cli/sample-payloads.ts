/**
 * Realistic webhook payloads for every event, as Huddle01 would send them: used by
 * `roomcast send` (and later `simulate`) so roomcast can be tried without a Huddle01 account.
 */
import { randomBytes } from 'node:crypto';
import type { EventName, EventPayloads } from '@roomcast/shared';

/** What a sample is about. */
export interface SampleContext {
  roomId: string;
  peerId: string;
  /** Default: a stable id derived from the room, so one demo room keeps one session. */
  sessionId?: string;
  now?: number;
  track?: string;
}

/** A peer id in Huddle01's shape (`peerId--` and 20 random characters). */
export function randomPeerId(): string {
  return `peerId--${randomBytes(15).toString('base64url').slice(0, 20)}`;
}

/** A webhook id (unique per delivery). */
export function randomWebhookId(): string {
  return `wh_${randomBytes(12).toString('hex')}`;
}

/** Builds the payload of `event` for the context. */
export function samplePayload<K extends EventName>(
  event: K,
  context: SampleContext,
): EventPayloads[K] {
  const { roomId, peerId, now = Date.now(), track = 'audio' } = context;
  const sessionId = context.sessionId ?? `session-${roomId}`;
  const startedAt = now - 5 * 60_000;
  const recording = {
    id: `rec-${roomId}`,
    roomId,
    sessionId,
    files: [
      {
        duration: 300,
        size: 48_000_000,
        filename: `${roomId}.mp4`,
        location: `https://recordings.example/${roomId}.mp4`,
      },
    ],
    streams: [],
  };
  const payloads: { [E in EventName]: EventPayloads[E] } = {
    'meeting:started': { sessionId, roomId, createdAt: now },
    'meeting:ended': {
      sessionId,
      roomId,
      createdAt: startedAt,
      endedAt: now,
      duration: 300,
      participants: 2,
      maxParticipants: 2,
      audioMinutes: 10,
      videoMinutes: 8,
    },
    'peer:joined': {
      id: peerId,
      sessionId,
      roomId,
      joinedAt: now,
      metadata: JSON.stringify({ displayName: 'Ada Lovelace' }),
      role: 'host',
      version: '2.3.1',
      browser: { name: 'Chrome', version: '131.0.0' },
      geoData: { region: 'Europe', country: 'GB' },
      device: { model: 'MacBookPro18,3', type: 'desktop', vendor: 'Apple' },
    },
    'peer:left': { id: peerId, sessionId, roomId, leftAt: now, duration: 300, role: 'host' },
    'peer:trackPublished': { id: peerId, track },
    'peer:trackUnpublished': { id: peerId, track },
    'recording:started': { ...recording, files: [] },
    'recording:updated': recording,
    'recording:ended': recording,
    'recording:stopped': { id: recording.id, roomId },
    // roomcast's own (reconcile), never sent by Huddle01: the webhook route refuses it.
    'reconcile:media': {
      roomId,
      sessionId,
      recordingCount: 1,
      livestreamCount: 0,
      observedAt: now,
      source: 'reconcile',
    },
  };
  return payloads[event];
}
