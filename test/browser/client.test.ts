/**
 * @roomcast/client in real Chromium against the real server: live webhooks into room state,
 * a cut connection that reconnects and resumes without gap or duplicate, and the React hooks.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { meetingStarted, peerJoined, peerLeft } from '../helpers/payloads.ts';
import { postWebhook, startServer, testToken } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';
import { chromiumAvailable, launchChromium } from './helpers/chromium.ts';
import type { TestBrowser } from './helpers/chromium.ts';
import { bundleScript, page as htmlPage, startStaticServer } from './helpers/static-server.ts';
import type { StaticServer } from './helpers/static-server.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { parseMetrics } from '../helpers/metrics.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';

const fixtures = new URL('./fixtures/', import.meta.url).pathname;
const WAIT = { timeout: 15_000 };

/** Subscriptions the server holds (its metrics gauge). */
async function subscriptions(server: TestServer): Promise<number | undefined> {
  return parseMetrics(await (await server.get('/metrics')).text()).get('roomcast_subscriptions');
}

/** Posts a webhook and insists it was appended; returns its seq. */
async function send(server: TestServer, event: string, payload: unknown): Promise<number> {
  const answer = await postWebhook(server, event, payload);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.seq as number;
}

describe('browser client in Chromium', { skip: !chromiumAvailable() }, () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let site: StaticServer;
  let browser: TestBrowser;
  const pages: Page[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    const started = Date.now();
    server = await startServer();
    proxy = await startTcpProxy(server.url);
    const [clientJs, reactJs] = await Promise.all([
      bundleScript(`${fixtures}client-page.ts`),
      bundleScript(`${fixtures}react-page.ts`),
    ]);
    site = await startStaticServer({
      '/': htmlPage('/client.js'),
      '/client.js': clientJs,
      '/react': htmlPage('/react.js'),
      '/react.js': reactJs,
    });
    browser = await launchChromium();
    console.log(`setup (server, proxy, bundles, Chromium): ${Date.now() - started} ms`);
  });

  after(async () => {
    await browser?.close();
    await site?.close();
    await proxy?.close();
    await server?.close();
  });

  /** A new tab on `path`; its errors fail the test that opened it. */
  async function open(path: string): Promise<Page> {
    const page = await browser.context.newPage();
    pages.push(page);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`${site.url}${path}`);
    return page;
  }

  // A test that failed before its closePages() leaves its tabs and errors behind: not to the next.
  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
    pageErrors.splice(0);
  });

  /** Closes the test's tabs; fails on page errors other than the `expected` ones. */
  async function closePages(expected?: RegExp) {
    for (const page of pages.splice(0)) await page.close();
    const errors = pageErrors.splice(0).filter((text) => !expected?.test(text));
    assert.deepEqual(errors, [], 'errors in the page');
  }

  test('a bundled client follows a room: webhooks become events and state', async () => {
    const room = 'br-live';
    await send(server, 'meeting:started', meetingStarted(room));
    const page = await open('/');
    const token = await testToken([room]);
    await page.evaluate((options) => window.harness.watch(options), {
      url: server.url,
      token,
      room,
    });
    await page.waitForFunction((id) => window.harness.status(id) === 'live', room, WAIT);
    assert.equal(await page.evaluate(() => window.harness.client?.transport), 'websocket');

    const seqs = [
      await send(server, 'peer:joined', peerJoined(room, 'ada')),
      await send(server, 'peer:joined', peerJoined(room, 'bob')),
      await send(server, 'peer:left', peerLeft(room, 'ada')),
    ];
    await page.waitForFunction((id) => window.harness.rooms[id]!.seqs.length >= 3, room, WAIT);
    const record = await page.evaluate((id) => window.harness.rooms[id]!, room);
    assert.deepEqual(record.seqs, seqs);
    assert.deepEqual(record.events, ['peer:joined', 'peer:joined', 'peer:left']);
    assert.deepEqual(record.statuses, ['live:snapshot']);
    assert.deepEqual(record.errors, []);
    const state = await page.evaluate((id) => window.harness.state(id), room);
    assert.equal(state?.meeting.active, true, 'the snapshot carried meeting:started');
    assert.deepEqual(Object.keys(state?.peers ?? {}), ['bob']);
    assert.ok(state?.departed.ada !== undefined, 'ada left a tombstone');
    await closePages();
  });

  test('a cut connection reconnects and resumes: every seq once, in order, recovered', async () => {
    const room = 'br-cut';
    const page = await open('/');
    const token = await testToken([room]);
    // The page reaches the server only through the proxy.
    await page.evaluate((options) => window.harness.watch(options), {
      url: proxy.url,
      token,
      room,
    });
    await page.waitForFunction((id) => window.harness.status(id) === 'live', room, WAIT);

    const posted: number[] = [];
    const total = 80;
    const posting = (async () => {
      for (let i = 0; i < total; i++) {
        posted.push(
          await send(server, 'peer:joined', peerJoined(room, `p${i}`, 1_790_000_001_000 + i)),
        );
        await sleep(10);
      }
    })();
    await page.waitForFunction((id) => window.harness.rooms[id]!.seqs.length >= 10, room, WAIT);
    const before = proxy.connections.length;
    const cutAt = Date.now();
    proxy.cut(300); // every socket reset; new connections refused for 300 ms
    await page.waitForFunction(
      (id) => window.harness.rooms[id]!.statuses.includes('connecting'),
      room,
      WAIT,
    );
    const noticed = Date.now() - cutAt;
    await page.waitForFunction(
      (id) => window.harness.rooms[id]!.statuses.at(-1)?.startsWith('live'),
      room,
      WAIT,
    );
    const liveAgain = Date.now() - cutAt;
    await posting;
    await page.waitForFunction(
      ([id, n]) => window.harness.rooms[id]!.seqs.length >= n,
      [room, total] as const,
      WAIT,
    );
    // A later event is the probe: a duplicate of an earlier one would arrive before it.
    posted.push(await send(server, 'meeting:started', meetingStarted(room)));
    await page.waitForFunction(
      ([id, seq]) => window.harness.rooms[id]!.seqs.includes(seq),
      [room, posted.at(-1)!] as const,
      WAIT,
    );
    const record = await page.evaluate((id) => window.harness.rooms[id]!, room);
    const firstRetry = (proxy.connections[before] ?? NaN) - cutAt;
    console.log(
      `cut → noticed ${noticed} ms, first reconnect attempt ${firstRetry} ms, ` +
        `live again ${liveAgain} ms; ${proxy.connections.length - before} attempts, ` +
        `${record.replayed} events replayed`,
    );

    assert.deepEqual(record.seqs, posted, 'every seq exactly once, in order');
    assert.deepEqual(
      record.seqs,
      posted.map((_, i) => posted[0]! + i),
      'no gap',
    );
    assert.deepEqual(record.statuses.slice(0, 2), ['live:snapshot', 'connecting']);
    assert.equal(record.statuses.at(-1), 'live:recovered');
    assert.ok(
      !record.statuses.includes('live:snapshot', 1),
      'no snapshot after the reconnect: it resumed',
    );
    assert.equal(record.resyncs, 0);
    assert.ok(record.replayed > 0, 'events posted during the outage were replayed on resume');
    assert.equal(await page.evaluate((id) => window.harness.recovered(id), room), true);
    // Full jitter from 500 ms: the first attempt comes within half a second (plus slack).
    assert.ok(firstRetry <= 1000, `first reconnect attempt after ${firstRetry} ms`);
    const state = await page.evaluate((id) => window.harness.state(id), room);
    assert.equal(Object.keys(state?.peers ?? {}).length, total);
    // Chromium itself logs each connection the outage refused.
    await closePages(/^WebSocket connection to '.*' failed/);
  });

  test('back online: the `online` event reconnects at once instead of waiting out the backoff', async () => {
    const room = 'br-online';
    const page = await open('/');
    await page.evaluate((options) => window.harness.watch(options), {
      url: proxy.url,
      token: await testToken([room]),
      room,
    });
    await page.waitForFunction((id) => window.harness.status(id) === 'live', room, WAIT);
    // The top of every jitter range: attempts 0.5 s, 1 s, 2 s, then 4 s apart.
    await page.evaluate(() => {
      Math.random = () => 1;
    });
    proxy.cut(60_000);
    await sleep(3700); // attempts at ~0.5, ~1.5 and ~3.5 s; the next one is due at ~7.5 s
    proxy.cut(0); // the network is back
    const backOnline = Date.now();
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await page.waitForFunction(
      (id) => window.harness.rooms[id]!.statuses.at(-1)?.startsWith('live'),
      room,
      { timeout: 2500 },
    );
    const tookMs = Date.now() - backOnline;
    assert.ok(tookMs < 2500, `live again ${tookMs} ms after the online event`);
    const seq = await send(server, 'peer:joined', peerJoined(room, 'after-online'));
    await page.waitForFunction(
      ([id, n]) => window.harness.rooms[id]!.seqs.includes(n),
      [room, seq] as const,
      WAIT,
    );
    await closePages(/WebSocket connection to .* failed/);
  });

  test('React: useRoom renders the peers and follows a peer:left', async () => {
    const room = 'br-react';
    await send(server, 'meeting:started', meetingStarted(room));
    await send(server, 'peer:joined', peerJoined(room, 'ada'));
    await send(server, 'peer:joined', peerJoined(room, 'bob'));
    const page = await open('/react');
    const token = await testToken([room]);
    await page.evaluate((options) => window.reactApp.mount(options), {
      url: server.url,
      token,
      room,
    });
    const peers = () => page.locator('#peers li').allTextContents();
    const peersAre = (names: string[]) =>
      page.waitForFunction(
        (expected) =>
          [...document.querySelectorAll('#peers li')].map((li) => li.textContent).join(',') ===
          expected,
        names.join(','),
        WAIT,
      );

    await peersAre(['ada', 'bob']); // from the snapshot
    await page.waitForSelector('#presence[data-status="live"]', WAIT);
    await send(server, 'peer:joined', peerJoined(room, 'cy'));
    await peersAre(['ada', 'bob', 'cy']);
    const leftSeq = await send(server, 'peer:left', peerLeft(room, 'bob'));
    await peersAre(['ada', 'cy']);
    assert.deepEqual(await peers(), ['ada', 'cy']);
    assert.equal(await page.textContent('#toast'), 'bob left', 'useRoomEvent(peer:left)');
    assert.equal(await page.textContent('#last'), 'peer:left', 'lastEvent');
    assert.equal(await page.getAttribute('#presence', 'data-stable'), 'true');
    const handled = await page.evaluate(() => window.reactApp.handled);
    assert.deepEqual(handled, [leftSeq - 1, leftSeq], 'useRoomEvent(*) saw each event once');

    assert.equal(await page.getAttribute('#presence', 'data-connection'), 'connected');
    // Strict Mode mounted everything twice: still one subscription on the server (the earlier
    // tests' tabs are closed; their sockets may take a moment to go).
    for (let i = 0; i < 50 && (await subscriptions(server)) !== 1; i++) await sleep(100);
    assert.equal(await subscriptions(server), 1);

    // Unmounted, the hooks let go of the room: the client drops it and the server with it.
    await page.evaluate(() => window.reactApp.unmount());
    await page.waitForFunction((id) => window.reactApp.client?.get(id) === undefined, room, WAIT);
    await send(server, 'peer:joined', peerJoined(room, 'dee'));
    // Idle, the client has closed its link and the server let go: nothing can come after that.
    await page.waitForFunction(() => window.reactApp.client?.state === 'idle', null, WAIT);
    await until(async () => (await subscriptions(server)) === 0, {
      timeoutMs: 5000,
      what: 'the server to let go of the subscription',
    });
    assert.deepEqual(await page.evaluate(() => window.reactApp.handled), handled);
    assert.equal(await page.locator('#presence').count(), 0);
    assert.equal(await subscriptions(server), 0, 'the server holds no subscription');
    assert.equal(await page.evaluate(() => window.reactApp.client?.state), 'idle');
    await closePages();
  });
});
