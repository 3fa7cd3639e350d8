/**
 * The webhook's 200 waits for the durable append, not for the room's fan-out (memory engine;
 * the Redis engine fans out through pub/sub, after its script has answered).
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { createMemoryEngine } from '../server/src/engine/memory-engine.ts';
import { meetingStarted, peerJoined } from './helpers/payloads.ts';
import { postWebhook, startServer } from './helpers/server.ts';
import { until } from './helpers/wait.ts';

test('memory engine: the answer is written before any listener or watcher sees the entry', async (t) => {
  const engine = createMemoryEngine();
  const server = await startServer({}, engine);
  t.after(async () => {
    await server.close();
    await engine.close();
  });
  // Counts answers as the app ends them (res.end is where fastify hands the 200 to the socket).
  let answered = 0;
  server.app.server.on('request', (_request, response: ServerResponse) => {
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    response.end = ((...args: unknown[]) => {
      answered++;
      return end(...args);
    }) as ServerResponse['end'];
  });
  const seen: string[] = [];
  await engine.subscribe('r-after', (entry) => seen.push(`listener ${entry.seq} ${answered}`));
  const stop = engine.watch((entry) => seen.push(`watcher ${entry.seq} ${answered}`));
  t.after(stop);

  const first = await postWebhook(server, 'meeting:started', meetingStarted('r-after'));
  const second = await postWebhook(server, 'peer:joined', peerJoined('r-after', 'p1'));
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  await until(() => seen.length >= 4, { what: 'four deliveries', intervalMs: 0 });
  // Each entry reached its listener and the watcher after its own answer, in seq order.
  assert.deepEqual(seen, ['listener 1 1', 'watcher 1 1', 'listener 2 2', 'watcher 2 2']);
});
