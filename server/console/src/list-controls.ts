/**
 * The room list's controls: the search box (rooms by id or by the name of someone in them) and
 * Up / Down to move between rooms, as in any list.
 */
import type { ConsoleUi } from './console-ui.ts';

/** Binds the search box and the list's arrow keys; `searched` runs on every edit of the box. */
export function bindListControls(ui: ConsoleUi, searched: () => void): void {
  ui.search.addEventListener('input', searched);
  ui.roomList.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const buttons = [...ui.roomList.querySelectorAll<HTMLButtonElement>('button')];
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = buttons[index + (event.key === 'ArrowDown' ? 1 : -1)];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });
}

/** The search box's query: trimmed, lower case (empty: every room). */
export function searchQuery(ui: ConsoleUi): string {
  return ui.search.value.trim().toLowerCase();
}
