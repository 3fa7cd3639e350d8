/**
 * How the subscriber process makes a server emit event `index`: roomcast through its real
 * webhook route (signed peer:joined), the comparison servers through POST /publish. The send
 * time is taken here, in the same process (same clock) as the receive times.
 */
import { Agent, request } from 'node:http';
import { fanoutFrameJson, fanoutWebhook } from '../lib/fanout-events.ts';
import { nowMs } from '../lib/delivery-tracker.ts';

/** Emits event `index` in `room`; resolves when the server answered. */
export type Trigger = (index: number, room: string) => Promise<void>;

/** One kept-alive connection per event in flight (a burst posts its events at once). */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(port: number, path: string, headers: Record<string, string>, body: string) {
  return new Promise<void>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode !== undefined && res.statusCode < 300
            ? resolve()
            : reject(new Error(`POST ${path} answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The trigger for a server: `webhook` (roomcast) or `publish` (comparison servers). */
export function createTrigger(kind: 'webhook' | 'publish', port: number): Trigger {
  if (kind === 'webhook') {
    return (index, room) => {
      const { body, signature } = fanoutWebhook(index, nowMs(), room);
      return post(
        port,
        '/webhooks/huddle01',
        { 'content-type': 'text/plain', 'huddle01-signature': signature },
        body,
      );
    };
  }
  return (index, room) =>
    post(
      port,
      '/publish',
      { 'content-type': 'application/json' },
      fanoutFrameJson(index, nowMs(), room),
    );
}

/** Closes the kept-alive trigger connections. */
export function closeTriggers(): void {
  agent.destroy();
}
