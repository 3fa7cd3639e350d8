/**
 * roomcast as deployed standalone: `buildApp` with the in-memory engine (or, given a Redis URL,
 * the Redis engine, as `REDIS_URL` selects it) and the logger off, on 127.0.0.1 and an ephemeral
 * port. Nothing is tuned for the benchmark besides the secrets and the per-IP connection limits:
 * every benchmark subscriber comes from 127.0.0.1, where real subscribers come from thousands of
 * addresses.
 */
import { buildApp, parseOptions } from '@roomcast/server';
import { BENCH_API_KEY, BENCH_TOKEN_SECRET } from '../lib/bench-secrets.ts';
import type { RunningServer, ServerParams } from './running-server.ts';

const UNLIMITED = 1_000_000_000;

/** Starts roomcast and returns its port; with Redis, once the engine reaches Redis. */
export async function startRoomcast({ redisUrl }: ServerParams = {}): Promise<RunningServer> {
  const config = parseOptions({
    huddle01ApiKeys: [BENCH_API_KEY],
    tokenSecrets: [BENCH_TOKEN_SECRET],
    logLevel: 'silent',
    maxConnections: UNLIMITED,
    maxConnectionsPerIp: UNLIMITED,
    connectRatePerIp: UNLIMITED,
    ...(redisUrl ? { redisUrl } : {}),
  });
  const app = await buildApp({ config, logger: false });
  // The accept queue `roomcast serve` asks for (serve.ts LISTEN_BACKLOG).
  await app.listen({ port: 0, host: '127.0.0.1', backlog: 8192 });
  // The Redis engine connects in the background: measure nothing before it is ready.
  if (redisUrl) await app.roomcast.engine.ping();
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    close: () => app.close(),
    drain: () => app.roomcast.drain(),
    stats: () => ({ connections: app.websocketServer?.clients.size ?? 0 }),
  };
}
