/**
 * The roomcast server as a child process that can be asked about itself over IPC: the same app
 * `roomcast serve` builds (config from the environment, JSON logs), plus a `probe` message
 * answered, after full garbage collections when run with --expose-gc, with its memory, active
 * resources (timers, sockets), listeners on the long-lived emitters and a prototype-pollution
 * check. Run it through `startProbeServer` (probe-client.ts).
 */
import { createHook } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import { buildApp } from '../../server/src/app.ts';
import { configFromEnv, withDevSecrets } from '../../server/src/config.ts';
import { installGracefulShutdown } from '../../server/src/serve.ts';
import type { ProbeReport } from './probe-client.ts';

const STANDARD_PROTOTYPE_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Live timers and TCP sockets, unref'd ones included (getActiveResourcesInfo() lists only what
 * keeps the loop alive, and every roomcast timer is unref'd). Only with PROBE_TRACK_RESOURCES=1:
 * the hook costs CPU on every promise.
 */
const TRACKED = new Set(['Timeout', 'TCPWRAP']);
const live = new Map<number, string>();
if (process.env.PROBE_TRACK_RESOURCES === '1') {
  createHook({
    init(id, type) {
      if (TRACKED.has(type)) live.set(id, type);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
}

const { config } = withDevSecrets(configFromEnv(process.env));
const app = await buildApp({ config, logger: true });
const address = await app.listen({ port: config.port, host: config.host });
process.stdout.write(`roomcast probe server listening on ${address}\n`);
installGracefulShutdown(app, config.shutdownTimeout);

function listeners(emitter: EventEmitter): number {
  return emitter.eventNames().reduce((sum, name) => sum + emitter.listenerCount(name), 0);
}

function probe(): ProbeReport {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: the first pass may only queue finalizers whose memory the second one frees.
  gc?.();
  gc?.();
  const memory = process.memoryUsage();
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  const tracked: Record<string, number> = {};
  for (const type of live.values()) tracked[type] = (tracked[type] ?? 0) + 1;
  const extraPrototypeKeys = Object.getOwnPropertyNames(Object.prototype).filter(
    (key) => !STANDARD_PROTOTYPE_KEYS.has(key),
  );
  return {
    collected: gc !== undefined,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    resources,
    tracked,
    listeners: {
      process: listeners(process),
      server: listeners(app.server),
      websocketServer: listeners(app.websocketServer),
    },
    polluted:
      extraPrototypeKeys.length > 0 ||
      ({} as Record<string, unknown>).polluted !== undefined ||
      Object.getPrototypeOf({}) !== Object.prototype,
    extraPrototypeKeys,
  };
}

process.on('message', (message: { type?: string; id?: number }) => {
  if (message?.type !== 'probe') return;
  // Idle keep-alive connections of the test's own HTTP clients come and go with its pool:
  // closed first, so that what is counted is what roomcast holds.
  app.server.closeIdleConnections();
  setTimeout(() => process.send?.({ type: 'probe', id: message.id, report: probe() }), 50);
});
