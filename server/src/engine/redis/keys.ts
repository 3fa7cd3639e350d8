/**
 * The Redis key layout of the Redis engine (docs/deployment.md lists every key with its type
 * and TTL). Keys of one room share the `{room}` hash tag and keys of one peer the `{peer}`
 * tag, so every script touches a single Redis Cluster slot.
 */

/** The keys and channel of one room (one slot). */
export interface RoomKeys {
  /** Hash: epoch, seq, at, marks (reconcile marks), and the summary: sum (its seq), peers, meeting, recording. */
  meta: string;
  /**
   * Hash: the room's state at a checkpoint (state-hash.ts): `seq`, `c` (meeting, recording,
   * sessions as JSON) and one field per peer (`p:<id>`), tombstone (`d:<id>`) and reconcile mark
   * (`b:<id>`). The state at the head is this plus the stream's entries after `seq`.
   */
  state: string;
  /** Stream: the history; entry id `<seq>-0`, one field `b` (the entry body JSON). */
  log: string;
  /** Pub/sub channel of the room's new entries (tagged too, ready for sharded pub/sub). */
  channel: string;
  /**
   * Hash per dedup slice: webhook id fingerprint → 1, inside the room's slot (the atomic dedup
   * check, dedup-slices.ts); the key of slice `n` is this plus `n`.
   */
  ids: string;
  /** String: the reconcile lease (value: the holding node), with a TTL. */
  lease: string;
  /** Hash: node id → `<subscribers>:<valid until, ms>` (occupancy), the key with a TTL. */
  occupancy: string;
}

/** The keys of one peer (one slot). */
export interface PeerKeys {
  /** String: the room the peer joined (the peer→room index). */
  room: string;
  /** List: track events waiting for the peer's peer:joined (JSON items). */
  held: string;
}

/** Every key name the engine uses, under one prefix. */
export interface KeyLayout {
  room(roomId: string): RoomKeys;
  peer(peerId: string): PeerKeys;
  /** Sorted set: room id → last activity (ms). */
  rooms: string;
  /**
   * String: room-independent fingerprints of handled webhook ids (`seen`, track duplicates), 12
   * bytes each, in `bucket` (3 hex digits) of dedup slice `slice` (dedup-slices.ts).
   */
  seen(bucket: string, slice: number): string;
  /** String: a publish's first answer, under its idempotency id (`remember` / `recall`). */
  answer(id: string): string;
  /** List: dead letters, newest first, capped. */
  deadLetters: string;
  /** String: dedup marker of a dead-lettered webhook id, in the dead-letter slot. */
  deadLetterId(webhookId: string): string;
}

/**
 * Escapes an id for use inside a hash tag: `{` and `}` would end or confuse the tag and `%` is
 * the escape itself; an empty id would make an empty tag (Redis then hashes the whole key).
 */
export function tagSafe(id: string): string {
  if (id === '') return '%';
  return id.replace(/[%{}]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The key layout under `prefix` (default 'roomcast:'). */
export function createKeyLayout(prefix: string): KeyLayout {
  if (/[{}]/.test(prefix)) throw new Error('redis keyPrefix must not contain { or }');
  return {
    room(roomId) {
      const base = `${prefix}room:{${tagSafe(roomId)}}`;
      return {
        meta: `${base}:meta`,
        state: `${base}:state`,
        log: `${base}:log`,
        channel: `${base}:entries`,
        lease: `${base}:reconcile`,
        occupancy: `${base}:occupancy`,
        ids: `${base}:ids:`,
      };
    },
    peer(peerId) {
      const base = `${prefix}peer:{${tagSafe(peerId)}}`;
      return { room: `${base}:room`, held: `${base}:held` };
    },
    rooms: `${prefix}rooms`,
    seen: (bucket, slice) => `${prefix}seen:{${bucket}}:${slice}`,
    answer: (id) => `${prefix}answer:${id}`,
    deadLetters: `${prefix}{dead}:letters`,
    deadLetterId: (webhookId) => `${prefix}{dead}:id:${webhookId}`,
  };
}
