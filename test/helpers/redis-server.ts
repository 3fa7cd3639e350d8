/**
 * The one redis-server launcher of the tests and the bench (bench/lib/redis-server.ts wraps it):
 * a real redis-server on a free port of 127.0.0.1, in its own temp dir, without persistence
 * unless asked. It can be stopped (SIGTERM), killed (SIGKILL), frozen and started again on the
 * same port. Cluster and Sentinel setups (redis-topologies.ts) are made of these.
 *
 * When the binary is missing: on CI (`CI=true`) that is an error, never a silent skip; locally
 * `startRedisServer` returns undefined and warns loudly, and the Redis tests skip.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running (or stopped) redis-server. */
export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** Its directory (config files, nodes.conf, the AOF). */
  readonly dir: string;
  /** Process id of the current run (undefined while stopped). */
  readonly pid: number | undefined;
  /** Sends one command on a fresh connection; rejects on an error reply. */
  command(...args: string[]): Promise<string>;
  /** Stops it gracefully (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** Kills it (SIGKILL) and waits for the exit. */
  kill(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Lets a frozen server go on (SIGCONT). */
  resume(): void;
  /** Starts it again on the same port (empty unless persistent); resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/** How to launch one redis-server. */
export interface LaunchOptions {
  /** An append-only file synced on every write, so a restart keeps the data. Default false. */
  persistent?: boolean;
  /** More arguments (`--cluster-enabled yes`, `--replicaof h p`, …). */
  args?: string[];
  /** Run as a Sentinel with this config file text (`port` is added). */
  sentinelConfig?: string;
}

/** The binary: REDIS_SERVER_BIN, else `redis-server` on the PATH. */
export const REDIS_BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';

/** Why redis-server cannot be run, or undefined when it can. */
export function redisServerProblem(): string | undefined {
  const probe = spawnSync(REDIS_BINARY, ['--version'], { stdio: 'ignore' });
  if (probe.error === undefined && probe.status === 0) return undefined;
  return (
    `redis-server not found (looked for "${REDIS_BINARY}"; set REDIS_SERVER_BIN or install it, ` +
    'e.g. apt-get install redis-server)'
  );
}

/** True when the redis-server binary can be run. */
export function redisServerAvailable(): boolean {
  return redisServerProblem() === undefined;
}

/** `redis-server --version`, first three words. */
export function redisVersion(): string {
  return execFileSync(REDIS_BINARY, ['--version'], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .slice(0, 3)
    .join(' ');
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One RESP reply from the front of `buffer` (arrays flattened, one per line), or undefined. */
function parseReply(
  buffer: Buffer,
  at = 0,
): { value: string; error: boolean; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', at);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[at]!);
  const line = buffer.subarray(at + 1, lineEnd).toString('utf8');
  const next = lineEnd + 2;
  if (type === '+' || type === ':') return { value: line, error: false, end: next };
  if (type === '-') return { value: line, error: true, end: next };
  if (type === '$') {
    const length = Number(line);
    if (length < 0) return { value: '', error: false, end: next };
    if (buffer.length < next + length + 2) return undefined;
    return {
      value: buffer.subarray(next, next + length).toString('utf8'),
      error: false,
      end: next + length + 2,
    };
  }
  if (type === '*') {
    const items: string[] = [];
    let end = next;
    for (let i = 0; i < Number(line); i++) {
      const item = parseReply(buffer, end);
      if (!item) return undefined;
      items.push(item.value);
      end = item.end;
    }
    return { value: items.join('\n'), error: false, end };
  }
  throw new Error(`unexpected RESP reply ${JSON.stringify(line.slice(0, 40))}`);
}

/**
 * Sends one command to 127.0.0.1:`port` on a fresh connection (setup and measurement, never a
 * hot loop): the launcher needs no Redis client of its own.
 */
export function respCommand(port: number, args: readonly string[]): Promise<string> {
  const request =
    `*${args.length}\r\n` + args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('');
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let received = Buffer.alloc(0);
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`redis ${args[0]}: no answer in 10 s`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let reply;
      try {
        reply = parseReply(received);
      } catch (error) {
        socket.destroy();
        reject(error as Error);
        return;
      }
      if (!reply) return;
      socket.destroy();
      if (reply.error) reject(new Error(`redis ${args[0]}: ${reply.value}`));
      else resolve(reply.value);
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Polls `check` every 25 ms until it is true; throws `message` after `ms`. */
export async function waitFor(
  check: () => Promise<boolean>,
  message: string,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(message);
}

/** Launches one redis-server on a free port (the binary must exist: see `redisServerProblem`). */
export async function launchRedis(options: LaunchOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-redis-'));
  let child: ChildProcess | undefined;
  let output = '';
  // A runner that dies on an error must not leave its redis-server behind (this pid only).
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  function argv(): string[] {
    if (options.sentinelConfig !== undefined) {
      const file = join(dir, 'sentinel.conf');
      // Sentinel rewrites its config file as it learns the setup: a fresh one on every start.
      writeFileSync(file, `port ${port}\nbind 127.0.0.1\ndir ${dir}\n${options.sentinelConfig}\n`);
      return [file, '--sentinel'];
    }
    return [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      options.persistent ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--dir',
      dir,
      '--daemonize',
      'no',
      ...(options.args ?? []),
    ];
  }

  async function start(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) return;
    output = '';
    const started = spawn(REDIS_BINARY, argv(), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor(
        async () => started.exitCode === null && (await respCommand(port, ['PING'])) === 'PONG',
        `redis-server did not start on port ${port}`,
      );
    } catch (error) {
      started.kill('SIGKILL');
      throw new Error(`${(error as Error).message}:\n${output}`);
    }
  }

  async function signal(name: NodeJS.Signals): Promise<void> {
    if (!child) return;
    const current = child;
    current.kill(name);
    await exited(current);
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child?.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    command: (...args) => respCommand(port, args),
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    start,
    async close() {
      child?.kill('SIGCONT'); // a frozen server would not act on SIGTERM
      const current = child;
      const timer = setTimeout(() => current?.kill('SIGKILL'), 5000);
      await signal('SIGTERM');
      clearTimeout(timer);
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * True when the Redis tests can run; false (after a loud warning) when the binary is missing
 * outside CI; throws when it is missing on CI.
 */
export function redisTestsCanRun(): boolean {
  const problem = redisServerProblem();
  if (problem === undefined) return true;
  if (process.env.CI === 'true') throw new Error(`${problem}: the Redis tests cannot run on CI`);
  console.warn(
    `\n${'!'.repeat(78)}\n!! SKIPPING THE REDIS ENGINE TESTS: ${problem}\n${'!'.repeat(78)}\n`,
  );
  return false;
}

/**
 * Starts a redis-server on a free port. Resolves to undefined (after a loud warning) when the
 * binary is missing outside CI; throws when it is missing on CI.
 */
export async function startRedisServer(
  options: LaunchOptions = {},
): Promise<RedisServer | undefined> {
  if (!redisTestsCanRun()) return undefined;
  return launchRedis(options);
}
