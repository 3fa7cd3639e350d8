/**
 * The WebSocket link: `GET /ws?batch=1`, the token in the first frame (never in the URL), the
 * server's frames (one, or a batch as a JSON array) handed on one by one.
 */
import type { ErrorFrame, ServerFrame } from '@roomcast/shared/frames';
import type { Link, LinkHandlers } from './link.ts';

/** Opens a WebSocket link to `url` (ws: or wss:) and authenticates with `token`. */
export function openWebSocketLink(
  url: string,
  token: string,
  Socket: typeof WebSocket,
  on: LinkHandlers,
): Link {
  const ws = new Socket(`${url}/ws?batch=1`);
  let opened = false;
  /** The last connection-level error the server sent: it explains the close that follows. */
  let said: ErrorFrame | undefined;
  ws.onopen = () => {
    opened = true;
    on.alive();
    ws.send(JSON.stringify({ type: 'auth', token }));
  };
  ws.onmessage = (message) => {
    on.alive();
    const data = JSON.parse(String(message.data)) as ServerFrame | ServerFrame[];
    for (const frame of Array.isArray(data) ? data : [data]) {
      if (frame.type === 'error' && !frame.room) said = frame;
      on.frame(frame);
    }
  };
  ws.onerror = () => undefined; // 'close' follows; Node's `ws` would throw an unheard error
  ws.onclose = (event) =>
    on.down({
      code: said?.code,
      reason: said?.message ?? event.reason,
      close: event.code,
      opened,
    });
  return {
    send: (frame) => ws.readyState === 1 && ws.send(JSON.stringify(frame)),
    close() {
      ws.onclose = ws.onmessage = ws.onopen = null;
      // A socket still connecting cannot be closed without an error in some browsers: it is
      // closed as soon as it opens.
      if (ws.readyState === 0) ws.onopen = () => ws.close();
      else ws.close();
    },
  };
}
