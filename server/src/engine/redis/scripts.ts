/**
 * The Lua scripts of the Redis engine, registered with ioredis `defineCommand` (EVALSHA, with
 * EVAL when Redis lost its script cache, e.g. after a restart). Each script touches the keys of
 * one slot only, so it runs unchanged on Redis Cluster.
 */
import type { RedisClient } from './connection.ts';
import { DEDUP_SLICES, FINGERPRINT_BYTES, bucketOf, fingerprint, sliceAt } from './dedup-slices.ts';
import type { KeyLayout, PeerKeys, RoomKeys } from './keys.ts';

/**
 * One append, atomically: duplicate check, the room's next seq, stream append, dedup marker,
 * TTLs, publish. The state does not travel: Redis keeps it as a checkpoint hash (`state`, see
 * state-hash.ts) plus the stream's tail, and the script answers with the entries the caller
 * missed since the position it knows (or `far`), so the caller's state follows the log.
 *
 * Modes: `a` appends whatever the room's position (ordinary events: no compare-and-set, so no
 * conflict however many nodes write the room), except that a possibly redundant event
 * (ARGV 6) in a room with reconcile marks answers `behind`: the caller judges it, then uses `g`
 * or `s`;
 * `g` appends only at the caller's position (the caller judged the event on that state);
 * `s` sets the dedup marker only, at the caller's position (judged redundant there).
 *
 * KEYS: meta, log, this slice's dedup hash (dedup-slices.ts), state.
 * ARGV: 1 mode, 2 known epoch ('' = none), 3 known seq, 4 new epoch (room starts or its
 * history is lost), 5 entry body JSON, 6 candidate (0/1), 7 synthesised (0/1: counts a
 * reconcile mark), 8 activity time (ms), 9 dedup window (ms), 10 history size, 11 room idle
 * TTL (ms), 12 channel, 13 at most this many missed entries, 14 PUBLISH or SPUBLISH (Cluster),
 * 15 dedup hash key without its slice, 16 this slice, 17 id fingerprint, 18 this slice's expiry
 * (ms since epoch), 19 earlier slices to look in, 20 entries received before this (ms) may go.
 * Returns {'dup'} | {'skip'} | {'ok'|'behind', epoch, seq, checkpoint seq, far (0/1), entries}.
 */
const APPEND = `
local meta, log, dedup, st = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local print = ARGV[17]
local function mark()
  redis.call('HSET', dedup, print, 1)
  redis.call('PEXPIREAT', dedup, ARGV[18])
end
do
  local slice = tonumber(ARGV[16])
  for i = 0, tonumber(ARGV[19]) do
    if redis.call('HEXISTS', ARGV[15] .. (slice - i), print) == 1 then return {'dup'} end
  end
end
local m = redis.call('HMGET', meta, 'epoch', 'seq', 'marks')
local epoch, seq, marks = m[1], tonumber(m[2] or '0'), tonumber(m[3] or '0')
if not epoch then
  epoch, seq, marks = ARGV[4], 0, 0
  redis.call('DEL', log, st)
  redis.call('HSET', meta, 'epoch', epoch, 'seq', 0)
elseif seq > 0 and redis.call('EXISTS', log) == 0 then
  -- History lost: a new epoch; what the checkpoint holds is all the state left.
  epoch = ARGV[4]
  redis.call('HSET', meta, 'epoch', epoch)
  redis.call('HSET', st, 'seq', seq)
end
local known = ARGV[2] == epoch and tonumber(ARGV[3]) or -1
local at_head = known == seq
local mode = ARGV[1]
local function missed(kind)
  local ck = tonumber(redis.call('HGET', st, 'seq') or '0')
  if known < 0 or known > seq or seq - known > tonumber(ARGV[13]) then
    return {kind, epoch, seq, ck, 1, {}}
  end
  local entries = {}
  if known < seq then entries = redis.call('XRANGE', log, (known + 1) .. '-0', seq .. '-0') end
  return {kind, epoch, seq, ck, 0, entries}
end
-- In a room reconcile marked, a possibly redundant event must be judged by the caller first.
if mode == 'a' and ARGV[6] == '1' and marks > 0 then return missed('behind') end
if mode ~= 'a' and not at_head then return missed('behind') end
if mode == 's' then
  mark()
  return {'skip'}
end
local reply = missed('ok')
seq = seq + 1
reply[3] = seq
local added = redis.pcall('XADD', log, 'MAXLEN', '~', ARGV[10], seq .. '-0', 'b', ARGV[5])
if type(added) == 'table' and added.err then
  epoch = ARGV[4]
  reply[2], reply[5], reply[6] = epoch, 1, {}
  redis.call('DEL', log)
  redis.call('XADD', log, 'MAXLEN', '~', ARGV[10], seq .. '-0', 'b', ARGV[5])
end
mark()
-- Age: every 4th append, up to 8 entries older than the history TTL leave (the stream ids are
-- seqs, so MINID takes the seq after them), never one the checkpoint has not folded in yet.
if seq % 4 == 0 then
  local cutoff = tonumber(ARGV[20])
  local ck = tonumber(redis.call('HGET', st, 'seq') or '0')
  local upto
  for _, e in ipairs(redis.call('XRANGE', log, '-', '+', 'COUNT', 8)) do
    local s = tonumber(string.match(e[1], '^(%d+)'))
    local t = tonumber(string.match(string.sub(e[2][2] or '', -32), '"receivedAt":(%d+)}$'))
    if s >= seq or s > ck or not t or t >= cutoff then break end
    upto = s
  end
  if upto then redis.call('XTRIM', log, 'MINID', (upto + 1) .. '-0') end
end
redis.call('HSET', meta, 'epoch', epoch, 'seq', seq, 'at', ARGV[8])
if ARGV[7] == '1' then redis.call('HINCRBY', meta, 'marks', 1) end
redis.call('PEXPIRE', meta, ARGV[11])
redis.call('PEXPIRE', log, ARGV[11])
redis.call('PEXPIRE', st, ARGV[11])
redis.call(ARGV[14], ARGV[12], epoch .. ' ' .. seq .. ' ' .. ARGV[5])
return reply
`;

/**
 * Moves the room's checkpoint (the `state` hash) from seq `base` to seq `to`, if it is still
 * at `base` in `epoch` (else another node moved it: nothing to do, the caller learns where it
 * is). `full` replaces the whole hash (a new session or a meeting:ended touched every peer).
 * Also writes the room's summary for `GET /rooms`, if it is newer than the one there.
 *
 * KEYS: meta, state. ARGV: 1 epoch, 2 base seq, 3 to seq, 4 full (0/1), 5 number of fields to
 * set (n), 6 peers, 7 meeting active (0/1), 8 recording active (0/1), then n field/value pairs,
 * then fields to delete. Returns the checkpoint seq now in place.
 */
const CHECKPOINT = `
local meta, st = KEYS[1], KEYS[2]
local m = redis.call('HMGET', meta, 'epoch', 'sum')
if m[1] ~= ARGV[1] then return -1 end
local to = tonumber(ARGV[3])
if tonumber(m[2] or '0') < to then
  redis.call('HSET', meta, 'sum', to, 'peers', ARGV[6], 'meeting', ARGV[7], 'recording', ARGV[8])
end
local ck = tonumber(redis.call('HGET', st, 'seq') or '0')
local n = tonumber(ARGV[5])
if n == 0 and #ARGV == 8 then return ck end
if ck >= to or (ARGV[4] ~= '1' and ck ~= tonumber(ARGV[2])) then return ck end
if ARGV[4] == '1' then redis.call('DEL', st) end
local first = 9
for i = first, first + 2 * n - 1, 2 do redis.call('HSET', st, ARGV[i], ARGV[i + 1]) end
for i = first + 2 * n, #ARGV do redis.call('HDEL', st, ARGV[i]) end
redis.call('HSET', st, 'seq', to)
local ttl = redis.call('PTTL', meta)
if ttl > 0 then redis.call('PEXPIRE', st, ttl) end
return to
`;

/**
 * The head of a room, optionally its state and a range of its history, in one consistent read.
 * With a new epoch given it may write: it creates a missing room (so a room has its epoch from
 * its first snapshot), and gives a room whose history was lost a new epoch.
 *
 * With state, the answer carries the checkpoint hash and the entries after its seq (the tail
 * to fold, state-hash.ts) instead of the range asked for.
 *
 * KEYS: meta, log, state.
 * ARGV: 1 new epoch ('' = read only), 2 first seq wanted (0 = no entries), 3 at most this many
 * entries (more wanted: only the last one), 4 with state (0/1), 5 room idle TTL (ms).
 * Returns {} for an unknown room (read only), else {epoch, seq, state fields, entries}.
 */
const READ = `
local meta, log, st = KEYS[1], KEYS[2], KEYS[3]
local m = redis.call('HMGET', meta, 'epoch', 'seq')
local epoch, seq = m[1], tonumber(m[2] or '0')
if not epoch then
  if ARGV[1] == '' then return {} end
  epoch, seq = ARGV[1], 0
  redis.call('DEL', log, st)
  redis.call('HSET', meta, 'epoch', epoch, 'seq', 0)
  redis.call('PEXPIRE', meta, ARGV[5])
elseif ARGV[1] ~= '' and seq > 0 and redis.call('EXISTS', log) == 0 then
  epoch = ARGV[1]
  redis.call('HSET', meta, 'epoch', epoch)
  redis.call('HSET', st, 'seq', seq)
end
local state = {}
local entries = {}
local from, max = tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[4] == '1' then
  state = redis.call('HGETALL', st)
  from, max = tonumber(redis.call('HGET', st, 'seq') or '0') + 1, seq
end
if from > 0 and from <= seq then
  if seq - from + 1 > max then from = seq end
  entries = redis.call('XRANGE', log, from .. '-0', '+', 'COUNT', max)
end
return {epoch, seq, state, entries}
`;

/** KEYS: meta. ARGV: expected epoch, new epoch. Returns the epoch now in place (nil: no room). */
const BUMP_EPOCH = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch == ARGV[1] then
  redis.call('HSET', KEYS[1], 'epoch', ARGV[2])
  return ARGV[2]
end
return epoch
`;

/**
 * Routes a track event through the peer→room index or holds it, atomically, so a peer:joined
 * indexed meanwhile cannot miss it. KEYS: peer room, peer held. ARGV: held item, held TTL (ms).
 * Returns the room id, or nil when the item was held.
 */
const ROUTE_OR_HOLD = `
local room = redis.call('GET', KEYS[1])
if room then return room end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return false
`;

/** Indexes a peer and returns its held items. KEYS: peer room, peer held. ARGV: room id, TTL. */
const INDEX_PEER = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('LRANGE', KEYS[2], 0, -1)
`;

/**
 * Takes one held item out (the hold timer). KEYS: peer room, peer held. ARGV: item.
 * Returns nil when another node released it already, else the peer's room ('' = none).
 */
const TAKE_HELD = `
if redis.call('LREM', KEYS[2], 1, ARGV[1]) == 0 then return false end
return redis.call('GET', KEYS[1]) or ''
`;

/** Adds a fingerprint to a room-independent bucket. KEYS: bucket. ARGV: fingerprint, expiry (ms). */
const SEEN_MARK = `
redis.call('APPEND', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
`;

/**
 * Looks for a fingerprint in a bucket's slices (KEYS, one slot). ARGV: fingerprint, its length.
 * Only whole, aligned fingerprints count. Returns 1 when found.
 */
const SEEN_CHECK = `
local size = tonumber(ARGV[2])
for i = 1, #KEYS do
  local prints = redis.call('GET', KEYS[i])
  if prints then
    local from = 1
    while true do
      local at = string.find(prints, ARGV[1], from, true)
      if not at then break end
      if (at - 1) % size == 0 then return 1 end
      from = at + 1
    end
  end
end
return 0
`;

/** KEYS: letters list, id marker. ARGV: letter JSON, limit, dedup window (ms). 1 kept, 0 dup. */
const DEAD_LETTER = `
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1
`;

/** What the append script needs besides the keys. */
export interface AppendArgs {
  mode: 'a' | 'g' | 's';
  /** The webhook id (its fingerprint is the dedup marker). */
  webhookId: string;
  knownEpoch: string;
  knownSeq: number;
  newEpoch: string;
  body: string;
  /** The event could be redundant after reconcile (see `mayBeRedundant`). */
  candidate: boolean;
  /** The event is synthesised by reconcile (it leaves a mark). */
  synthesised: boolean;
  at: number;
  dedupWindow: number;
  historySize: number;
  roomIdleTtl: number;
  /** At most this many missed entries come back (more: `far`). */
  maxMissed: number;
  /** Entries received before this (ms since epoch) are trimmed (the history TTL). */
  trimBefore: number;
}

/** The append script's answer. */
export type AppendReply =
  | { kind: 'dup' }
  /** (mode `s`) Acknowledged without an append. */
  | { kind: 'skip' }
  | {
      /** `ok`: appended at `seq`; `behind`: not appended, the room is at `seq`. */
      kind: 'ok' | 'behind';
      epoch: string;
      seq: number;
      /** Seq of the room's checkpoint (0: none). */
      checkpoint: number;
      /** The caller's position is too far back (or of another epoch): `missed` is empty. */
      far: boolean;
      /** The entries after the caller's position, up to the head before this append. */
      missed: RawStreamEntry[];
    };

/** What the checkpoint script writes. */
export interface CheckpointArgs {
  epoch: string;
  base: number;
  to: number;
  full: boolean;
  set: [string, string][];
  remove: string[];
  peers: number;
  meetingActive: boolean;
  recordingActive: boolean;
}

/** A raw stream entry: [id, [field, value, …]]. */
export type RawStreamEntry = [string, string[]];

/** The read script's answer (undefined: unknown room, read only). */
export interface ReadReply {
  epoch: string;
  seq: number;
  /** Checkpoint hash fields and values, flat (empty when not asked for or none yet). */
  state: string[];
  entries: RawStreamEntry[];
}

/** What the read script needs besides the keys. */
export interface ReadArgs {
  /** Create a missing room (and renew a history-less one) with this epoch; omit to only read. */
  newEpoch?: string;
  /** First seq wanted; 0 for none. */
  from?: number;
  /** At most this many entries; when more are wanted, only the last one comes. */
  max?: number;
  withState?: boolean;
  roomIdleTtl: number;
}

/** The scripts, typed. */
export interface Scripts {
  append(keys: RoomKeys, args: AppendArgs): Promise<AppendReply>;
  /** Remembers a webhook id room-independently (for `seen` and track events). */
  markSeen(keys: KeyLayout, webhookId: string, at: number, dedupWindow: number): Promise<void>;
  /** True when a webhook id was remembered room-independently within the dedup window. */
  seen(keys: KeyLayout, webhookId: string, at: number, dedupWindow: number): Promise<boolean>;
  checkpoint(keys: RoomKeys, args: CheckpointArgs): Promise<number>;
  read(keys: RoomKeys, args: ReadArgs): Promise<ReadReply | undefined>;
  bumpEpoch(keys: RoomKeys, expected: string, next: string): Promise<string | undefined>;
  routeOrHold(keys: PeerKeys, item: string, ttl: number): Promise<string | undefined>;
  indexPeer(keys: PeerKeys, roomId: string, ttl: number): Promise<string[]>;
  takeHeld(keys: PeerKeys, item: string): Promise<string | undefined>;
  deadLetter(
    list: string,
    idKey: string,
    letter: string,
    limit: number,
    window: number,
  ): Promise<boolean>;
}

type Call = (...args: (string | number)[]) => Promise<unknown>;

const DEFINITIONS = {
  roomcastAppend2: [4, APPEND],
  roomcastCheckpoint: [2, CHECKPOINT],
  roomcastRead2: [3, READ],
  roomcastBumpEpoch: [1, BUMP_EPOCH],
  roomcastRouteOrHold: [2, ROUTE_OR_HOLD],
  roomcastIndexPeer: [2, INDEX_PEER],
  roomcastTakeHeld: [2, TAKE_HELD],
  roomcastDeadLetter: [2, DEAD_LETTER],
  roomcastSeenMark: [1, SEEN_MARK],
} as const;

/**
 * Registers the scripts on `redis` (prefixed names, so an app's own commands are left alone).
 * `publishCommand` is what the append publishes with: SPUBLISH on a Cluster (sharded pub/sub).
 */
export function defineScripts(
  redis: RedisClient,
  { publishCommand = 'PUBLISH' }: { publishCommand?: 'PUBLISH' | 'SPUBLISH' } = {},
): Scripts {
  for (const [name, [numberOfKeys, lua]] of Object.entries(DEFINITIONS)) {
    redis.defineCommand(name, { numberOfKeys, lua });
  }
  const command = (name: keyof typeof DEFINITIONS): Call => {
    const fn = (redis as unknown as Record<string, Call>)[name]!;
    return (...args) => fn.apply(redis, args);
  };
  const append = command('roomcastAppend2');
  const checkpoint = command('roomcastCheckpoint');
  const read = command('roomcastRead2');
  const bumpEpoch = command('roomcastBumpEpoch');
  const routeOrHold = command('roomcastRouteOrHold');
  const indexPeer = command('roomcastIndexPeer');
  const takeHeld = command('roomcastTakeHeld');
  const deadLetter = command('roomcastDeadLetter');
  const seenMark = command('roomcastSeenMark');
  // The check takes one key per slice looked at.
  redis.defineCommand('roomcastSeenCheck', { lua: SEEN_CHECK });
  const seenCheck = (
    redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
  ).roomcastSeenCheck!.bind(redis);

  return {
    async append(keys, a) {
      const { slice, expireAt } = sliceAt(a.at, a.dedupWindow);
      const print = fingerprint(a.webhookId);
      const reply = await (append as (...args: unknown[]) => Promise<unknown>)(
        keys.meta,
        keys.log,
        `${keys.ids}${slice}`,
        keys.state,
        a.mode,
        a.knownEpoch,
        a.knownSeq,
        a.newEpoch,
        a.body,
        a.candidate ? 1 : 0,
        a.synthesised ? 1 : 0,
        a.at,
        a.dedupWindow,
        a.historySize,
        a.roomIdleTtl,
        keys.channel,
        a.maxMissed,
        publishCommand,
        keys.ids,
        slice,
        print,
        expireAt,
        DEDUP_SLICES,
        a.trimBefore,
      );
      return parseAppendReply(reply);
    },

    async checkpoint(keys, a) {
      const reply = await checkpoint(
        keys.meta,
        keys.state,
        a.epoch,
        a.base,
        a.to,
        a.full ? 1 : 0,
        a.set.length,
        a.peers,
        a.meetingActive ? 1 : 0,
        a.recordingActive ? 1 : 0,
        ...a.set.flat(),
        ...a.remove,
      );
      if (typeof reply !== 'number') throw unexpected('checkpoint', reply);
      return reply;
    },

    async read(keys, a) {
      const reply = await read(
        keys.meta,
        keys.log,
        keys.state,
        a.newEpoch ?? '',
        a.from ?? 0,
        a.max ?? 1,
        a.withState ? 1 : 0,
        a.roomIdleTtl,
      );
      if (!Array.isArray(reply)) throw unexpected('read', reply);
      if (reply.length === 0) return undefined;
      const [epoch, seq, state, entries] = reply as unknown[];
      if (typeof epoch !== 'string' || typeof seq !== 'number' || !Array.isArray(state)) {
        throw unexpected('read', reply);
      }
      return { epoch, seq, state: state as string[], entries: (entries ?? []) as RawStreamEntry[] };
    },

    async bumpEpoch(keys, expected, next) {
      const reply = await bumpEpoch(keys.meta, expected, next);
      return typeof reply === 'string' ? reply : undefined;
    },

    async routeOrHold(keys, item, ttl) {
      const reply = await routeOrHold(keys.room, keys.held, item, ttl);
      return typeof reply === 'string' ? reply : undefined;
    },

    async indexPeer(keys, roomId, ttl) {
      const reply = await indexPeer(keys.room, keys.held, roomId, ttl);
      return Array.isArray(reply) ? reply.filter((item) => typeof item === 'string') : [];
    },

    async takeHeld(keys, item) {
      const reply = await takeHeld(keys.room, keys.held, item);
      return typeof reply === 'string' ? reply : undefined;
    },

    async markSeen(layout, webhookId, at, window) {
      const print = fingerprint(webhookId);
      const { slice, expireAt } = sliceAt(at, window);
      await (seenMark as (...args: unknown[]) => Promise<unknown>)(
        layout.seen(bucketOf(print), slice),
        print,
        expireAt,
      );
    },

    async seen(layout, webhookId, at, window) {
      const print = fingerprint(webhookId);
      const { slice } = sliceAt(at, window);
      const bucket = bucketOf(print);
      const slices = Array.from({ length: DEDUP_SLICES + 1 }, (_, i) =>
        layout.seen(bucket, slice - i),
      );
      return (await seenCheck(slices.length, ...slices, print, FINGERPRINT_BYTES)) === 1;
    },

    async deadLetter(list, idKey, letter, limit, window) {
      return (await deadLetter(list, idKey, letter, limit, window)) === 1;
    },
  };
}

function parseAppendReply(reply: unknown): AppendReply {
  if (!Array.isArray(reply)) throw unexpected('append', reply);
  const [kind, epoch, seq, checkpoint, far, missed] = reply as unknown[];
  if (kind === 'dup' || kind === 'skip') return { kind };
  if (
    (kind === 'ok' || kind === 'behind') &&
    typeof epoch === 'string' &&
    typeof seq === 'number' &&
    typeof checkpoint === 'number' &&
    Array.isArray(missed)
  ) {
    return { kind, epoch, seq, checkpoint, far: far === 1, missed: missed as RawStreamEntry[] };
  }
  throw unexpected('append', reply);
}

function unexpected(script: string, reply: unknown): Error {
  return new Error(`unexpected reply of the ${script} script: ${JSON.stringify(reply)}`);
}
