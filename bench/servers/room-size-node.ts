/**
 * One roomcast node of the "room-size" scenario, in its own process so its CPU is its own:
 * `buildApp` on the memory engine (or Redis with REDIS_URL), rooms filled with peers straight
 * through the engine (ROOMS = "room:peers,room:peers"; fast, and no webhook is measured there),
 * then it reports its port over IPC and answers `cpu` messages with its CPU time so far (µs).
 */
import { buildApp, parseOptions } from '@roomcast/server';
import { BENCH_API_KEY, BENCH_TOKEN_SECRET } from '../lib/bench-secrets.ts';

const UNLIMITED = 1_000_000_000;
const redisUrl = process.env.REDIS_URL;
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
await app.listen({ port: 0, host: '127.0.0.1' });
const { engine } = app.roomcast;
await engine.ping();

const BASE = 1_790_000_000_000;
let ids = 0;
for (const spec of (process.env.ROOMS ?? '').split(',').filter(Boolean)) {
  const [roomId, peers] = spec.split(':') as [string, string];
  const sessionId = `s-${roomId}`;
  const append = (event: 'meeting:started' | 'peer:joined', payload: object) =>
    engine.append({
      webhookId: `fill-${process.pid}-${++ids}`,
      event,
      payload: payload as never,
      receivedAt: Date.now(),
    });
  await append('meeting:started', { sessionId, roomId, createdAt: BASE });
  for (let i = 0; i < Number(peers); i++) {
    await append('peer:joined', {
      id: `${roomId}-p${i}`,
      sessionId,
      roomId,
      joinedAt: BASE + 1000 + i,
      browser: { name: 'Chrome', version: '126' },
      device: { model: 'Macintosh', type: 'desktop', vendor: 'Apple' },
      metadata: JSON.stringify({ displayName: `Peer ${i}` }),
    });
  }
}

const address = app.server.address();
if (address === null || typeof address === 'string') throw new Error('no TCP address');
process.on('message', (message: { type: string }) => {
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ type: 'cpu', us: user + system });
  } else if (message.type === 'close') {
    void app.close().then(() => process.exit(0));
  }
});
process.send?.({ type: 'ready', port: address.port });
