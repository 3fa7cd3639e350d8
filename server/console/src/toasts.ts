/**
 * "Peer joined" toasts: announced politely to screen readers (the container is an aria-live
 * region), a few at a time, each gone after a few seconds. The mute switch is remembered in
 * localStorage, so it survives reloads and new tabs.
 */
import { h } from './dom.ts';

const MUTE_KEY = 'roomcast.console.toastsMuted';
const SHOWN_MS = 6000;
const MAX_VISIBLE = 3;

/** The toast area and its switch. */
export interface Toasts {
  show(title: string, detail: string): void;
  readonly muted: boolean;
}

/** Binds the toast container and the mute switch (a `role="switch"` button). */
export function createToasts(container: HTMLElement, toggle: HTMLButtonElement): Toasts {
  let muted = readMuted();
  const paint = () => toggle.setAttribute('aria-checked', String(!muted));
  paint();
  toggle.addEventListener('click', () => {
    muted = !muted;
    paint();
    try {
      localStorage.setItem(MUTE_KEY, muted ? '1' : '0');
    } catch {
      // storage disabled: the choice lasts for this page
    }
    if (muted) container.replaceChildren();
  });

  return {
    show(title, detail) {
      if (muted) return;
      const toast = h(
        'div',
        { class: 'toast' },
        h('strong', {}, title),
        h('span', { class: 'toast-detail' }, detail),
      );
      container.prepend(toast);
      while (container.children.length > MAX_VISIBLE) container.lastElementChild?.remove();
      setTimeout(() => toast.remove(), SHOWN_MS);
    },
    get muted() {
      return muted;
    },
  };
}

function readMuted(): boolean {
  try {
    return localStorage.getItem(MUTE_KEY) === '1';
  } catch {
    return false;
  }
}
