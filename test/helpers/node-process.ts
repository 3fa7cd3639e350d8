/**
 * A roomcast node as a child process (`roomcast serve --port 0`), for multi-node tests.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_KEY, TEST_SECRET } from './server.ts';

const BIN = fileURLToPath(new URL('../../server/bin/roomcast.js', import.meta.url));

/** A running node. */
export interface NodeProcess {
  url: string;
  wsUrl(token: string): string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Everything it printed. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `roomcast serve` on a free port with the given extra environment. */
export async function startNode(env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
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
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    void exited.then(() => reject(new Error(`node exited before listening:\n${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
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
