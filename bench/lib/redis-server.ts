/**
 * The redis-server of the bench scenarios: the launcher the tests use (test/helpers/redis-server.ts:
 * a free port of 127.0.0.1, a temp dir, no persistence: nothing but the measured work touches
 * the disk), plus what the runner reads: the process's CPU (INFO cpu: getrusage, µs resolution,
 * like a server under test reads its own) and its command counters (INFO commandstats). It is
 * emptied between contenders (FLUSHALL: webhook ids and rooms start fresh) and stopped after the
 * scenario.
 */
import { launchRedis, redisServerProblem, redisVersion } from '../../test/helpers/redis-server.ts';
import type { RedisServer } from '../../test/helpers/redis-server.ts';

export { redisServerProblem };

/** A running redis-server of the bench. */
export interface BenchRedis {
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly pid: number;
  /** `redis-server --version`, first words. */
  readonly version: string;
  /** CPU time (user + system, every thread) the process used so far, µs. */
  cpuUs(): Promise<number>;
  /** Sends one command; resolves with the reply (arrays one item a line), rejects on an error reply. */
  command(...args: string[]): Promise<string>;
  /** Command calls since the last `CONFIG RESETSTAT`, by command name (`evalsha`, `set`, …). */
  commandCalls(): Promise<Record<string, number>>;
  /** Stops it (SIGTERM, SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
}

/** CPU (µs) a redis-server used so far: used_cpu_sys + used_cpu_user of INFO cpu. */
export async function redisCpuUs(server: Pick<RedisServer, 'command'>): Promise<number> {
  const info = await server.command('INFO', 'cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1_000_000;
}

/** Command calls by name since the last CONFIG RESETSTAT (INFO commandstats). */
export async function redisCommandCalls(
  server: Pick<RedisServer, 'command'>,
): Promise<Record<string, number>> {
  const info = await server.command('INFO', 'commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls[match[1]!] = Number(match[2]);
  }
  return calls;
}

/** Starts redis-server without persistence on a free port; resolves once it answers PING. */
export async function startBenchRedis(): Promise<BenchRedis> {
  const problem = redisServerProblem();
  if (problem) throw new Error(problem);
  // What docs/deployment.md recommends; irrelevant to speed, but this is the deployed setup.
  const server = await launchRedis({ args: ['--maxmemory-policy', 'noeviction'] });
  return {
    port: server.port,
    url: server.url,
    pid: server.pid!,
    version: redisVersion(),
    cpuUs: () => redisCpuUs(server),
    command: server.command,
    commandCalls: () => redisCommandCalls(server),
    stop: server.close,
  };
}
