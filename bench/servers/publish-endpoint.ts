/**
 * POST /publish for the comparison servers: the body is an event frame (JSON text, the same
 * shape as roomcast's `event` frame), handed to the server's broadcast function. roomcast gets
 * its events through its real webhook route instead; the per-event cost of either trigger is
 * spread over thousands of deliveries, so it hardly weighs on CPU per delivery.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Broadcasts one frame (JSON text) to every subscriber. */
export type Broadcast = (frameJson: string) => void;

/**
 * Returns a node:http request handler answering POST /publish (broadcast, then 200) and passing
 * anything else to `fallback` (404 by default).
 */
export function publishHandler(
  broadcast: Broadcast,
  fallback: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(404).end();
  },
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== '/publish') return fallback(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      broadcast(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  };
}
