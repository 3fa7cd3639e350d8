/**
 * The page's fixed elements, found once by id (server/console/index.html has them all).
 */
import { byId } from './dom.ts';

/** The elements the console app drives. */
export interface ConsoleUi {
  tools: HTMLElement;
  /** The connection indicator. */
  conn: HTMLElement;
  tokenView: HTMLElement;
  tokenForm: HTMLFormElement;
  tokenInput: HTMLInputElement;
  tokenError: HTMLElement;
  signOut: HTMLElement;
  consoleView: HTMLElement;
  search: HTMLInputElement;
  roomCount: HTMLElement;
  roomsEmpty: HTMLElement;
  roomList: HTMLUListElement;
  roomView: HTMLElement;
  toasts: HTMLElement;
  toastSwitch: HTMLButtonElement;
}

/** Finds every element of the console's skeleton; throws when one is missing. */
export function findConsoleUi(): ConsoleUi {
  return {
    tools: byId('tools'),
    conn: byId('conn'),
    tokenView: byId('token-view'),
    tokenForm: byId<HTMLFormElement>('token-form'),
    tokenInput: byId<HTMLInputElement>('token-input'),
    tokenError: byId('token-error'),
    signOut: byId('sign-out'),
    consoleView: byId('console-view'),
    search: byId<HTMLInputElement>('room-search'),
    roomCount: byId('room-count'),
    roomsEmpty: byId('rooms-empty'),
    roomList: byId<HTMLUListElement>('room-list'),
    roomView: byId('room-view'),
    toasts: byId('toasts'),
    toastSwitch: byId<HTMLButtonElement>('toast-switch'),
  };
}
