/**
 * The rooms feed: room summaries pushed to `*` connections (the moderator console) instead of
 * polled. A member gets the first page of `GET /rooms` at once, then, at most once a second,
 * one `rooms` frame with the rooms whose summary changed since (serialized once, shared by every
 * member of this node).
 *
 * How a node learns of rooms other nodes append to: each tick it reads the shared room index
 * for the rooms active in the last seconds (`listRooms({after})`: one ZREVRANGEBYSCORE plus one
 * HMGET per changed room on Redis), and only while it has members. Pub/sub would not do: a node
 * hears only the rooms it listens to, and listening to every room would cost every node a
 * message per webhook of every room. The read overlaps the previous one by `FEED_OVERLAP_MS`
 * (the index is written just after each append, with the appending node's clock); what was
 * already sent is recognised and not sent again.
 *
 * Bounded: a member costs one set entry; the node keeps one line per room changed within the
 * overlap; a delta holds at most `MAX_ROOMS_PAGE` rooms (then `more: true` says read the pages
 * again); a member that does not read its frames is dropped like a slow subscriber.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Engine, RoomListQuery, RoomSummary } from '../engine/engine.ts';
import type { Connection } from '../hub/connection.ts';
import { roomsFrame } from '../hub/frames.ts';
import type { OutgoingFrame } from '../hub/frames.ts';
import type { Occupancy } from '../hub/occupancy.ts';
import {
  DEFAULT_ROOMS_PAGE,
  MAX_ROOMS_PAGE,
  readRoomsPage,
  withSubscribers,
} from './room-pages.ts';

/** How often deltas go out at most, ms. */
export const FEED_INTERVAL_MS = 1000;
/** How far each read of changes reaches back before the previous one, ms. */
export const FEED_OVERLAP_MS = 3000;
/**
 * Every this many ticks the first page is read again, so subscriber counts that changed on
 * other nodes (without an event) reach the members too.
 */
const REFRESH_TICKS = 3;

/** The feed's API for the WebSocket route. */
export interface RoomsFeed {
  /**
   * Sends `member` the first page, then adds it to the deltas (joining again sends a first page
   * anew). Rejects when the page cannot be read (the member is not added).
   */
  join(member: Connection, query: RoomListQuery): Promise<void>;
  leave(member: Connection): void;
  /** Connections in the feed on this node. */
  readonly size: number;
  close(): void;
}

/** Options of the feed. */
export interface RoomsFeedOptions {
  engine: Engine;
  occupancy: Occupancy;
  log: FastifyBaseLogger;
  /** A member with more queued than this is dropped (`ROOMCAST_MAX_BUFFERED`). */
  maxBufferedBytes: number;
  /** Rooms idle this long leave the list (`ROOMCAST_ROOM_IDLE_TTL`); told in the first frame. */
  roomIdleTtl: number;
  intervalMs?: number;
  now?: () => number;
}

/** What makes two summaries of one room different for a reader. */
function lineOf(room: RoomSummary): string {
  const { epoch, seq, peers, meetingActive, recordingActive, subscribers, updatedAt } = room;
  return `${epoch}:${seq}:${peers}:${+meetingActive}:${+recordingActive}:${subscribers}:${updatedAt}`;
}

/** Creates the feed (its timer runs only while it has members). */
export function createRoomsFeed(options: RoomsFeedOptions): RoomsFeed {
  const { engine, occupancy, log, maxBufferedBytes, roomIdleTtl } = options;
  const { intervalMs = FEED_INTERVAL_MS, now = Date.now } = options;
  const members = new Set<Connection>();
  /** Members whose first page is on its way (deltas start after it). */
  const joining = new Set<Connection>();
  /** What members were last told of each room read lately, and when it was last read. */
  const told = new Map<string, { line: string; readAt: number }>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let lastRead = now();
  let ticks = 0;
  /** Set while reads fail: one warning per outage, not one a second. */
  let failing = false;

  function send(member: Connection, frame: OutgoingFrame): void {
    if (member.bufferedBytes() > maxBufferedBytes) {
      members.delete(member);
      member.dropSlow();
      return;
    }
    member.send(frame);
  }

  async function tick(): Promise<void> {
    if (running) return; // a slow engine: skip a beat rather than pile up
    running = true;
    try {
      const readAt = now();
      const after = lastRead - FEED_OVERLAP_MS;
      const changed = await engine.listRooms({ limit: MAX_ROOMS_PAGE, after });
      const refresh = ++ticks % REFRESH_TICKS === 0;
      const rooms = changed.rooms;
      if (refresh) {
        const seen = new Set(rooms.map((room) => room.roomId));
        const top = await engine.listRooms({ limit: DEFAULT_ROOMS_PAGE });
        rooms.push(...top.rooms.filter((room) => !seen.has(room.roomId)));
      }
      const summaries = await withSubscribers(occupancy, rooms);
      failing = false;
      // Cut short by the cap: only when even the last room read is newer than the last read
      // (older ones were in that read's window, and told then).
      const truncated = changed.nextCursor !== null && changed.nextCursor.updatedAt > lastRead;
      const fresh = summaries.filter((room) => {
        const line = lineOf(room);
        const same = told.get(room.roomId)?.line === line;
        told.set(room.roomId, { line, readAt });
        return !same;
      });
      lastRead = readAt;
      // A line not read again within a refresh is not compared again: forget it.
      const keepFor = (REFRESH_TICKS + 1) * intervalMs + FEED_OVERLAP_MS;
      for (const [roomId, line] of told) {
        if (line.readAt < readAt - keepFor) told.delete(roomId);
      }
      if (fresh.length === 0 && !truncated) return;
      const frame = roomsFrame(truncated ? { rooms: fresh, more: true } : { rooms: fresh });
      for (const member of members) send(member, frame);
    } catch (error) {
      if (!failing) log.warn({ err: error }, 'rooms feed: could not read the room list');
      failing = true;
    } finally {
      running = false;
    }
  }

  function ensureTimer(): void {
    if (timer || members.size === 0) return;
    lastRead = now();
    timer = setInterval(() => void tick(), intervalMs);
    timer.unref();
  }

  return {
    async join(member, query) {
      members.delete(member);
      joining.add(member);
      try {
        const page = await readRoomsPage(engine, occupancy, query);
        if (!joining.delete(member)) return; // left (or closed) meanwhile
        send(member, roomsFrame({ ...page, idleTtl: roomIdleTtl }));
        if (members.size === 0) {
          // The only member holds exactly this page: no need to send it again as a delta. (With
          // other members, what they were told stays the mark; a repeat to this one is harmless.)
          const readAt = now();
          for (const room of page.rooms) told.set(room.roomId, { line: lineOf(room), readAt });
        }
        members.add(member);
        ensureTimer();
      } finally {
        joining.delete(member);
      }
    },

    leave(member) {
      members.delete(member);
      joining.delete(member);
      if (members.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
        told.clear();
      }
    },

    get size() {
      return members.size + joining.size;
    },

    close() {
      clearInterval(timer);
      timer = undefined;
      members.clear();
      joining.clear();
    },
  };
}
