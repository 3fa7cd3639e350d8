/**
 * A real redis-server for tests: its own free port, no persistence unless asked, a temp dir. It can be
 * stopped (SIGTERM), killed (SIGKILL) and started again on the same port (empty, like a Redis
 * restarted without persistence).
 *
 * When the binary is missing: on CI (`CI=true`) that is an error, never a silent skip; locally
 * `startRedisServer` returns undefined and warns loudly, and the Redis tests skip.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running (or stopped) redis-server. */
export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** Stops it gracefully (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** Kills it (SIGKILL) and waits for the exit. */
  kill(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Lets a frozen server go on (SIGCONT). */
  resume(): void;
  /** Starts it again on the same port, empty; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/** The binary: REDIS_SERVER_BIN, else `redis-server` on the PATH. */
const BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';

/** True when the redis-server binary can be run. */
export function redisServerAvailable(): boolean {
  const probe = spawnSync(BINARY, ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when something on `port` answers PING with PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a redis-server on a free port. Resolves to undefined (after a loud warning) when the
 * binary is missing outside CI; throws when it is missing on CI.
 */
export async function startRedisServer(
  options: { persistent?: boolean } = {},
): Promise<RedisServer | undefined> {
  if (!redisServerAvailable()) {
    const message =
      `redis-server not found (looked for "${BINARY}"; set REDIS_SERVER_BIN or install it, ` +
      'e.g. apt-get install redis-server)';
    if (process.env.CI === 'true') throw new Error(`${message}: the Redis tests cannot run on CI`);
    console.warn(
      `\n${'!'.repeat(78)}\n!! SKIPPING THE REDIS ENGINE TESTS: ${message}\n${'!'.repeat(78)}\n`,
    );
    return undefined;
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-redis-'));
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) return;
    output = '';
    const started = spawn(
      BINARY,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        // Persistent: an append-only file synced on every write, so a restart keeps the data.
        '--appendonly',
        options.persistent ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--dir',
        dir,
        '--daemonize',
        'no',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (started.exitCode !== null) break;
      if (await answersPing(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    started.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}:\n${output}`);
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
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    start,
    async close() {
      child?.kill('SIGCONT'); // a frozen server would not act on SIGTERM
      await signal('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
