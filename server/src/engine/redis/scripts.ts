/**
 * The Lua scripts of the Redis engine, registered with ioredis `defineCommand` (EVALSHA, with
 * EVAL when Redis lost its script cache, e.g. after a restart). Each script touches the keys of
 * one slot only, so it runs unchanged on Redis Cluster.
 */
import type { Redis } from 'ioredis';
import type { PeerKeys, RoomKeys } from './keys.ts';

/**
 * One append, atomically: duplicate check, compare-and-set on (epoch, seq), stream append,
 * dedup marker, state write, TTLs, publish. The state was reduced in TS from the expected
 * position; the script stores it only if the room is still there.
 *
 * KEYS: meta, log, dedup.
 * ARGV: 1 expected epoch ('' = the caller knows no room), 2 expected seq, 3 a new epoch (used
 * when the room starts or its history is lost), 4 entry body JSON, 5 state JSON, 6 peers,
 * 7 meeting active (0/1), 8 recording active (0/1), 9 activity time (ms), 10 dedup window (ms),
 * 11 history size, 12 room idle TTL (ms), 13 channel.
 */
const APPEND = `
local meta, log, dedup = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', dedup) == 1 then return {'dup'} end
local m = redis.call('HMGET', meta, 'epoch', 'seq')
local epoch, seq = m[1], tonumber(m[2] or '0')
if not epoch then
  if ARGV[1] ~= '' then return {'gone'} end
  epoch, seq = ARGV[3], 0
  redis.call('DEL', log)
elseif epoch ~= ARGV[1] or seq ~= tonumber(ARGV[2]) then
  return {'conflict', epoch, seq, redis.call('HGET', meta, 'state') or ''}
elseif seq > 0 and redis.call('EXISTS', log) == 0 then
  epoch = ARGV[3]
end
seq = seq + 1
local added = redis.pcall('XADD', log, 'MAXLEN', '~', ARGV[11], seq .. '-0', 'b', ARGV[4])
if type(added) == 'table' and added.err then
  epoch = ARGV[3]
  redis.call('DEL', log)
  redis.call('XADD', log, 'MAXLEN', '~', ARGV[11], seq .. '-0', 'b', ARGV[4])
end
redis.call('SET', dedup, '1', 'PX', ARGV[10])
redis.call('HSET', meta, 'epoch', epoch, 'seq', seq, 'state', ARGV[5], 'peers', ARGV[6],
  'meeting', ARGV[7], 'recording', ARGV[8], 'at', ARGV[9])
redis.call('PEXPIRE', meta, ARGV[12])
redis.call('PEXPIRE', log, ARGV[12])
redis.call('PUBLISH', ARGV[13], epoch .. ' ' .. seq .. ' ' .. ARGV[4])
return {'ok', epoch, seq}
`;

/**
 * Acknowledges a webhook without appending it (reconcile already made its change, see
 * reconcile/redundancy.ts), atomically with the position it was judged at: the dedup marker is
 * set only if the room is still where the caller saw it, else the current position and state
 * come back, as for an append.
 *
 * KEYS: meta, dedup. ARGV: 1 expected epoch ('' = the caller knows no room), 2 expected seq,
 * 3 dedup window (ms).
 */
const SKIP = `
local meta, dedup = KEYS[1], KEYS[2]
if redis.call('EXISTS', dedup) == 1 then return {'dup'} end
local m = redis.call('HMGET', meta, 'epoch', 'seq')
local epoch, seq = m[1], tonumber(m[2] or '0')
if not epoch then
  if ARGV[1] ~= '' then return {'gone'} end
elseif epoch ~= ARGV[1] or seq ~= tonumber(ARGV[2]) then
  return {'conflict', epoch, seq, redis.call('HGET', meta, 'state') or ''}
end
redis.call('SET', dedup, '1', 'PX', ARGV[3])
return {'skip'}
`;

/**
 * The head of a room, optionally its state and a range of its history, in one consistent read.
 * With a new epoch given it may write: it creates a missing room (so a room has its epoch from
 * its first snapshot), and gives a room whose history was lost a new epoch.
 *
 * KEYS: meta, log.
 * ARGV: 1 new epoch ('' = read only), 2 first seq wanted (0 = no entries), 3 at most this many
 * entries (more wanted: only the last one), 4 with state (0/1), 5 room idle TTL (ms).
 * Returns {} for an unknown room (read only), else {epoch, seq, state, entries}.
 */
const READ = `
local meta, log = KEYS[1], KEYS[2]
local m = redis.call('HMGET', meta, 'epoch', 'seq')
local epoch, seq = m[1], tonumber(m[2] or '0')
if not epoch then
  if ARGV[1] == '' then return {} end
  epoch, seq = ARGV[1], 0
  redis.call('DEL', log)
  redis.call('HSET', meta, 'epoch', epoch, 'seq', 0)
  redis.call('PEXPIRE', meta, ARGV[5])
elseif ARGV[1] ~= '' and seq > 0 and redis.call('EXISTS', log) == 0 then
  epoch = ARGV[1]
  redis.call('HSET', meta, 'epoch', epoch)
end
local state = ''
if ARGV[4] == '1' then state = redis.call('HGET', meta, 'state') or '' end
local entries = {}
local from, max = tonumber(ARGV[2]), tonumber(ARGV[3])
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

/** KEYS: letters list, id marker. ARGV: letter JSON, limit, dedup window (ms). 1 kept, 0 dup. */
const DEAD_LETTER = `
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1
`;

/** What the append script needs besides the keys. */
export interface AppendArgs {
  expectedEpoch: string;
  expectedSeq: number;
  newEpoch: string;
  body: string;
  state: string;
  peers: number;
  meetingActive: boolean;
  recordingActive: boolean;
  at: number;
  dedupWindow: number;
  historySize: number;
  roomIdleTtl: number;
}

/** The append script's answer. */
export type AppendReply =
  | { kind: 'ok'; epoch: string; seq: number }
  | { kind: 'dup' }
  /** The room moved on: here is its current position and state ('' = empty). */
  | { kind: 'conflict'; epoch: string; seq: number; state: string }
  /** The room the caller expected is gone (expired, Redis lost it). */
  | { kind: 'gone' }
  /** (skip script only) Acknowledged without an append. */
  | { kind: 'skip' };

/** A raw stream entry: [id, [field, value, …]]. */
export type RawStreamEntry = [string, string[]];

/** The read script's answer (undefined: unknown room, read only). */
export interface ReadReply {
  epoch: string;
  seq: number;
  /** State JSON ('' = empty state, or not asked for). */
  state: string;
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
  append(keys: RoomKeys, dedupKey: string, args: AppendArgs): Promise<AppendReply>;
  skip(
    keys: RoomKeys,
    dedupKey: string,
    expectedEpoch: string,
    expectedSeq: number,
    dedupWindow: number,
  ): Promise<AppendReply>;
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
  roomcastAppend: [3, APPEND],
  roomcastSkip: [2, SKIP],
  roomcastRead: [2, READ],
  roomcastBumpEpoch: [1, BUMP_EPOCH],
  roomcastRouteOrHold: [2, ROUTE_OR_HOLD],
  roomcastIndexPeer: [2, INDEX_PEER],
  roomcastTakeHeld: [2, TAKE_HELD],
  roomcastDeadLetter: [2, DEAD_LETTER],
} as const;

/** Registers the scripts on `redis` (prefixed names, so an app's own commands are left alone). */
export function defineScripts(redis: Redis): Scripts {
  for (const [name, [numberOfKeys, lua]] of Object.entries(DEFINITIONS)) {
    redis.defineCommand(name, { numberOfKeys, lua });
  }
  const command = (name: keyof typeof DEFINITIONS): Call => {
    const fn = (redis as unknown as Record<string, Call>)[name]!;
    return (...args) => fn.apply(redis, args);
  };
  const append = command('roomcastAppend');
  const skip = command('roomcastSkip');
  const read = command('roomcastRead');
  const bumpEpoch = command('roomcastBumpEpoch');
  const routeOrHold = command('roomcastRouteOrHold');
  const indexPeer = command('roomcastIndexPeer');
  const takeHeld = command('roomcastTakeHeld');
  const deadLetter = command('roomcastDeadLetter');

  return {
    async append(keys, dedupKey, a) {
      const reply = await append(
        keys.meta,
        keys.log,
        dedupKey,
        a.expectedEpoch,
        a.expectedSeq,
        a.newEpoch,
        a.body,
        a.state,
        a.peers,
        a.meetingActive ? 1 : 0,
        a.recordingActive ? 1 : 0,
        a.at,
        a.dedupWindow,
        a.historySize,
        a.roomIdleTtl,
        keys.channel,
      );
      return parseAppendReply(reply);
    },

    async skip(keys, dedupKey, expectedEpoch, expectedSeq, dedupWindow) {
      return parseAppendReply(
        await skip(keys.meta, dedupKey, expectedEpoch, expectedSeq, dedupWindow),
      );
    },

    async read(keys, a) {
      const reply = await read(
        keys.meta,
        keys.log,
        a.newEpoch ?? '',
        a.from ?? 0,
        a.max ?? 1,
        a.withState ? 1 : 0,
        a.roomIdleTtl,
      );
      if (!Array.isArray(reply)) throw unexpected('read', reply);
      if (reply.length === 0) return undefined;
      const [epoch, seq, state, entries] = reply as unknown[];
      if (typeof epoch !== 'string' || typeof seq !== 'number' || typeof state !== 'string') {
        throw unexpected('read', reply);
      }
      return { epoch, seq, state, entries: (entries ?? []) as RawStreamEntry[] };
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

    async deadLetter(list, idKey, letter, limit, window) {
      return (await deadLetter(list, idKey, letter, limit, window)) === 1;
    },
  };
}

function parseAppendReply(reply: unknown): AppendReply {
  if (!Array.isArray(reply)) throw unexpected('append', reply);
  const [kind, epoch, seq, state] = reply as unknown[];
  if (kind === 'dup') return { kind };
  if (kind === 'gone') return { kind };
  if (kind === 'skip') return { kind };
  if (typeof epoch === 'string' && typeof seq === 'number') {
    if (kind === 'ok') return { kind, epoch, seq };
    if (kind === 'conflict' && typeof state === 'string') return { kind, epoch, seq, state };
  }
  throw unexpected('append', reply);
}

function unexpected(script: string, reply: unknown): Error {
  return new Error(`unexpected reply of the ${script} script: ${JSON.stringify(reply)}`);
}
