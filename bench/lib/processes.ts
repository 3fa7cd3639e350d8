/**
 * Starting the suite's child processes: servers under test (one per process) and the clients.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startChild } from './ipc.ts';
import type { BenchChild } from './ipc.ts';
import type { BenchOptions } from './bench-options.ts';
import type { ServerInfo } from '../servers/server-process.ts';
import type { ServerKind, ServerParams } from '../servers/server-kinds.ts';

const SERVER_SCRIPT = new URL('../servers/server-process.ts', import.meta.url);

/** Client scripts by name. */
export const CLIENT_SCRIPTS = {
  'ingest-load': new URL('../clients/ingest-load.ts', import.meta.url),
  'verify-micro': new URL('../clients/verify-micro.ts', import.meta.url),
  'fanout-subscribers': new URL('../clients/fanout-subscribers.ts', import.meta.url),
  'realtime-subscribers': new URL('../clients/realtime-subscribers.ts', import.meta.url),
} as const;

/**
 * Starts a server under test in its own process (profiled over its CPU window when --cpu-prof),
 * with `params` for the kinds that take them (roomcast: a Redis URL).
 */
export function startServer(
  kind: ServerKind,
  options: Pick<BenchOptions, 'cpuProf' | 'profileDir'>,
  profileName: string = kind,
  params: ServerParams = {},
): Promise<BenchChild<ServerInfo>> {
  const args: string[] = [kind];
  if (options.cpuProf) {
    // The server profiles itself (node:inspector) over the measured window only, so setup and
    // connection handshakes do not blur the picture.
    mkdirSync(options.profileDir, { recursive: true });
    const file = join(options.profileDir, `${profileName}-${Date.now()}.cpuprofile`);
    args.push('--profile', file);
  }
  if (params.redisUrl) args.push('--redis-url', params.redisUrl);
  return startChild<ServerInfo>(SERVER_SCRIPT, { args, label: `server ${profileName}` });
}

/** Starts a client process. */
export function startClient(name: keyof typeof CLIENT_SCRIPTS): Promise<BenchChild<unknown>> {
  return startChild(CLIENT_SCRIPTS[name], { label: name });
}

/** `list` rotated left by `by`: run r measures the contenders in another order than run r−1. */
export function rotate<T>(list: readonly T[], by: number): T[] {
  const shift = by % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}

/**
 * Files a server under test needs besides its subscribers (listeners, stdio, IPC, Redis, the
 * trigger): a scenario that puts every subscriber on one server caps them to the limit minus these.
 */
export const SERVER_SPARE_FILES = 200;

/** How long a server under test may take to close before its process is ended anyway. */
const CLOSE_GRACE_MS = 10_000;

/**
 * Closes a server under test and ends its process. A server whose close never settles (seen:
 * Socket.IO with connection-state recovery after the jitter scenario's 17,000 reconnects) is
 * ended after `CLOSE_GRACE_MS`, so one contender cannot stall the run.
 */
export async function stopServer(server: BenchChild<ServerInfo>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)));
  await Promise.race([server.request('close').catch(() => {}), grace]);
  clearTimeout(timer);
  await server.stop();
}
