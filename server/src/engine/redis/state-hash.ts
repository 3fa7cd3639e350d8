/**
 * A room's state as Redis keeps it: a checkpoint hash that grows by the event, not by the room.
 * Fields: `seq` (the checkpoint's position), `c` (everything but the per-peer records, as JSON)
 * and one field per peer (`p:<id>`, PeerState JSON), tombstone (`d:<id>`, leftAt) and reconcile
 * mark (`b:<id>`); reconnecting peers (few: those of the last presence grace) stay in `c`. Moving a checkpoint writes only the fields of the peers the events since
 * touched (`Touched`), so a 2,000-peer room costs Redis what a 20-peer one does per webhook.
 */
import { departedAt, departedBySource, peerOf } from '@roomcast/shared';
import type { PeerState, RoomEvent, RoomState } from '@roomcast/shared';

/** Which peers the events after a checkpoint touched (peer id → seq of the last one). */
export interface Touched {
  peers: Map<string, number>;
  /** Seq of the last event that touched every peer (a meeting:ended, a new session); 0: none. */
  all: number;
}

/** Nothing touched yet. */
export function untouched(): Touched {
  return { peers: new Map(), all: 0 };
}

/**
 * Records what folding `event` (at `seq`) into `before` touched; `after` is the result. A new
 * session or a meeting:ended changes every peer's record at once.
 */
export function touch(
  touched: Touched,
  before: RoomState,
  after: RoomState,
  event: RoomEvent,
  seq: number,
): void {
  if (after === before) return;
  if (
    after.meeting.sessionId !== before.meeting.sessionId ||
    after.meeting.endedAt !== before.meeting.endedAt
  ) {
    touched.all = seq;
    return;
  }
  const id = (event.payload as { id?: unknown }).id;
  if (event.event.startsWith('peer:') && typeof id === 'string') touched.peers.set(id, seq);
}

/** Forgets what is already in a checkpoint at `seq`. */
export function forgetUpTo(touched: Touched, seq: number): void {
  for (const [id, at] of touched.peers) if (at <= seq) touched.peers.delete(id);
  if (touched.all <= seq) touched.all = 0;
}

/** The fields to set and delete to move a checkpoint at `base` to `state`. */
export function checkpointFields(
  state: RoomState,
  touched: Touched,
  base: number,
): { full: boolean; set: [string, string][]; remove: string[] } {
  const set: [string, string][] = [['c', JSON.stringify(coreOf(state))]];
  const remove: string[] = [];
  const full = touched.all > base;
  if (full) {
    for (const [id, peer] of Object.entries(state.peers))
      set.push([`p:${id}`, JSON.stringify(peer)]);
    for (const [id, at] of Object.entries(state.departed)) set.push([`d:${id}`, String(at)]);
    for (const id of Object.keys(state.departedBy ?? {})) set.push([`b:${id}`, 'reconcile']);
    return { full, set, remove };
  }
  for (const [id, at] of touched.peers) {
    if (at <= base) continue;
    const peer = peerOf(state, id);
    const leftAt = departedAt(state, id);
    if (peer === undefined) remove.push(`p:${id}`);
    else set.push([`p:${id}`, JSON.stringify(peer)]);
    if (leftAt === undefined) remove.push(`d:${id}`);
    else set.push([`d:${id}`, String(leftAt)]);
    if (departedBySource(state, id) === undefined) remove.push(`b:${id}`);
    else set.push([`b:${id}`, 'reconcile']);
  }
  return { full, set, remove };
}

/** The part of the state kept in the `c` field (the grace is the engine's option, not stored). */
function coreOf(
  state: RoomState,
): Omit<RoomState, 'peers' | 'departed' | 'departedBy' | 'presenceGrace'> {
  const { roomId, meeting, recording, pastSessions, updatedAt, reconnecting } = state;
  const core = { roomId, meeting, recording, pastSessions, updatedAt };
  return reconnecting === undefined ? core : { ...core, reconnecting };
}

/** A checkpoint hash (HGETALL, flat) back as a state and its seq; empty hash: the empty state. */
export function stateFromHash(
  fields: readonly string[],
  empty: RoomState,
): { state: RoomState; seq: number } {
  let core: Partial<RoomState> = {};
  let seq = 0;
  // Null-prototype drafts: a peer called `__proto__` is an ordinary key (see room-state.ts).
  const peers: Record<string, PeerState> = Object.create(null);
  const departed: Record<string, number> = Object.create(null);
  const departedBy: Record<string, 'reconcile'> = Object.create(null);
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const field = fields[i]!;
    const value = fields[i + 1]!;
    if (field === 'seq') seq = Number(value);
    else if (field === 'c') core = JSON.parse(value) as Partial<RoomState>;
    else if (field.startsWith('p:')) peers[field.slice(2)] = JSON.parse(value) as PeerState;
    else if (field.startsWith('d:')) departed[field.slice(2)] = Number(value);
    else if (field.startsWith('b:')) departedBy[field.slice(2)] = 'reconcile';
  }
  const plain = <V>(record: Record<string, V>) =>
    Object.setPrototypeOf(record, Object.prototype) as Record<string, V>;
  // The configured grace (in `empty`) wins over whatever an older checkpoint says.
  const { presenceGrace: _stored, ...stored } = core;
  const state: RoomState = {
    ...empty,
    ...stored,
    peers: plain(peers),
    departed: plain(departed),
    ...(Object.keys(departedBy).length > 0 ? { departedBy: plain(departedBy) } : {}),
  };
  return { state, seq };
}
