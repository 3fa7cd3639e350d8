/**
 * @roomcast/client/event-source: reads SSE with EventSource, for runtimes without streaming
 * `fetch`. `createClient({ url, token, sseLink: eventSourceLink(EventSource) })`. The token
 * then travels in the URL (`?token=`; the server redacts it from its logs) and a refused
 * stream cannot say why (EventSource hides the answer), so refusals look like network errors.
 */
import { EVENT_NAME_LIST, FRAME_EVENT_NAMES } from '@roomcast/shared/event-names';
import type { ServerFrame } from '@roomcast/shared/frames';
import type { SseLinkOpener } from './link.ts';

/** Event names an EventSource must listen to (SSE `event:` is the frame kind or event name). */
const SSE_NAMES = [...FRAME_EVENT_NAMES, ...EVENT_NAME_LIST];

/** An SSE link opener that uses `Source` (the global EventSource, or Node's `eventsource`). */
export function eventSourceLink(Source: typeof EventSource): SseLinkOpener {
  return (url, token, request, on) => {
    const query = new URLSearchParams(request.rooms.map((room) => ['room', room]));
    query.set('token', token);
    if (request.positions) query.set('lastEventId', request.positions);
    if (request.occupancy) query.set('occupancy', '1');
    const es = new Source(`${url}/events?${query}`);
    let opened = false;
    const onMessage = (event: Event) => {
      const data = (event as MessageEvent).data;
      on.alive();
      if (typeof data === 'string') on.frame(JSON.parse(data) as ServerFrame);
    };
    for (const name of SSE_NAMES) es.addEventListener(name, onMessage);
    es.onopen = () => {
      opened = true;
      on.alive();
    };
    // `event: error` frames share their name with EventSource's own connection errors, which
    // carry no data. On a real error EventSource would retry by itself, from the positions of
    // its start: the client decides instead.
    es.onerror = (event) => {
      if (typeof (event as MessageEvent).data === 'string') return;
      es.close();
      on.down({ opened });
    };
    return { send: () => undefined, close: () => es.close() };
  };
}
