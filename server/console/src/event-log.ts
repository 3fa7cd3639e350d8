/**
 * Each watched room's event log: one readable line per event (with the peer's display name),
 * plus notes from the connection (resynced, resumed). Bounded; newest first on screen, with a
 * filter by event type.
 */
import { EVENT_NAME_LIST } from '@roomcast/shared/event-names';
import type { AnyEvent } from '@roomcast/client';
import { formatBytes, formatClock, formatMinutes } from './format.ts';
import { trackName } from './icons.ts';
import { h } from './dom.ts';

/** One line of a room's log. */
export interface LogEntry {
  /** Unique within the page (list keys). */
  key: number;
  /** When it arrived here (ms). */
  at: number;
  /** The event name, or `connection` for notes from the connection. */
  kind: string;
  seq?: number;
  text: string;
}

/** The filter choices: every event, each event name, and the connection notes. */
export const LOG_FILTERS = ['all', ...EVENT_NAME_LIST, 'connection'] as const;

/** What the filter shows for a value. */
export function filterLabel(value: string): string {
  if (value === 'all') return 'All events';
  if (value === 'connection') return 'Connection notes';
  return value;
}

/** Entries kept per room. */
export const LOG_LIMIT = 500;

let nextKey = 1;

/** A line of the room's history, before it is a log entry. */
export interface OlderLine {
  kind: string;
  text: string;
  seq: number;
  /** When it happened (ms), from the event itself. */
  at: number;
}

/** A room's log. */
export interface EventLog {
  readonly entries: readonly LogEntry[];
  add(kind: string, text: string, seq?: number): LogEntry;
  /** Puts the room's earlier events (oldest first) before every line with a seq. */
  addOlder(lines: readonly OlderLine[]): void;
}

/** An empty log. */
export function createEventLog(): EventLog {
  const entries: LogEntry[] = [];
  return {
    entries,
    add(kind, text, seq) {
      const entry: LogEntry = { key: nextKey++, at: Date.now(), kind, text };
      if (seq !== undefined) entry.seq = seq;
      entries.push(entry);
      if (entries.length > LOG_LIMIT) entries.splice(0, entries.length - LOG_LIMIT);
      return entry;
    },
    addOlder(lines) {
      // Only what the log does not hold yet: live events may have come in first.
      const oldest = entries.find((entry) => entry.seq !== undefined)?.seq ?? Infinity;
      const older = lines
        .filter((line) => line.seq < oldest)
        .map((line): LogEntry => ({ key: nextKey++, ...line }));
      entries.unshift(...older.slice(-LOG_LIMIT));
      if (entries.length > LOG_LIMIT) entries.splice(0, entries.length - LOG_LIMIT);
    },
  };
}

/** When an event happened (ms), from its own timestamps; undefined when it carries none. */
export function eventTime(event: AnyEvent): number | undefined {
  const p = event.payload as Partial<
    Record<'leftAt' | 'joinedAt' | 'endedAt' | 'createdAt', number>
  >;
  return p.leftAt ?? p.joinedAt ?? p.endedAt ?? p.createdAt;
}

const files = (list: unknown) => (Array.isArray(list) ? list.length : 0);

/** One readable line for an event; `nameOf` turns a peer id into its display name. */
export function describeEvent(event: AnyEvent, nameOf: (peerId: string) => string): string {
  switch (event.event) {
    case 'meeting:started':
      return 'Meeting started';
    case 'meeting:ended': {
      const p = event.payload;
      return `Meeting ended after ${formatMinutes((p.endedAt - p.createdAt) / 1000)} · ${p.participants} participants`;
    }
    case 'peer:joined': {
      const p = event.payload;
      return `${nameOf(p.id)} joined${p.role ? ` as ${p.role}` : ''}`;
    }
    case 'peer:left':
      return `${nameOf(event.payload.id)} left after ${formatMinutes(event.payload.duration)}`;
    case 'peer:trackPublished':
      return `${nameOf(event.payload.id)} turned on ${trackName(event.payload.track)}`;
    case 'peer:trackUnpublished':
      return `${nameOf(event.payload.id)} turned off ${trackName(event.payload.track)}`;
    case 'recording:started':
      return 'Recording started';
    case 'recording:updated': {
      const p = event.payload;
      const size = p.files.reduce((sum, file) => sum + file.size, 0);
      return `Recording updated · ${files(p.files)} file(s)${size ? `, ${formatBytes(size)}` : ''}`;
    }
    case 'recording:ended':
    case 'recording:stopped':
      return `Recording ended · ${files(event.payload.files)} file(s)`;
    case 'reconcile:media': {
      const p = event.payload;
      return `Huddle01 counts ${p.recordingCount} recording(s), ${p.livestreamCount} livestream(s)`;
    }
  }
}

/** The list item of one entry. */
export function logItem(entry: LogEntry): HTMLLIElement {
  return h(
    'li',
    { class: `log-entry log-${entry.kind.replace(':', '-')}`, 'data-kind': entry.kind },
    h(
      'time',
      { class: 'log-time', datetime: new Date(entry.at).toISOString() },
      formatClock(entry.at),
    ),
    h('span', { class: 'log-kind' }, entry.kind === 'connection' ? 'connection' : entry.kind),
    h('span', { class: 'log-text' }, entry.text),
    entry.seq !== undefined &&
      h('span', { class: 'log-seq', title: 'position in the room log' }, `#${entry.seq}`),
  );
}

/** Whether an entry passes the filter. */
export function matches(entry: LogEntry, filter: string): boolean {
  return filter === 'all' || entry.kind === filter;
}
