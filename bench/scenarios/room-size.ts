/**
 * Scenario "room-size": the cost of one event against the size of its room (issue 20), big and
 * small rooms side by side in one run, rounds interleaved so machine drift hits both alike:
 *
 * - CPU: one roomcast node (memory engine, its own process), a 20-peer and a 10,000-peer room
 *   with one WebSocket subscriber each; signed webhooks of a transient peer joining and leaving,
 *   POSTed one at a time; the node's CPU per webhook;
 * - Redis bytes: the same on the Redis engine, 20 and 2,000 peers; Redis's network input and
 *   output per webhook (INFO stats), background checkpoint writes included;
 * - hot room: three nodes of one Redis, webhooks round-robin over them with 24 in flight, all
 *   to one room, or spread over 100 rooms; webhooks/s, and script calls per webhook (a
 *   compare-and-set retry would show as more than the two a webhook costs: append, checkpoint);
 * - browser: the shared reducer in Chromium, an event applied to a 20- and a 10,000-peer room.
 *
 * The snapshot half of the issue (100 subscribers joining a big room at once, one
 * serialization) is a test: test/snapshot-sharing.test.ts.
 */
import { fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { signRawWebhook } from '../../server/src/webhooks/sign-webhook.ts';
import type { BenchOptions } from '../lib/bench-options.ts';
import { BENCH_API_KEY, benchToken } from '../lib/bench-secrets.ts';
import { startBenchRedis } from '../lib/redis-server.ts';
import type { BenchRedis } from '../lib/redis-server.ts';
import { addValue, newResult } from '../lib/results.ts';
import type { Contender, ScenarioResult } from '../lib/results.ts';
import { median } from '../lib/stats.ts';

const NODE_SCRIPT = new URL('../servers/room-size-node.ts', import.meta.url).pathname;
const BASE = 1_790_000_000_000;

interface Node {
  port: number;
  child: ChildProcess;
  cpuUs(): Promise<number>;
  close(): Promise<void>;
}

async function startNode(env: Record<string, string>): Promise<Node> {
  const child = fork(NODE_SCRIPT, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`room-size node exited with ${code}`)));
    child.on('message', (m: { type: string; port?: number }) => {
      if (m.type === 'ready') resolve(m.port!);
    });
  });
  return {
    port,
    child,
    cpuUs: () =>
      new Promise((resolve) => {
        const on = (m: { type: string; us?: number }) => {
          if (m.type !== 'cpu') return;
          child.off('message', on);
          resolve(m.us!);
        };
        child.on('message', on);
        child.send({ type: 'cpu' });
      }),
    close: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.send({ type: 'close' });
      }),
  };
}

let ids = 0;
/** A transient peer's join and leave in `roomId`, signed, ready to POST. */
function transientPair(roomId: string): { body: string; signature: string }[] {
  const n = ++ids;
  const sessionId = `s-${roomId}`;
  const id = `t-${process.pid}-${n}`;
  const events = [
    {
      event: 'peer:joined',
      payload: {
        id,
        sessionId,
        roomId,
        joinedAt: BASE + 100_000 + 2 * n,
        browser: { name: 'Chrome' },
        device: { type: 'desktop' },
      },
    },
    {
      event: 'peer:left',
      payload: { id, sessionId, roomId, leftAt: BASE + 100_001 + 2 * n, duration: 1 },
    },
  ];
  return events.map((event, i) => {
    const webhookId = `w-${process.pid}-${n}-${i}`;
    const body = JSON.stringify({ id: webhookId, ...event });
    return { body, signature: signRawWebhook(body, webhookId, BENCH_API_KEY) };
  });
}

async function post(port: number, hook: { body: string; signature: string }): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/webhooks/huddle01`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'huddle01-signature': hook.signature },
    body: hook.body,
  });
  if (response.status !== 200) {
    throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
  }
  await response.arrayBuffer();
}

/** A WebSocket subscriber of `roomId` counting the event frames it gets. */
async function subscriber(port: number, roomId: string) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${benchToken()}`);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let events = 0;
  let wake: (() => void) | undefined;
  let subscribed = false;
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { type: string };
    if (frame.type === 'event') events++;
    if (frame.type === 'subscribed') subscribed = true;
    wake?.();
  });
  socket.send(JSON.stringify({ type: 'subscribe', room: roomId }));
  const until = async (check: () => boolean) => {
    while (!check()) await new Promise<void>((resolve) => (wake = resolve));
  };
  await until(() => subscribed);
  return {
    /** Waits until `n` event frames arrived in all. */
    received: (n: number) => until(() => events >= n),
    get events() {
      return events;
    },
    close: () => socket.terminate(),
  };
}

const sizeContenders = (small: number, big: number): Contender[] => [
  {
    id: 'big',
    label: `${big.toLocaleString('en')}-peer room`,
    short: `${big} peers`,
    role: 'subject',
  },
  { id: 'small', label: `${small}-peer room`, short: `${small} peers`, role: 'floor' },
];

/** Rounds of `pairs` transient join/leave pairs per room, rooms in alternating order. */
async function measureRooms(
  nodePort: number,
  rooms: { id: string; roomId: string }[],
  rounds: number,
  pairs: number,
  measure: (run: () => Promise<void>) => Promise<number>,
  record: (contender: string, value: number) => void,
): Promise<void> {
  const subs = new Map<string, Awaited<ReturnType<typeof subscriber>>>();
  for (const room of rooms) subs.set(room.roomId, await subscriber(nodePort, room.roomId));
  try {
    for (let round = 0; round <= rounds; round++) {
      const order = round % 2 === 0 ? rooms : [...rooms].reverse();
      for (const room of order) {
        const sub = subs.get(room.roomId)!;
        const hooks = Array.from({ length: pairs }, () => transientPair(room.roomId)).flat();
        const target = sub.events + hooks.length;
        const value = await measure(async () => {
          for (const hook of hooks) await post(nodePort, hook);
          await sub.received(target);
        });
        if (round > 0) record(room.id, value / hooks.length); // round 0 warms up
      }
    }
  } finally {
    for (const sub of subs.values()) sub.close();
  }
}

async function cpuPart(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const small = 20;
  const big = 10_000;
  const rounds = options.quick ? 3 : 7;
  const pairs = options.quick ? 50 : 150;
  const result = newResult({
    id: 'room-size-cpu',
    title: 'Room size: server CPU per webhook (memory engine)',
    method:
      `One roomcast node (memory engine) in its own process holds a ${small}-peer and a ` +
      `${big.toLocaleString('en')}-peer room, one WebSocket subscriber each. Per round and room, ` +
      `${pairs} transient peers join and leave (${2 * pairs} signed webhooks POSTed one at a time, ` +
      `each one's event delivered to the subscriber); the node's CPU time over that window ÷ ` +
      `webhooks. ${rounds} rounds after a warm-up, rooms alternating first.`,
    params: { rounds, webhooksPerRound: 2 * pairs },
    metrics: [
      { key: 'cpu', label: 'server CPU per webhook', unit: 'µs', better: 'lower', digits: 0 },
    ],
    contenders: sizeContenders(small, big),
    baseline: 'small',
    targets: [
      {
        label: `CPU per webhook, ${big} ÷ ${small} peers`,
        metric: 'cpu',
        against: 'floor',
        comparison: '<=',
        limit: 1.3,
      },
    ],
  });
  const node = await startNode({ ROOMS: `small:${small},big:${big}` });
  try {
    await measureRooms(
      node.port,
      [
        { id: 'small', roomId: 'small' },
        { id: 'big', roomId: 'big' },
      ],
      rounds,
      pairs,
      async (run) => {
        const before = await node.cpuUs();
        await run();
        return (await node.cpuUs()) - before;
      },
      (contender, value) => addValue(result, contender, 'cpu', value),
    );
  } finally {
    await node.close();
  }
  log(
    `cpu µs/webhook: small ${median(result.values.small!.cpu!).toFixed(0)}, big ${median(result.values.big!.cpu!).toFixed(0)}`,
  );
  return result;
}

async function netBytes(redis: BenchRedis): Promise<{ input: number; output: number }> {
  const info = await redis.command('INFO', 'stats');
  const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? NaN);
  return { input: field('total_net_input_bytes'), output: field('total_net_output_bytes') };
}

async function redisBytesPart(
  options: BenchOptions,
  redis: BenchRedis,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const small = 20;
  const big = 2000;
  const rounds = options.quick ? 3 : 7;
  const pairs = options.quick ? 50 : 100;
  const result = newResult({
    id: 'room-size-redis',
    title: 'Room size: Redis bytes per webhook',
    method:
      `One roomcast node on the Redis engine holds a ${small}-peer and a ${big.toLocaleString('en')}-peer ` +
      `room, one WebSocket subscriber each; per round and room ${2 * pairs} webhooks of transient ` +
      `peers, as in the CPU part. Redis's total network input and output (INFO stats) over the ` +
      `window ÷ webhooks, the node's background checkpoint and summary writes included.`,
    params: { rounds, webhooksPerRound: 2 * pairs },
    metrics: [
      {
        key: 'input',
        label: 'bytes into Redis per webhook',
        unit: 'B',
        better: 'lower',
        digits: 0,
      },
      {
        key: 'output',
        label: 'bytes out of Redis per webhook',
        unit: 'B',
        better: 'lower',
        digits: 0,
      },
    ],
    contenders: sizeContenders(small, big),
    baseline: 'small',
    targets: [
      {
        label: `bytes into Redis, ${big} ÷ ${small} peers`,
        metric: 'input',
        against: 'floor',
        comparison: '<=',
        limit: 1.5,
      },
      {
        label: `bytes into Redis per webhook, ${big} peers`,
        metric: 'input',
        against: 'absolute',
        comparison: '<=',
        limit: 2048,
        unit: 'B',
      },
    ],
  });
  await redis.command('FLUSHALL');
  const node = await startNode({ REDIS_URL: redis.url, ROOMS: `small:${small},big:${big}` });
  try {
    await measureRooms(
      node.port,
      [
        { id: 'small', roomId: 'small' },
        { id: 'big', roomId: 'big' },
      ],
      rounds,
      pairs,
      async (run) => {
        const before = await netBytes(redis);
        await run();
        // Let the node's background follow-up writes of the last webhooks land in the window.
        await new Promise((resolve) => setTimeout(resolve, 100));
        return (await netBytes(redis)).input - before.input;
      },
      (contender, value) => addValue(result, contender, 'input', value),
    );
    // Output figures: a second, shorter pass (INFO cannot split them within one window above).
    await measureRooms(
      node.port,
      [
        { id: 'small', roomId: 'small' },
        { id: 'big', roomId: 'big' },
      ],
      Math.max(1, Math.floor(rounds / 2)),
      pairs,
      async (run) => {
        const before = await netBytes(redis);
        await run();
        await new Promise((resolve) => setTimeout(resolve, 100));
        return (await netBytes(redis)).output - before.output;
      },
      (contender, value) => addValue(result, contender, 'output', value),
    );
  } finally {
    await node.close();
  }
  log(
    `redis in B/webhook: small ${median(result.values.small!.input!)}, big ${median(result.values.big!.input!)}`,
  );
  return result;
}

async function hotRoomPart(
  options: BenchOptions,
  redis: BenchRedis,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const rounds = options.quick ? 2 : 3;
  const webhooks = options.quick ? 600 : 1800;
  const inFlight = 24;
  const result = newResult({
    id: 'room-size-hot',
    title: 'One hot room on three nodes (Redis engine)',
    method:
      `Three roomcast nodes of one Redis; ${webhooks} signed webhooks (transient peers joining and ` +
      `leaving) POSTed round-robin over the nodes, ${inFlight} in flight: all to one room, or ` +
      `spread over 100 rooms. Webhooks/s over the whole batch; Redis script calls (EVALSHA) per ` +
      `webhook: an append and a checkpoint/summary write each, so more would mean retries. ` +
      `${rounds} rounds, alternating which goes first.`,
    params: { rounds, webhooks, inFlight, nodes: 3 },
    metrics: [
      {
        key: 'rate',
        label: 'webhooks accepted per second',
        unit: '/s',
        better: 'higher',
        digits: 0,
      },
      { key: 'scripts', label: 'script calls per webhook', unit: '', better: 'lower', digits: 2 },
    ],
    contenders: [
      { id: 'hot', label: 'one hot room', short: '1 room', role: 'subject' },
      { id: 'spread', label: 'spread over 100 rooms', short: '100 rooms', role: 'floor' },
    ],
    baseline: 'spread',
    targets: [
      {
        label: 'throughput, one hot room ÷ 100 rooms',
        metric: 'rate',
        against: 'floor',
        comparison: '>=',
        limit: 0.8,
      },
    ],
  });
  await redis.command('FLUSHALL');
  const nodes = await Promise.all([0, 1, 2].map(() => startNode({ REDIS_URL: redis.url })));
  try {
    for (let round = 0; round <= rounds; round++) {
      const cases = round % 2 === 0 ? ['hot', 'spread'] : ['spread', 'hot'];
      for (const kind of cases) {
        const hooks: { body: string; signature: string }[] = [];
        for (let i = 0; hooks.length < webhooks; i++) {
          hooks.push(...transientPair(kind === 'hot' ? 'hot' : `spread-${i % 100}`));
        }
        await redis.command('CONFIG', 'RESETSTAT');
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (next < hooks.length) {
              const index = next++;
              await post(nodes[index % nodes.length]!.port, hooks[index]!);
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        await new Promise((resolve) => setTimeout(resolve, 100));
        const calls = await redis.commandCalls();
        if (round > 0) {
          addValue(result, kind, 'rate', hooks.length / seconds);
          addValue(result, kind, 'scripts', (calls.evalsha ?? 0) / hooks.length);
        }
      }
    }
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
  }
  log(
    `hot room /s: ${median(result.values.hot!.rate!).toFixed(0)}, spread /s: ${median(result.values.spread!.rate!).toFixed(0)}`,
  );
  return result;
}

/** Runs in the page: rounds of transient peers in both rooms; µs per event, per round. */
const BROWSER_ROUNDS = `function ({ small, big, rounds, events }) {
  const { emptyRoomState, reduceRoom } = globalThis.roomState;
  const room = (n) => {
    let s = emptyRoomState('r');
    s = reduceRoom(s, { event: 'meeting:started', payload: { sessionId: 's', roomId: 'r', createdAt: 1 } });
    for (let i = 0; i < n; i++) {
      s = reduceRoom(s, { event: 'peer:joined', payload: { id: 'p' + i, sessionId: 's', roomId: 'r', joinedAt: 10 + i, browser: { name: 'Chrome' } } });
    }
    return s;
  };
  const states = { small: room(small), big: room(big) };
  const out = { small: [], big: [] };
  let t = 1000000;
  for (let round = 0; round <= rounds; round++) {
    for (const id of round % 2 === 0 ? ['small', 'big'] : ['big', 'small']) {
      let s = states[id];
      const start = performance.now();
      for (let i = 0; i < events; i += 2) {
        const peer = { id: 'x' + t, sessionId: 's', roomId: 'r' };
        s = reduceRoom(s, { event: 'peer:joined', payload: { ...peer, joinedAt: t++, browser: { name: 'Chrome' } } });
        s = reduceRoom(s, { event: 'peer:left', payload: { ...peer, leftAt: t++, duration: 1 } });
      }
      const elapsed = performance.now() - start;
      states[id] = s;
      if (round > 0) out[id].push((elapsed * 1000) / events);
    }
  }
  return out;
}`;

async function browserPart(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const small = 20;
  const big = 10_000;
  // Many short rounds: a garbage collection or another process lands in few of them.
  const rounds = options.quick ? 7 : 31;
  const events = options.quick ? 1000 : 2000;
  const result = newResult({
    id: 'room-size-browser',
    title: 'Room size: applying an event in Chromium',
    method:
      `The shared reducer as the client bundles it, in headless Chromium: rooms of ${small} and ` +
      `${big.toLocaleString('en')} peers; per round and room ${events} events (transient peers ` +
      `joining and leaving) applied with reduceRoom, as the client does for each event frame; ` +
      `time per event (performance.now). ${rounds} rounds after a warm-up, rooms alternating first.`,
    params: { rounds, events },
    metrics: [{ key: 'apply', label: 'time per event', unit: 'µs', better: 'lower', digits: 2 }],
    contenders: sizeContenders(small, big),
    baseline: 'small',
    targets: [
      {
        label: `event applied, ${big} ÷ ${small} peers`,
        metric: 'apply',
        against: 'floor',
        comparison: '<=',
        limit: 1.5,
      },
    ],
  });
  const bundle = await build({
    stdin: {
      contents: `export { emptyRoomState, reduceRoom } from './shared/src/room-state.ts';`,
      resolveDir: new URL('../..', import.meta.url).pathname,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    globalName: 'roomState',
    minify: true,
    target: 'es2022',
    write: false,
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage();
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
    // Plain JavaScript text: a function passed as code would carry the bundler's helpers along.
    const times = (await page.evaluate(
      `(${BROWSER_ROUNDS})(${JSON.stringify({ small, big, rounds, events })})`,
    )) as Record<string, number[]>;
    for (const id of ['small', 'big'])
      for (const value of times[id]!) addValue(result, id, 'apply', value);
  } finally {
    await browser.close();
  }
  log(
    `browser µs/event: small ${median(result.values.small!.apply!).toFixed(2)}, big ${median(result.values.big!.apply!).toFixed(2)}`,
  );
  return result;
}

/** Runs the four parts (see the module comment). */
export async function runRoomSize(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult[]> {
  const results = [await cpuPart(options, log)];
  const redis = await startBenchRedis();
  try {
    results.push(await redisBytesPart(options, redis, log));
    results.push(await hotRoomPart(options, redis, log));
  } finally {
    await redis.stop();
  }
  results.push(await browserPart(options, log));
  const [load] = loadavg();
  if (load! > availableParallelism()) {
    for (const result of results) {
      result.notes.push(
        `load average ${load!.toFixed(1)} on ${availableParallelism()} cores at the end: other ` +
          `work shared the machine, so single runs are noisy; the medians of per-run ratios ` +
          `(big and small measured back to back) are the figures to read`,
      );
    }
  }
  return results;
}
