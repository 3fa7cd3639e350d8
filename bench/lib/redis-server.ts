/**
 * The redis-server of the "redis" scenario: started by the runner on a free port of 127.0.0.1,
 * without persistence (no RDB, no AOF: nothing but the measured work touches the disk), in a temp
 * dir, and stopped after the scenario. The runner also reads its CPU (INFO cpu: the process's
 * getrusage, µs resolution, like a server under test reads its own), empties it between
 * contenders (FLUSHALL: webhook ids and rooms start fresh) and reads its command counters (INFO
 * commandstats), over a few lines of RESP on node:net: the bench needs no Redis client of its own.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The binary: REDIS_SERVER_BIN, else `redis-server` on the PATH (as the tests look it up). */
const BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';

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
  /** Sends one command; resolves with the reply (simple, integer or bulk), rejects on an error reply. */
  command(...args: string[]): Promise<string>;
  /** Command calls since the last `CONFIG RESETSTAT`, by command name (`evalsha`, `set`, …). */
  commandCalls(): Promise<Record<string, number>>;
  /** Stops it (SIGTERM, SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
}

/** Why redis-server cannot be run, or undefined when it can. */
export function redisServerProblem(): string | undefined {
  try {
    execFileSync(BINARY, ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return (
      `redis-server not found (looked for "${BINARY}"; set REDIS_SERVER_BIN or install it, ` +
      'e.g. apt-get install redis-server)'
    );
  }
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

/** One RESP reply from the front of `buffer`, or undefined while it is incomplete. */
function parseReply(buffer: string): { value: string; error: boolean } | undefined {
  const lineEnd = buffer.indexOf('\r\n');
  if (lineEnd < 0) return undefined;
  const type = buffer[0];
  const line = buffer.slice(1, lineEnd);
  if (type === '+' || type === ':') return { value: line, error: false };
  if (type === '-') return { value: line, error: true };
  if (type === '$') {
    const length = Number(line);
    if (length < 0) return { value: '', error: false };
    // Bulk lengths count bytes: compare against the UTF-8 size of what follows.
    const rest = Buffer.from(buffer.slice(lineEnd + 2), 'utf8');
    if (rest.length < length + 2) return undefined;
    return { value: rest.subarray(0, length).toString('utf8'), error: false };
  }
  throw new Error(`unexpected RESP reply ${JSON.stringify(buffer.slice(0, 40))}`);
}

/** Sends one command on a fresh connection (the runner sends a few per phase, never in a hot loop). */
function sendCommand(port: number, args: readonly string[]): Promise<string> {
  const request =
    `*${args.length}\r\n` + args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('');
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let received = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`redis ${args[0]}: no answer in 10 s`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      received += chunk;
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

/** Starts redis-server without persistence on a free port; resolves once it answers PING. */
export async function startBenchRedis(): Promise<BenchRedis> {
  const problem = redisServerProblem();
  if (problem) throw new Error(problem);
  const version = execFileSync(BINARY, ['--version'], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .slice(0, 3)
    .join(' ');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-bench-redis-'));
  const child = spawn(
    BINARY,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
      // What docs/deployment.md recommends; irrelevant to speed, but this is the deployed setup.
      '--maxmemory-policy',
      'noeviction',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // A runner that dies on an error must not leave its redis-server behind (this pid only).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  let ready = false;
  while (!ready && Date.now() < deadline && child.exitCode === null) {
    ready = await sendCommand(port, ['PING']).then(
      (reply) => reply === 'PONG',
      () => false,
    );
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!ready || child.pid === undefined) {
    await stop();
    throw new Error(`redis-server did not start on port ${port}:\n${output}`);
  }
  const pid = child.pid;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid,
    version,
    async cpuUs() {
      // used_cpu_sys / used_cpu_user: getrusage(RUSAGE_SELF) of the whole process, in seconds.
      const info = await sendCommand(port, ['INFO', 'cpu']);
      const seconds = (name: string) =>
        Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
      return (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1_000_000;
    },
    command: (...args) => sendCommand(port, args),
    async commandCalls() {
      const info = await sendCommand(port, ['INFO', 'commandstats']);
      const calls: Record<string, number> = {};
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        calls[match[1]!] = Number(match[2]);
      }
      return calls;
    },
    stop,
  };
}
