/**
 * The connection indicator in the top bar: the client's own state, or before there is a client
 * (no room watched yet), whether the rooms feed reaches the server.
 */
import { setAttrs, setText } from './dom.ts';
import type { Session } from './session.ts';

type Status = 'failed' | 'offline' | 'connecting' | 'live';

const TEXT: Record<Exclude<Status, 'failed'>, string> = {
  offline: 'Reconnecting…',
  connecting: 'Connecting…',
  live: 'Live',
};

/** Draws the indicator for `session`. */
export function drawConnection(indicator: HTMLElement, session: Session): void {
  const state = session.client?.state;
  const rooms = [...session.watched.values()].map((watched) => watched.room.status);
  const settling = rooms.some((s) => s === 'connecting' || s === 'resyncing');
  const status: Status =
    state === 'failed'
      ? 'failed'
      : state === 'reconnecting' || (state === undefined && !session.reachable)
        ? 'offline'
        : state === 'connecting' || settling
          ? 'connecting'
          : 'live';
  setText(
    indicator,
    status === 'failed' ? `Refused: ${session.connection?.code ?? 'error'}` : TEXT[status],
  );
  setAttrs(indicator, { 'data-status': status, title: session.connection?.reason ?? '' });
}
