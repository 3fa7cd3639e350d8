/**
 * Payload builders for tests: valid Huddle01 payloads with only what a test cares about given.
 */
import type { EventPayloads } from '../../shared/src/index.ts';

const BASE_TIME = 1_790_000_000_000;

export function meetingStarted(roomId: string, sessionId = `s-${roomId}`, createdAt = BASE_TIME) {
  return { sessionId, roomId, createdAt } satisfies EventPayloads['meeting:started'];
}

export function meetingEnded(
  roomId: string,
  sessionId = `s-${roomId}`,
  endedAt = BASE_TIME + 60_000,
) {
  return {
    sessionId,
    roomId,
    createdAt: BASE_TIME,
    endedAt,
    duration: 60,
    participants: 1,
    maxParticipants: 1,
    audioMinutes: 1,
    videoMinutes: 1,
  } satisfies EventPayloads['meeting:ended'];
}

export function peerJoined(
  roomId: string,
  id: string,
  joinedAt = BASE_TIME + 1000,
  sessionId = `s-${roomId}`,
  extra: Partial<EventPayloads['peer:joined']> = {},
) {
  return {
    id,
    sessionId,
    roomId,
    joinedAt,
    browser: { name: 'Chrome' },
    device: { type: 'desktop' },
    ...extra,
  } satisfies EventPayloads['peer:joined'];
}

export function peerLeft(
  roomId: string,
  id: string,
  leftAt = BASE_TIME + 5000,
  sessionId = `s-${roomId}`,
) {
  return { id, sessionId, roomId, leftAt, duration: 4 } satisfies EventPayloads['peer:left'];
}

export function track(id: string, label = 'audio') {
  return { id, track: label } satisfies EventPayloads['peer:trackPublished'];
}
