/**
 * The roomcast moderator console: every active room, who is in it, what they publish and what
 * just happened, live. The room list is pushed by the rooms feed (rooms-feed.ts); the selected
 * room and the first rooms of the list are subscribed to with @roomcast/client, which
 * reconnects and resumes by itself (a "resynced" note shows when a gap could not be replayed).
 * This entry only finds the page and starts the app (console-app.ts); it keeps no state.
 */
import './console.css';
import { startConsoleApp } from './console-app.ts';
import { findConsoleUi } from './console-ui.ts';

startConsoleApp(findConsoleUi(), {
  // The page's folder: under a plugin prefix the server's routes live beside the page.
  base: new URL('.', location.href).href.replace(/\/$/, ''),
  narrow: matchMedia('(max-width: 760px)'),
});
