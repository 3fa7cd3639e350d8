/**
 * A roomcast node as a child process (`roomcast serve --port 0`), for multi-node tests, or any
 * other entry that prints the same "listening on" line (the reliability probe server).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_KEY, TEST_SECRET } from './server.ts';

const BIN = fileURLToPath(new URL('../../server/bin/roomcast.js', import.meta.url));

/** A running node. */
export interface NodeProcess {
  url: string;
  port: number;
  wsUrl(token: string): string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Everything it printed. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** How to start the child, besides its environment. */
export interface NodeOptions {
  /** Arguments after `node` (flags such as --expose-gc, then a script and its arguments). Default: `roomcast serve --port 0`. */
  argv?: string[];
  /** Open an IPC channel (`child.send` / `process.send`). Default false. */
  ipc?: boolean;
  /** Keep at most this many characters of output (the newest). Default: everything. */
  maxOutput?: number;
}

/** Starts `roomcast serve` on a free port with the given extra environment. */
export async function startNode(
  env: Record<string, string>,
  options: NodeOptions = {},
): Promise<NodeProcess> {
  const { argv = [BIN, 'serve', '--port', '0'], ipc = false, maxOutput = Infinity } = options;
  const child = spawn(process.execPath, argv, {
    env: {
      ...process.env,
      HUDDLE01_API_KEY: TEST_KEY,
      ROOMCAST_TOKEN_SECRET: TEST_SECRET,
      ROOMCAST_CONNECT_RATE: '100000',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development',
      ...env,
    },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk;
    // Long runs print a lot: keep the tail (the listening line is read before this matters).
    if (output.length > maxOutput * 2) output = output.slice(-maxOutput);
  };
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      append(chunk);
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    void exited.then(() => reject(new Error(`node exited before listening:\n${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    wsUrl: (token) => `ws://127.0.0.1:${port}/ws?token=${token}`,
    child,
    exited,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
