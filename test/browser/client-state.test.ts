/**
 * @roomcast/client's connection state in real Chromium against the real server: each terminal
 * path (refused token, expired token, refused origin) ends in `failed` with the server's code
 * and no further attempt; a room the token does not grant is closed with FORBIDDEN over both
 * transports; a black-holed link over each transport is noticed within 2× the heartbeat and
 * resumed without loss or duplicate, and after about one heartbeat when `online` or a tab shown
 * again probes it. No token ever appears in a URL the browser requests.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { meetingStarted, peerJoined } from '../helpers/payloads.ts';
import { postWebhook, startServer, testToken } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { chromiumAvailable, launchChromium } from './helpers/chromium.ts';
import type { TestBrowser } from './helpers/chromium.ts';
import { bundleScript, page as htmlPage, startStaticServer } from './helpers/static-server.ts';
import type { StaticServer } from './helpers/static-server.ts';

const fixtures = new URL('./fixtures/', import.meta.url).pathname;
const WAIT = { timeout: 15_000 };
/** The heartbeat of the server under test: short, so a dead link shows within a second. */
const HEARTBEAT = 300;

describe('browser client state in Chromium', { skip: !chromiumAvailable() }, () => {
  let server: TestServer;
  /** A server that allows no origin but one this page is not on. */
  let strict: TestServer;
  let site: StaticServer;
  let browser: TestBrowser;

  before(async () => {
    server = await startServer({ pingInterval: HEARTBEAT, sseHeartbeat: HEARTBEAT });
    strict = await startServer({ allowedOrigins: ['http://app.example'] });
    const clientJs = await bundleScript(`${fixtures}client-page.ts`);
    const workerJs = await bundleScript(
      new URL('../../client/src/share-worker.ts', import.meta.url).pathname,
    );
    site = await startStaticServer({
      '/': htmlPage('/client.js'),
      '/client.js': clientJs,
      '/share-worker.js': workerJs,
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await site?.close();
    await strict?.close();
    await server?.close();
  });

  /** Tabs a test opened: closed after it, also when an assertion failed half-way. */
  const pages: Page[] = [];
  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
  });

  /** A tab on the test page; records every URL it requests and every connection it opens. */
  async function open(): Promise<{ page: Page; urls: string[]; attempts: () => number }> {
    const page = await browser.context.newPage();
    pages.push(page);
    const urls: string[] = [];
    let sockets = 0;
    let streams = 0;
    page.on('websocket', (socket) => {
      sockets++;
      urls.push(socket.url());
    });
    page.on('request', (request) => {
      urls.push(request.url());
      if (/\/events\?/.test(request.url()) && request.method() === 'GET') streams++;
    });
    await page.goto(site.url);
    return { page, urls, attempts: () => sockets + streams };
  }

  const statesOf = (page: Page) => page.evaluate(() => window.harness.states);

  /** Waits for the client state to be `state`, and returns the states seen. */
  async function stateIs(page: Page, state: string) {
    await page.waitForFunction((s) => window.harness.client?.state === s, state, WAIT);
    return statesOf(page);
  }

  /**
   * Posts a probe event to `room` and waits until every page has it; returns its seq. One room's
   * events come in order, so a duplicate of an earlier event would have arrived before it.
   */
  async function probe(room: string, pages: Page[], target = server): Promise<number> {
    const seq = (await postWebhook(target, 'meeting:started', meetingStarted(room))).body
      .seq as number;
    for (const page of pages) {
      await page.waitForFunction(
        ([id, probed]) => window.harness.rooms[id]!.seqs.includes(probed),
        [room, seq] as const,
        WAIT,
      );
    }
    return seq;
  }

  /** Asserts that no connection attempt follows `failed`, for `ms`. */
  async function noMoreAttempts(attempts: () => number, ms = 1500) {
    const before = attempts();
    await sleep(ms);
    assert.equal(attempts(), before, 'an attempt after failed');
  }

  for (const transport of ['websocket', 'sse'] as const) {
    test(`${transport}: a refused token ends in failed UNAUTHORIZED, with no further attempt`, async () => {
      const { page, urls, attempts } = await open();
      const token = 'not.a.jwt';
      await page.evaluate((o) => window.harness.watch(o), {
        url: server.url,
        token,
        room: 'bs-refused',
        transport,
      });
      const states = await stateIs(page, 'failed');
      assert.deepEqual(states, ['connecting', 'failed:UNAUTHORIZED']);
      await noMoreAttempts(attempts);
      assert.equal(attempts(), 1);
      assert.ok(!urls.some((url) => url.includes(token)), 'the token is in no URL');
      await page.close();
    });

    test(`${transport}: an expired token ends in failed TOKEN_EXPIRED, with no further attempt`, async () => {
      const { page, urls, attempts } = await open();
      const token = await testToken(['*'], -10);
      await page.evaluate((o) => window.harness.watch(o), {
        url: server.url,
        token,
        room: 'bs-expired',
        transport,
      });
      const states = await stateIs(page, 'failed');
      assert.deepEqual(states, ['connecting', 'failed:TOKEN_EXPIRED']);
      await noMoreAttempts(attempts);
      assert.ok(!urls.some((url) => url.includes(token)), 'the token is in no URL');
      // A new token leaves failed.
      const fresh = await testToken(['*']);
      await page.evaluate((t) => window.harness.client!.setToken(t), fresh);
      await page.waitForFunction(() => window.harness.status('bs-expired') === 'live', null, WAIT);
      await page.close();
    });

    test(`${transport}: a room the token does not grant is closed and its error handler gets FORBIDDEN`, async () => {
      const { page } = await open();
      const token = await testToken(['bs-granted']);
      for (const room of ['bs-granted', 'bs-denied']) {
        await page.evaluate((o) => window.harness.watch(o), {
          url: server.url,
          token,
          room,
          transport,
        });
      }
      await page.waitForFunction(
        () =>
          window.harness.status('bs-denied') === 'closed' &&
          window.harness.status('bs-granted') === 'live',
        null,
        WAIT,
      );
      const rooms = await page.evaluate(() => window.harness.rooms);
      assert.deepEqual(rooms['bs-denied']!.errors, ['FORBIDDEN']);
      assert.deepEqual(rooms['bs-granted']!.errors, []);
      assert.equal(await page.evaluate(() => window.harness.client?.state), 'connected');
      assert.equal(await page.evaluate(() => window.harness.client?.transport), transport);
      await page.close();
    });
  }

  // A black-holed link is dropped within 2× the heartbeat after its last byte. The probe:
  // `online`, or a hidden tab shown again, means the link may have died unseen (a laptop waking
  // up): a link quiet for a heartbeat (+1 s) is dropped then, not after two.
  const PROBED = 4000;
  const blackHoles = [
    ...(['websocket', 'sse'] as const).map((transport) => ({
      transport,
      trigger: undefined,
      heartbeat: HEARTBEAT,
      title: `${transport}: a black-holed link is dropped within 2× the heartbeat and resumed without loss or duplicate`,
      // 2× the heartbeat from the last byte (at most one heartbeat before the black hole).
      inTime: (noticed: number) => noticed <= 3 * HEARTBEAT + 700,
    })),
    ...(
      [
        ['websocket', 'online'],
        ['sse', 'visibilitychange'],
      ] as const
    ).map(([transport, trigger]) => ({
      transport,
      trigger,
      heartbeat: PROBED,
      title: `${transport}: \`${trigger}\` probes a black-holed link: dropped after about one heartbeat, not two, and resumed`,
      // Unprobed, the drop comes 2× the heartbeat after the last byte (8 s); probed, one
      // heartbeat and a second after it (5 s).
      inTime: (noticed: number) => noticed < 2 * PROBED - 1000,
    })),
  ];
  for (const { transport, trigger, heartbeat, title, inTime } of blackHoles) {
    test(title, async (t) => {
      const own = await startServer({ pingInterval: heartbeat, sseHeartbeat: heartbeat });
      const proxy = await startTcpProxy(own.url);
      t.after(async () => {
        await proxy.close();
        await own.close();
      });
      const { page } = await open();
      const room = `bs-hole-${trigger ?? 'unprobed'}-${transport}`;
      await page.evaluate((o) => window.harness.watch(o), {
        url: proxy.url,
        token: own.token,
        room,
        transport,
      });
      await page.waitForFunction((id) => window.harness.status(id) === 'live', room, WAIT);
      // An event is the link's last byte: the black hole starts right after it.
      const first = (await postWebhook(own, 'peer:joined', peerJoined(room, 'a'))).body
        .seq as number;
      await page.waitForFunction((id) => window.harness.rooms[id]!.seqs.length === 1, room, WAIT);
      // Unprobed, the client must know the interval: it does from the first heartbeat.
      if (!trigger) await sleep(heartbeat);
      const holeAt = Date.now();
      proxy.blackhole();
      await postWebhook(own, 'peer:joined', peerJoined(room, 'b'));
      if (trigger) {
        await page.evaluate((name) => {
          if (name === 'online') window.dispatchEvent(new Event('online'));
          else document.dispatchEvent(new Event('visibilitychange')); // the tab is visible
        }, trigger);
      }
      await page.waitForFunction(
        () => window.harness.states.includes('reconnecting:HEARTBEAT_TIMEOUT'),
        null,
        { timeout: 4 * heartbeat + WAIT.timeout },
      );
      const noticed = Date.now() - holeAt;
      await page.waitForFunction(
        (id) => window.harness.rooms[id]!.seqs.length >= 2 && window.harness.status(id) === 'live',
        room,
        WAIT,
      );
      await probe(room, [page], own);
      const record = await page.evaluate((id) => window.harness.rooms[id]!, room);
      console.log(
        `${transport}: ${trigger ?? 'unprobed'}: black hole noticed after ${noticed} ms (heartbeat ${heartbeat} ms)`,
      );
      assert.deepEqual(record.seqs, [first, first + 1, first + 2], 'each event once, in order');
      assert.equal(record.statuses.at(-1), 'live:recovered', 'resumed, no snapshot');
      assert.ok(inTime(noticed), `noticed after ${noticed} ms`);
      await page.close();
    });
  }

  test('cache: a reload shows the cached room at once and resumes after it (recovered, no snapshot)', async () => {
    const { page } = await open();
    const room = 'bs-cache';
    const seqs: number[] = [];
    for (const peer of ['ada', 'bob'])
      seqs.push(
        (await postWebhook(server, 'peer:joined', peerJoined(room, peer))).body.seq as number,
      );
    const watch = { url: server.url, token: server.token, room, cache: true };
    await page.evaluate((o) => window.harness.watch(o), watch);
    await page.waitForFunction((id) => window.harness.status(id) === 'live', room, WAIT);
    const cy = (await postWebhook(server, 'peer:joined', peerJoined(room, 'cy'))).body.seq;
    await page.waitForFunction((id) => window.harness.rooms[id]!.seqs.length === 1, room, WAIT);
    await sleep(400); // the cache writes a burst at once, 250 ms after it
    await page.reload();
    const missed = (await postWebhook(server, 'peer:joined', peerJoined(room, 'dee'))).body.seq;
    await page.evaluate((o) => window.harness.watch(o), watch);
    const record = await page.evaluate((id) => window.harness.rooms[id]!, room);
    assert.deepEqual(record.initialPeers.sort(), ['ada', 'bob', 'cy'], 'the cached state, at once');
    await page.waitForFunction((id) => window.harness.status(id) === 'live', room, WAIT);
    await page.waitForFunction((id) => window.harness.rooms[id]!.seqs.length === 1, room, WAIT);
    // A snapshot or a second replay would come before the probe.
    const probed = await probe(room, [page]);
    const after = await page.evaluate((id) => window.harness.rooms[id]!, room);
    assert.deepEqual(after.statuses, ['live:recovered'], 'resumed: no snapshot');
    assert.deepEqual(after.seqs, [missed, probed], 'only the event missed during the reload');
    assert.equal(after.resyncs, 0);
    assert.equal(cy, seqs[1]! + 1);
    const peers = await page.evaluate((id) => Object.keys(window.harness.state(id)!.peers), room);
    assert.deepEqual(peers.sort(), ['ada', 'bob', 'cy', 'dee']);
    await page.close();
  });

  test('shareTabs: three tabs, one server connection; the leading tab closes, another takes over, nothing lost', async () => {
    const room = 'bs-tabs';
    const watch = { url: server.url, token: server.token, room, shareTabs: true };
    const tabs: Page[] = [];
    for (let i = 0; i < 3; i++) {
      const { page } = await open();
      await page.evaluate((o) => window.harness.watch(o), watch);
      await page.waitForFunction((id) => window.harness.status(id) === 'live', room, WAIT);
      tabs.push(page);
    }
    const sockets = () => server.app.websocketServer.clients.size;
    assert.equal(sockets(), 1, 'three tabs, one connection');
    const first = (await postWebhook(server, 'peer:joined', peerJoined(room, 'a'))).body
      .seq as number;
    for (const tab of tabs)
      await tab.waitForFunction((id) => window.harness.rooms[id]!.seqs.length === 1, room, WAIT);

    const heard = await tabs[1]!.evaluate(() => window.harness.states.length);
    assert.equal(await tabs[1]!.evaluate(() => window.harness.client?.state), 'connected');
    await tabs.shift()!.close(); // the leader (the first tab took the lock)
    await postWebhook(server, 'peer:joined', peerJoined(room, 'b')); // while nobody leads
    // The next tab took the lock: its own client connected (the tabs heard it connect again).
    // The next tab took the lock: its own client connected (the tabs heard it connect again).
    await tabs[0]!.waitForFunction(
      (n) => {
        const after = window.harness.states.slice(n);
        return after.includes('connecting') && after.at(-1) === 'connected';
      },
      heard,
      WAIT,
    );
    await postWebhook(server, 'peer:joined', peerJoined(room, 'c'));
    for (const tab of tabs) {
      await tab.waitForFunction((id) => window.harness.rooms[id]!.seqs.length >= 3, room, WAIT);
    }
    await probe(room, tabs);
    for (const tab of tabs) {
      const record = await tab.evaluate((id) => window.harness.rooms[id]!, room);
      assert.deepEqual(
        record.seqs,
        [first, first + 1, first + 2, first + 3],
        'each event once, in order',
      );
      assert.equal(record.resyncs, 0);
    }
    for (let i = 0; i < 50 && sockets() !== 1; i++) await sleep(100);
    assert.equal(sockets(), 1, 'two tabs, one connection');
    for (const tab of tabs) await tab.close();
  });

  test('shareTabs: a follower tab that asks for occupancy gets it over the leading tab’s connection', async () => {
    const room = 'bs-tabs-occupancy';
    const shared = { url: server.url, token: server.token, room, shareTabs: true };
    const leader = (await open()).page;
    await leader.evaluate((o) => window.harness.watch(o), shared);
    await leader.waitForFunction((id) => window.harness.status(id) === 'live', room, WAIT);
    const follower = (await open()).page;
    await follower.evaluate((o) => window.harness.watch(o), { ...shared, occupancy: true });
    // The leader's connection is the room's one subscriber so far.
    const told = (n: number) =>
      follower.waitForFunction(
        ([id, count]) => window.harness.rooms[id]!.occupancy.at(-1) === count,
        [room, n] as const,
        WAIT,
      );
    await told(1);
    // Another page, on its own connection, watches too: the follower hears the new count.
    const outsider = (await open()).page;
    await outsider.evaluate((o) => window.harness.watch(o), { ...shared, shareTabs: false });
    await told(2);
    await outsider.close();
    await told(1);
    const counts = await follower.evaluate((id) => window.harness.rooms[id]!.occupancy, room);
    const changes = counts.filter((count, i) => count !== counts[i - 1]);
    assert.deepEqual(changes, [1, 2, 1], 'each change of the count, in order');
    for (const page of [leader, follower]) await page.close();
  });

  test('shareTabs in a SharedWorker: three tabs, one server connection; any tab closes, the others keep every event', async (t) => {
    // Its own server: the worker's connection is the only one it sees.
    const own = await startServer();
    t.after(() => own.close());
    const room = 'bs-worker';
    const watch = {
      url: own.url,
      token: own.token,
      room,
      shareTabs: { worker: '/share-worker.js' },
    };
    const sockets = () => own.app.websocketServer.clients.size;
    const tabs: Page[] = [];
    for (let i = 0; i < 3; i++) {
      const { page } = await open();
      await page.evaluate((o) => window.harness.watch(o), watch);
      await page.waitForFunction((id) => window.harness.status(id) === 'live', room, WAIT);
      tabs.push(page);
    }
    assert.equal(sockets(), 1, 'three tabs, one connection (the worker’s)');
    assert.equal(await tabs[2]!.evaluate(() => window.harness.client?.state), 'connected');
    const first = (await postWebhook(own, 'peer:joined', peerJoined(room, 'a'))).body.seq as number;
    for (const tab of tabs)
      await tab.waitForFunction((id) => window.harness.rooms[id]!.seqs.length === 1, room, WAIT);
    await tabs.shift()!.close(); // the tab that started the worker
    await postWebhook(own, 'peer:joined', peerJoined(room, 'b'));
    for (const tab of tabs)
      await tab.waitForFunction((id) => window.harness.rooms[id]!.seqs.length === 2, room, WAIT);
    await probe(room, tabs, own);
    for (const tab of tabs) {
      const record = await tab.evaluate((id) => window.harness.rooms[id]!, room);
      assert.deepEqual(record.seqs, [first, first + 1, first + 2], 'each event once, in order');
      assert.deepEqual(record.statuses, ['live:snapshot'], 'never reconnected');
      assert.equal(record.resyncs, 0);
    }
    assert.equal(sockets(), 1, 'still the one connection');
    for (const tab of tabs) await tab.close();
  });

  test('a refused origin ends in failed ORIGIN_NOT_ALLOWED (WebSocket refused, then SSE tells why), with no further attempt', async () => {
    const { page, urls, attempts } = await open();
    const token = await testToken(['*']);
    await page.evaluate((o) => window.harness.watch(o), {
      url: strict.url,
      token,
      room: 'bs-origin',
    });
    const states = await stateIs(page, 'failed');
    assert.deepEqual(states, ['connecting', 'failed:ORIGIN_NOT_ALLOWED']);
    assert.equal(await page.evaluate(() => window.harness.client?.transport), 'sse');
    await noMoreAttempts(attempts);
    assert.equal(attempts(), 2, 'one WebSocket, one stream');
    assert.ok(!urls.some((url) => url.includes(token)), 'the token is in no URL');
    await page.close();
  });
});
