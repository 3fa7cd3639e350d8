/**
 * Load: thousands of WebSocket and SSE subscribers over many rooms of one server (a child
 * process), `roomcast simulate` playing meetings in every room at a steady rate, subscribers
 * randomly dropping and resuming throughout; then every acknowledged webhook must have reached
 * every subscriber of its room, in order, once, and every room's state must equal the reducer
 * over its log. Used by load.test.ts (reduced) and `npm run load` (full size).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sample } from '../helpers/metrics.ts';
import { TEST_KEY, testToken } from '../helpers/server.ts';
import { createInvariantChecker } from './invariant-checker.ts';
import type { CheckSummary } from './invariant-checker.ts';
import { createLoadDriver } from './load-driver.ts';
import type { LoadStats } from './load-driver.ts';
import { startProbeServer } from './probe-client.ts';
import { settleAndVerify } from './room-heads.ts';

const BIN = fileURLToPath(new URL('../../server/bin/roomcast.js', import.meta.url));

/** Size and pace of a load run. */
export interface LoadOptions {
  ws: number;
  sse: number;
  rooms: number;
  /** Peers per simulated meeting. */
  peers: number;
  /** How long the meetings last (simulate's --duration), e.g. '20s'. */
  duration: string;
  /** Subscribers dropped (then resumed) per second while the meetings run. */
  dropsPerSecond: number;
  /** Prints progress lines. Default: silent. */
  progress?: (line: string) => void;
}

/** The figures of a load run. */
export interface LoadReport {
  options: Omit<LoadOptions, 'progress'>;
  /** Subscriber connections held at once at the peak. */
  peakConnections: number;
  /** Webhooks posted by simulate, and answered 2xx. */
  webhooks: number;
  accepted: number;
  /** Event frames the server handed to connections (roomcast_deliveries_total). */
  serverDeliveries: number;
  driver: LoadStats;
  check: CheckSummary;
  /** Server memory with every subscriber connected (after GC). */
  serverRssBytes: number;
  serverHeapBytes: number;
  durationMs: number;
}

interface RecordLine {
  id: string;
  event: string;
  payload: unknown;
  status: number;
  answer: { seq?: number; roomId?: string; duplicate?: boolean } | null;
}

/** Runs `roomcast simulate` against `url`; resolves with its exit code. */
function simulate(url: string, options: LoadOptions, record: string): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'simulate',
      ...['--rooms', String(options.rooms), '--peers', String(options.peers)],
      ...['--duration', options.duration, '--prefix', 'load', '--concurrency', '16'],
      ...['--url', url, '--key', TEST_KEY, '--record', record],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const forward = (chunk: Buffer) => {
    for (const line of String(chunk).split('\n')) if (line.trim()) options.progress?.(line.trim());
  };
  child.stdout.on('data', forward);
  child.stderr.on('data', forward);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

/** Runs the load scenario. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const started = Date.now();
  const progress = options.progress ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-load-'));
  const server = await startProbeServer({
    ROOMCAST_MAX_CONNECTIONS: '100000',
    ROOMCAST_MAX_CONNECTIONS_PER_IP: '100000',
  });
  const checker = createInvariantChecker();
  const token = await testToken();
  const rooms = Array.from({ length: options.rooms }, (_, i) => `load-${i + 1}`);
  const driver = createLoadDriver({
    checker,
    urls: [server.url],
    token,
    rooms,
    ws: options.ws,
    sse: options.sse,
    progress,
  });
  try {
    progress(
      `opening ${options.ws} WS + ${options.sse} SSE subscribers over ${options.rooms} rooms`,
    );
    await driver.open();
    const peak = await server.probe();
    progress(
      `all subscribed; server RSS ${(peak.rss / 2 ** 20).toFixed(0)} MiB, heap ${(peak.heapUsed / 2 ** 20).toFixed(0)} MiB`,
    );
    const stopChurn = driver.churn(options.dropsPerSecond);
    const ticker = setInterval(() => {
      const { connected, drops, reconnects } = driver.stats;
      progress(`subscribers connected ${connected}, drops ${drops}, reconnects ${reconnects}`);
    }, 5000);
    const record = join(dir, 'simulate.jsonl');
    const code = await simulate(server.url, options, record);
    stopChurn();
    clearInterval(ticker);
    const lines = readFileSync(record, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RecordLine);
    for (const line of lines) {
      if (line.status === 200 && typeof line.answer?.seq === 'number') {
        const { id, event, payload } = line;
        checker.acknowledged({
          roomId: String(line.answer.roomId),
          seq: line.answer.seq,
          id,
          event,
          payload,
        });
      } else if (line.answer?.duplicate) checker.duplicate(line.id, line.event);
    }
    if (code !== 0)
      throw new Error(`roomcast simulate exited ${code}: some webhooks were not accepted`);
    progress(`simulate done: ${lines.length} webhooks; waiting for every subscriber to catch up`);
    const check = await settleAndVerify({
      url: server.url,
      token,
      rooms,
      driver,
      checker,
      timeoutMs: 120_000,
    });
    const metrics = await server.metrics();
    return {
      options: {
        ws: options.ws,
        sse: options.sse,
        rooms: options.rooms,
        peers: options.peers,
        duration: options.duration,
        dropsPerSecond: options.dropsPerSecond,
      },
      peakConnections: driver.stats.peakConnected,
      webhooks: lines.length,
      accepted: lines.filter((line) => line.status >= 200 && line.status < 300).length,
      serverDeliveries: sample(metrics, 'roomcast_deliveries_total'),
      driver: { ...driver.stats },
      check,
      serverRssBytes: peak.rss,
      serverHeapBytes: peak.heapUsed,
      durationMs: Date.now() - started,
    };
  } finally {
    await driver.close();
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
