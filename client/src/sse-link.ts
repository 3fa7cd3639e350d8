/**
 * The SSE link: one multi-room stream, `GET /events?room=a&room=b`, read through streaming
 * `fetch` so the token travels in the `Authorization` header and the positions in
 * `Last-Event-ID` (nothing secret in a URL, a proxy log or the browser console), and a refusal
 * can be read (`{error:{code}}`). Where streaming fetch is missing, `eventSourceLink` from
 * `@roomcast/client/event-source` reads it with EventSource instead (kept out of the core
 * bundle: every browser of the es2022 target streams fetch).
 */
import type { ServerFrame } from '@roomcast/shared/frames';
import type { SseLinkOpener } from './link.ts';

/** Parses the `data:` of each complete message in `text`; returns what is left over. */
function parseMessages(text: string, frame: (frame: ServerFrame) => void): string {
  const messages = text.split('\n\n');
  const rest = messages.pop()!;
  for (const message of messages) {
    const data = message
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(line[5] === ' ' ? 6 : 5))
      .join('\n');
    if (data) frame(JSON.parse(data) as ServerFrame);
  }
  return rest;
}

/** Opens a stream through streaming fetch. */
export const openSseLink: SseLinkOpener = (url, token, request, on) => {
  const query = new URLSearchParams(request.rooms.map((room) => ['room', room]));
  if (request.occupancy) query.set('occupancy', '1');
  const abort = new AbortController();
  let opened = false;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (request.positions) headers['last-event-id'] = request.positions;
  void (async () => {
    try {
      const response = await fetch(`${url}/events?${query}`, { headers, signal: abort.signal });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as {
          error?: { code?: string; message?: string };
        };
        return on.down({ code: body.error?.code, reason: body.error?.message, opened });
      }
      opened = true;
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        on.alive();
        text = parseMessages(text + value, on.frame);
      }
    } catch {
      // a network error, or our own abort (then `down` is not heard: the handlers are gone)
    }
    on.down({ opened });
  })();
  return {
    send: () => undefined,
    close() {
      on = { alive() {}, frame() {}, down() {} };
      abort.abort();
    },
  };
};
