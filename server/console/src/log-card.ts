/**
 * The "Event log" card of the selected room: the newest lines first (at most 200 shown), and
 * the filter by event name. The filter is the view's, so it survives switching rooms.
 */
import { h, replaceChildren } from './dom.ts';
import type { EventLog, LogEntry } from './event-log.ts';
import { LOG_FILTERS, filterLabel, logItem, matches } from './event-log.ts';

/** The filter the log card reads and sets (shared by the cards of every room). */
export interface LogFilter {
  value: string;
}

/** The log card of one room. */
export interface LogCard {
  /** The card's `<section>`. */
  card: HTMLElement;
  /** Draws every shown line again from `log`. */
  draw(log: EventLog): void;
  /** Adds a fresh line at the top (when it passes the filter). */
  prepend(entry: LogEntry): void;
}

/** Lines shown at most (the log keeps more). */
const SHOWN_LOG = 200;

/** Builds the card; `log()` is the room's current log (the filter redraws from it). */
export function createLogCard(filter: LogFilter, log: () => EventLog | undefined): LogCard {
  const select = h('select', { id: 'log-filter' });
  for (const value of LOG_FILTERS) select.append(h('option', { value }, filterLabel(value)));
  select.value = filter.value;
  const list = h('ol', {
    class: 'log-list',
    id: 'event-log',
    'aria-label': 'Events, newest first',
    // It scrolls once the history fills it: keyboard users must be able to reach it.
    tabindex: '0',
  });
  const empty = h(
    'p',
    { class: 'empty' },
    'Events show here as they happen, from when this page began watching the room.',
  );
  const card = h(
    'section',
    { class: 'card log-card', 'aria-labelledby': 'log-title' },
    h(
      'div',
      { class: 'card-head' },
      h('h3', { id: 'log-title' }, 'Event log'),
      h('label', { class: 'filter' }, h('span', { class: 'visually-hidden' }, 'Show'), select),
    ),
    list,
    empty,
  );

  function draw(from: EventLog) {
    const shown = from.entries.filter((entry) => matches(entry, filter.value));
    replaceChildren(list, ...shown.slice(-SHOWN_LOG).reverse().map(logItem));
    empty.hidden = shown.length > 0;
  }

  select.addEventListener('change', () => {
    filter.value = select.value;
    const current = log();
    if (current) draw(current);
  });

  return {
    card,
    draw,
    prepend(entry) {
      if (!matches(entry, filter.value)) return;
      list.prepend(logItem(entry));
      while (list.children.length > SHOWN_LOG) list.lastElementChild?.remove();
      empty.hidden = true;
    },
  };
}
