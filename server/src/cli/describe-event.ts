/**
 * One readable line per room event, for `roomcast tail`.
 */
import type { RoomState } from '@roomcast/shared';

interface EventLike {
  event: string;
  payload: Record<string, unknown>;
}

function displayName(payload: Record<string, unknown>): string {
  const metadata = payload.metadata;
  if (typeof metadata === 'string') {
    try {
      const parsed = JSON.parse(metadata) as Record<string, unknown>;
      const name = parsed.displayName ?? parsed.name;
      if (typeof name === 'string') return `${name} (${String(payload.id)})`;
    } catch {
      // metadata that is not JSON: fall back to the id
    }
  }
  return String(payload.id);
}

/** "peer:joined Ada Lovelace (peerId--x) host, Chrome on desktop" and the like. */
export function describeEvent({ event, payload }: EventLike): string {
  switch (event) {
    case 'peer:joined': {
      const browser = (payload.browser as { name?: string } | undefined)?.name;
      const device = (payload.device as { type?: string } | undefined)?.type;
      const details = [
        payload.role,
        browser && device ? `${browser} on ${device}` : (browser ?? device),
      ].filter(Boolean);
      return `${displayName(payload)} joined${details.length ? ` — ${details.join(', ')}` : ''}`;
    }
    case 'peer:left':
      return `${displayName(payload)} left after ${String(payload.duration)} s`;
    case 'peer:trackPublished':
      return `${String(payload.id)} published ${String(payload.track)}`;
    case 'peer:trackUnpublished':
      return `${String(payload.id)} unpublished ${String(payload.track)}`;
    case 'meeting:started':
      return `meeting started (session ${String(payload.sessionId)})`;
    case 'meeting:ended':
      return `meeting ended after ${String(payload.duration)} s, ${String(payload.participants)} participants`;
    case 'recording:started':
      return 'recording started';
    case 'recording:updated':
      return `recording updated (${(payload.files as unknown[] | undefined)?.length ?? 0} files)`;
    case 'recording:ended':
    case 'recording:stopped':
      return `recording ended (${(payload.files as unknown[] | undefined)?.length ?? 0} files)`;
    default:
      return event;
  }
}

/** "3 peers, meeting on, recording" for a snapshot. */
export function describeState(state: RoomState): string {
  const peers = Object.keys(state.peers).length;
  const parts = [
    `${peers} peer${peers === 1 ? '' : 's'}`,
    state.meeting.active ? 'meeting on' : 'no meeting',
  ];
  if (state.recording.active) parts.push('recording');
  return parts.join(', ');
}
