/**
 * The "redis" scenario's memory part: what Redis holds per retained event and per remembered
 * webhook id. One Redis engine (in this process) appends whole meetings (the ingest mix:
 * started, 4 joins, 4 track events, 4 leaves, ended) to `ROOMS` rooms on an emptied
 * redis-server; then INFO memory (used_memory, before and after) gives the total, MEMORY USAGE
 * of the dedup keys (room slices and room-independent buckets) the part of the ids. The report
 * turns them into hours until a given Redis fills at a given webhook rate with the 24 h
 * defaults (history, dedup window and room idle TTL all 24 h: nothing is freed before then).
 */
import { createRedisEngine } from '../../server/src/engine/redis-engine.ts';
import type { AppendInput } from '../../server/src/engine/engine.ts';
import { mixWebhook } from '../lib/webhook-mix.ts';
import { addValue, newResult } from '../lib/results.ts';
import type { ScenarioResult } from '../lib/results.ts';
import type { BenchRedis } from '../lib/redis-server.ts';

/** Rooms, and meetings per room (14 webhooks each). */
const ROOMS = 1000;
const MEETINGS = 4;
/** Appends in flight at once (fewer than the rooms: one room's events stay in order). */
const BATCH = 250;
/** The fill-time example: a Redis of this size, at this webhook rate. */
const FILL_BYTES = 16 * 1024 ** 3;
const FILL_RATE = 2000;

async function usedMemory(redis: BenchRedis): Promise<number> {
  const info = await redis.command('INFO', 'memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

/** Sum of MEMORY USAGE over the keys matching `pattern`, and how many there were. */
async function keyBytes(
  redis: BenchRedis,
  pattern: string,
): Promise<{ bytes: number; keys: number }> {
  let cursor = '0';
  let bytes = 0;
  let keys = 0;
  do {
    const reply = (await redis.command('SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000')).split(
      '\n',
    );
    cursor = reply[0]!;
    for (const key of reply.slice(1).filter(Boolean)) {
      bytes += Number(await redis.command('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
      keys++;
    }
  } while (cursor !== '0');
  return { bytes, keys };
}

/** Runs the memory measurement on `redis` (emptied first). */
export async function runRedisMemory(
  redis: BenchRedis,
  runs: number,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const webhooks = ROOMS * MEETINGS * 14;
  const result = newResult({
    id: 'redis-memory',
    title: 'Redis: memory per retained event and per remembered webhook id',
    method:
      `One Redis engine appends ${webhooks} webhooks (${MEETINGS} whole meetings of 14 in each ` +
      `of ${ROOMS} rooms, the ingest mix) to an emptied redis-server (${redis.version}), ` +
      `${BATCH} at a time. Total = INFO memory used_memory after − before. Per remembered id = ` +
      `MEMORY USAGE of every dedup key (the rooms' slice hashes and the room-independent ` +
      `buckets) ÷ webhooks. Per retained event = (total − the ids' part) ÷ events retained ` +
      `(every event here: ${MEETINGS * 14} per room is under the history size), so it carries ` +
      `the stream entry and its share of each room's meta, state, peer index and the room ` +
      `index. Hours to fill = Redis size ÷ (rate × (per event + per id)) with the 24 h ` +
      `defaults, under which nothing is freed for the first 24 h.`,
    params: { rooms: ROOMS, webhooks, 'fill example': `16 GiB at ${FILL_RATE} webhooks/s`, runs },
    metrics: [
      {
        key: 'eventBytes',
        label: 'Redis per retained event',
        unit: 'B',
        better: 'lower',
        digits: 0,
      },
      {
        key: 'idBytes',
        label: 'Redis per remembered webhook id',
        unit: 'B',
        better: 'lower',
        digits: 1,
      },
      {
        key: 'totalBytes',
        label: 'Redis per webhook, all in',
        unit: 'B',
        better: 'lower',
        digits: 0,
      },
      {
        key: 'fillHours',
        label: `hours until 16 GiB fill at ${FILL_RATE}/s`,
        unit: 'h',
        better: 'higher',
        digits: 1,
      },
    ],
    contenders: [{ id: 'redis', label: 'Redis engine', short: 'Redis', role: 'subject' }],
    targets: [
      {
        label: 'per retained event',
        metric: 'eventBytes',
        against: 'absolute',
        comparison: '<=',
        limit: 400,
        unit: 'B',
      },
      {
        label: 'per remembered webhook id',
        metric: 'idBytes',
        against: 'absolute',
        comparison: '<=',
        limit: 60,
        unit: 'B',
      },
    ],
  });
  for (let run = 0; run < runs; run++) {
    await redis.command('FLUSHALL');
    const before = await usedMemory(redis);
    const engine = createRedisEngine({ url: redis.url });
    try {
      const start = Date.now();
      for (let index = 0; index < webhooks; index += BATCH) {
        await Promise.all(
          Array.from({ length: Math.min(BATCH, webhooks - index) }, (_, offset) => {
            const signed = mixWebhook(index + offset, { rooms: ROOMS, tag: `m${run}`, start });
            const { id, event, payload } = JSON.parse(signed.body) as {
              id: string;
              event: AppendInput['event'];
              payload: never;
            };
            return engine.append({ webhookId: id, event, payload, receivedAt: Date.now() });
          }),
        );
      }
    } finally {
      await engine.close();
    }
    const total = (await usedMemory(redis)) - before;
    const ids = (await keyBytes(redis, '*:ids:*')).bytes + (await keyBytes(redis, '*seen:*')).bytes;
    const idBytes = ids / webhooks;
    const eventBytes = (total - ids) / webhooks;
    const fillHours = FILL_BYTES / (FILL_RATE * (eventBytes + idBytes)) / 3600;
    addValue(result, 'redis', 'eventBytes', eventBytes);
    addValue(result, 'redis', 'idBytes', idBytes);
    addValue(result, 'redis', 'totalBytes', total / webhooks);
    addValue(result, 'redis', 'fillHours', fillHours);
    log(
      `  run ${run + 1} memory: ${eventBytes.toFixed(0)} B per event, ${idBytes.toFixed(1)} B per id, ` +
        `${(total / webhooks).toFixed(0)} B per webhook all in; 16 GiB fills in ${fillHours.toFixed(1)} h at ${FILL_RATE}/s`,
    );
  }
  return result;
}
