/**
 * Scenario "rooms-list": `GET /rooms` with many rooms on the Redis engine, before and after the
 * room list was paged. "Before" is the server of `BEFORE_REF` (one answer with every room: a
 * ZREVRANGE of the whole index, an HMGET and an occupancy HGETALL per room, a sort), extracted
 * next to the working tree (bench/lib/tree-at-ref.ts); "after" is the working tree's first page
 * at the default limit (50) and at the largest (500). Both servers run in this process, on one
 * redis-server holding the same rooms under one key prefix (the key layout did not change).
 * Per call: latency (median of the run's calls), body size, and Redis commands (CONFIG
 * RESETSTAT, then the summed calls of INFO commandstats, over the run's calls).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { RoomcastConfig, RoomcastOptions } from '../../server/src/config.ts';
import type { Engine } from '../../server/src/engine/engine.ts';
import type { BenchOptions } from '../lib/bench-options.ts';
import { BENCH_API_KEY, BENCH_TOKEN_SECRET, benchToken } from '../lib/bench-secrets.ts';
import { startBenchRedis } from '../lib/redis-server.ts';
import type { BenchRedis } from '../lib/redis-server.ts';
import { addValue, newResult } from '../lib/results.ts';
import type { Contender, ScenarioResult } from '../lib/results.ts';
import { median } from '../lib/stats.ts';
import { treeAtRef } from '../lib/tree-at-ref.ts';
import { quietMachine } from './quiet-machine.ts';

/** The last commit whose `GET /rooms` answered every room at once. */
export const BEFORE_REF = '043b930';
const PREFIX = 'bench-rooms:';

/** What a server tree exports that the scenario needs (the working tree's or the ref's). */
interface ServerModules {
  buildApp(options: {
    config: RoomcastConfig;
    engine: Engine;
    logger: false;
  }): Promise<FastifyInstance>;
  parseOptions(options: RoomcastOptions): RoomcastConfig;
  createRedisEngine(options: { url: string; keyPrefix: string }): Engine;
  createMemoryEngine(): Engine;
}

async function serverModules(root: string): Promise<ServerModules> {
  const load = (path: string) => import(pathToFileURL(join(root, 'server/src', path)).href);
  const [app, config, redis, memory] = await Promise.all([
    load('app.ts'),
    load('config.ts'),
    load('engine/redis-engine.ts'),
    load('engine/memory-engine.ts'),
  ]);
  return {
    buildApp: app.buildApp,
    parseOptions: config.parseOptions,
    createRedisEngine: redis.createRedisEngine,
    createMemoryEngine: memory.createMemoryEngine,
  };
}

interface Running {
  url: string;
  engine: Engine;
  close(): Promise<void>;
}

/** A server of `modules` on the Redis engine at `redisUrl`, or on its memory engine. */
async function start(modules: ServerModules, redisUrl?: string): Promise<Running> {
  const config = modules.parseOptions({
    huddle01ApiKeys: [BENCH_API_KEY],
    tokenSecrets: [BENCH_TOKEN_SECRET],
    logLevel: 'silent',
    console: false,
  });
  const engine = redisUrl
    ? modules.createRedisEngine({ url: redisUrl, keyPrefix: PREFIX })
    : modules.createMemoryEngine();
  const app = await modules.buildApp({ config, engine, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    engine,
    async close() {
      await app.close();
      await engine.close();
    },
  };
}

/** Rooms with a meeting and two peers each, appended through the working tree's engine. */
async function seed(engine: Engine, rooms: number, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const at = Date.now();
  const batch = 200;
  for (let first = 0; first < rooms; first += batch) {
    const appends: Promise<unknown>[] = [];
    for (let i = first; i < Math.min(rooms, first + batch); i++) {
      const roomId = `bench-list-${i}`;
      const base = { receivedAt: at };
      appends.push(
        engine
          .append({
            ...base,
            webhookId: `ms-${i}`,
            event: 'meeting:started',
            payload: { roomId, sessionId: `s-${i}`, createdAt: at },
          } as never)
          .then(() =>
            Promise.all(
              ['a', 'b'].map((peer) =>
                engine.append({
                  ...base,
                  webhookId: `pj-${i}-${peer}`,
                  event: 'peer:joined',
                  payload: {
                    id: `${roomId}-${peer}`,
                    sessionId: `s-${i}`,
                    roomId,
                    joinedAt: at,
                    browser: { name: 'Chrome' },
                    device: { type: 'desktop' },
                  },
                } as never),
              ),
            ),
          ),
      );
    }
    await Promise.all(appends);
  }
  log(`  seeded ${rooms} rooms (3 events each) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const CONTENDERS: (Contender & { path: string; tree: 'before' | 'after' })[] = [
  {
    id: 'full',
    label: `before (${BEFORE_REF}): GET /rooms, every room in one answer`,
    short: 'before: all',
    role: 'reference',
    path: '/rooms',
    tree: 'before',
  },
  {
    id: 'page50',
    label: 'after: GET /rooms, first page, default limit 50',
    short: 'page of 50',
    role: 'subject',
    path: '/rooms',
    tree: 'after',
  },
  {
    id: 'page500',
    label: 'after: GET /rooms?limit=500, the largest page',
    short: 'page of 500',
    role: 'subject',
    path: '/rooms?limit=500',
    tree: 'after',
  },
];

async function measure(
  server: Running,
  path: string,
  calls: number,
  redis?: BenchRedis,
): Promise<{ ms: number; bytes: number; commands: number; rooms: number }> {
  const headers = { authorization: `Bearer ${benchToken()}` };
  const get = async () => {
    const response = await fetch(`${server.url}${path}`, { headers });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return response.text();
  };
  await get(); // warm-up: JIT, connections
  await redis?.command('CONFIG', 'RESETSTAT');
  const times: number[] = [];
  let bytes = 0;
  let rooms = 0;
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    const body = await get();
    times.push(performance.now() - started);
    bytes += Buffer.byteLength(body);
    rooms = (JSON.parse(body) as { rooms: unknown[] }).rooms.length;
  }
  const stats = (await redis?.commandCalls()) ?? {};
  // The bench's own CONFIG RESETSTAT and INFO are not the server's.
  const commands = Object.entries(stats)
    .filter(([name]) => !/^(config|info)/.test(name))
    .reduce((sum, [, count]) => sum + count, 0);
  return { ms: median(times), bytes: bytes / calls, commands: commands / calls, rooms };
}

/** Runs the before/after comparison: on Redis, then on the memory engine. */
export async function runRoomsList(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult[]> {
  const rooms = options.quick ? 1000 : 10_000;
  const calls = { full: options.quick ? 5 : 20, page: options.quick ? 20 : 100 };
  const count = rooms.toLocaleString('en');
  const perCall =
    `Per run: ${calls.full} calls of "before", ${calls.page} of each page size, one at a time ` +
    'after a warm-up call; latency is the median call, body bytes are per call.';
  const metrics = [
    { key: 'latencyMs', label: 'latency per call', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'kib', label: 'body per call', unit: 'KiB', better: 'lower', digits: 1 },
  ] as const;
  const params = {
    rooms,
    runs: options.runs,
    'calls (before / page)': `${calls.full} / ${calls.page}`,
  };
  const contenders = CONTENDERS.map(({ id, label, short, role }) => ({ id, label, short, role }));
  const onRedis = newResult({
    id: 'rooms-list',
    title: `Room list: GET /rooms at ${count} rooms (Redis engine)`,
    method:
      `${count} rooms (a meeting and two peers each) in one redis-server; "before" is the ` +
      `server of commit ${BEFORE_REF} (its GET /rooms answers every room), "after" the working ` +
      `tree (one page per call), both in the bench process on the same keys. ${perCall} Redis ` +
      'commands (INFO commandstats after CONFIG RESETSTAT) are per call too. The page cost does ' +
      'not depend on the number of rooms; the full list grows with it.',
    params,
    metrics: [
      ...metrics,
      { key: 'commands', label: 'Redis commands per call', unit: '', better: 'lower', digits: 0 },
    ],
    contenders,
    baseline: 'full',
    targets: [],
  });
  const inMemory = newResult({
    id: 'rooms-list-memory',
    title: `Room list: GET /rooms at ${count} rooms (memory engine)`,
    method:
      `The same ${count} rooms appended to each server's own memory engine: "before" ` +
      `(${BEFORE_REF}) sorts every room per call, "after" seeks its activity-ordered B+ tree ` +
      `and reads one page. ${perCall}`,
    params,
    metrics: [...metrics],
    contenders,
    baseline: 'full',
    targets: [],
  });

  const running: Running[] = [];
  const launch = async (modules: ServerModules, redisUrl?: string) => {
    const server = await start(modules, redisUrl);
    running.push(server);
    return server;
  };
  const redis = await startBenchRedis();
  const before = await serverModules(treeAtRef(BEFORE_REF));
  const after = await serverModules(new URL('../..', import.meta.url).pathname);
  try {
    log('  Redis engine');
    const servers = {
      before: await launch(before, redis.url),
      after: await launch(after, redis.url),
    };
    await seed(servers.after.engine, rooms, log);
    await compare(onRedis, servers, redis);
    log('  memory engine');
    const memory = { before: await launch(before), after: await launch(after) };
    await seed(memory.before.engine, rooms, log);
    await seed(memory.after.engine, rooms, log);
    await compare(inMemory, memory);
  } finally {
    for (const server of running.splice(0)) await server.close();
    await redis.stop();
  }
  return [onRedis, inMemory];

  async function compare(
    result: ScenarioResult,
    servers: Record<'before' | 'after', Running>,
    bench?: BenchRedis,
  ): Promise<void> {
    for (let run = 0; run < options.runs; run++) {
      for (const contender of CONTENDERS) {
        await quietMachine(options, log);
        const n = contender.id === 'full' ? calls.full : calls.page;
        const figures = await measure(servers[contender.tree], contender.path, n, bench);
        addValue(result, contender.id, 'latencyMs', figures.ms);
        addValue(result, contender.id, 'kib', figures.bytes / 1024);
        if (bench) addValue(result, contender.id, 'commands', figures.commands);
        log(
          `  run ${run + 1} ${contender.short.padEnd(12)} ${figures.ms.toFixed(2).padStart(8)} ms  ` +
            `${(figures.bytes / 1024).toFixed(1).padStart(8)} KiB  ` +
            (bench ? `${figures.commands.toFixed(0).padStart(6)} commands  ` : '') +
            `(${figures.rooms} rooms)`,
        );
      }
    }
  }
}
