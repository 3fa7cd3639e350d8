/**
 * The token form: shown until a token is given, and again when the server refuses it or it
 * expires (with a message saying so); the sign-out button brings it back too.
 */
import { setText } from './dom.ts';
import type { ConsoleUi } from './console-ui.ts';

/** The token form. */
export interface TokenGate {
  /** Hides the console and shows the form, with `message` (none: empty). */
  show(message: string): void;
  /** Hides the form and shows the console. */
  hide(): void;
}

/** Hooks of the token form. */
export interface TokenGateHooks {
  /** A token was submitted (trimmed, not empty). */
  submitted(token: string): void;
  /** The sign-out button was pressed. */
  signedOut(): void;
}

/** Binds the form and the sign-out button. */
export function createTokenGate(ui: ConsoleUi, hooks: TokenGateHooks): TokenGate {
  ui.tokenForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = ui.tokenInput.value.trim();
    if (!token) {
      setText(ui.tokenError, 'Paste a token first.');
      ui.tokenError.hidden = false;
      return;
    }
    hooks.submitted(token);
  });
  ui.signOut.addEventListener('click', () => hooks.signedOut());
  return {
    show(message) {
      ui.consoleView.hidden = true;
      ui.tools.hidden = true;
      ui.tokenView.hidden = false;
      setText(ui.tokenError, message);
      ui.tokenError.hidden = !message;
      ui.tokenInput.value = '';
      ui.tokenInput.focus();
    },
    hide() {
      ui.tokenView.hidden = true;
      ui.consoleView.hidden = false;
      ui.tools.hidden = false;
    },
  };
}
