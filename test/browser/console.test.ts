/**
 * The moderator console in real Chromium against the real server: the token (fragment, form,
 * refusals), live rooms and peers from webhooks fired over HTTP, the event log and its filter,
 * toasts and their mute switch, recovery after a server restart on the same port, keyboard
 * use, accessibility (axe-core) at phone and desktop widths in both colour schemes, and not a
 * single request to another host.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import axe from 'axe-core';
import type { Page } from 'playwright-core';
import { meetingStarted, peerJoined, peerLeft, track } from '../helpers/payloads.ts';
import { postWebhook, startServer, testToken } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { chromiumAvailable, launchChromium } from './helpers/chromium.ts';
import type { TestBrowser } from './helpers/chromium.ts';
import { consoleScene, SCENE_ROOM } from './fixtures/console-scene.ts';

const WAIT = { timeout: 20_000 };

/** Posts a webhook and insists it was appended. */
async function send(server: Pick<TestServer, 'url'>, event: string, payload: unknown) {
  const answer = await postWebhook(server, event, payload);
  assert.equal(answer.status, 200, `${event}: ${JSON.stringify(answer.body)}`);
}

/** A peer:joined payload with a display name in its metadata (timestamps near now). */
function namedJoin(roomId: string, id: string, name: string, extra = {}) {
  return peerJoined(roomId, id, Date.now(), `s-${roomId}`, {
    metadata: JSON.stringify({ displayName: name }),
    role: 'speaker',
    ...extra,
  });
}

const peerRow = (id: string) => `#peer-list [data-peer="${id}"]`;
const GRACE = 2000;

describe('moderator console in Chromium', { skip: !chromiumAvailable() }, () => {
  let server: TestServer;
  let browser: TestBrowser;
  const pages: Page[] = [];
  const pageErrors: string[] = [];
  const foreign: string[] = [];

  before(async () => {
    // A short presence grace, so a departed peer's "reconnecting" row goes in a test's time.
    server = await startServer({ presenceGrace: GRACE });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
    assert.deepEqual(foreign.splice(0), [], 'requests to another host');
    assert.deepEqual(pageErrors.splice(0), [], 'errors in the page');
  });

  /** A new tab (with a viewport) that records errors and every request leaving for elsewhere. */
  async function newPage(width = 1280, height = 800): Promise<Page> {
    const page = await browser.context.newPage();
    pages.push(page);
    await page.setViewportSize({ width, height });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // A dropped connection during the restart test logs network errors: those are expected.
      if (
        message.type() === 'error' &&
        !/ERR_CONNECTION|WebSocket|Failed to load/.test(message.text())
      ) {
        pageErrors.push(message.text());
      }
    });
    page.on('request', (request) => {
      const { host } = new URL(request.url());
      if (host !== new URL(server.url).host) foreign.push(request.url());
    });
    return page;
  }

  /** Opens the console signed in (token in the fragment), optionally on a room. */
  async function openConsole(page: Page, room?: string, token = server.token) {
    await page.goto(`${server.url}/#token=${token}${room ? `&room=${room}` : ''}`);
    await page.waitForSelector('#console-view:not([hidden])', WAIT);
  }

  test('#token is taken into sessionStorage and removed from the address bar', async () => {
    const page = await newPage();
    await openConsole(page, 'tok-room');
    assert.equal(new URL(page.url()).hash, '#room=tok-room', 'the token is gone, the room kept');
    assert.equal(
      await page.evaluate(() => sessionStorage.getItem('roomcast.console.token')),
      server.token,
    );
    assert.ok(!page.url().includes(server.token), 'not in the address bar');
    await page.reload();
    await page.waitForSelector('#console-view:not([hidden])', WAIT);
    assert.equal(await page.isHidden('#token-view'), true, 'still signed in after a reload');
  });

  test('the token form: asks when there is none, explains a refusal, opens with a good one', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#token-view:not([hidden])', WAIT);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'token-input');

    await page.fill('#token-input', 'not-a-token');
    await page.press('#token-input', 'Enter');
    await page.waitForSelector('#token-error:not([hidden])', WAIT);
    assert.match((await page.textContent('#token-error')) ?? '', /refused this token/);

    const roomToken = await testToken(['one-room']);
    await page.fill('#token-input', roomToken);
    await page.click('#token-form button[type=submit]');
    await page.waitForFunction(
      () => /every room/.test(document.getElementById('token-error')?.textContent ?? ''),
      undefined,
      WAIT,
    );

    const expired = await testToken(['*'], -60);
    await page.fill('#token-input', expired);
    await page.click('#token-form button[type=submit]');
    await page.waitForFunction(
      () => /expired/.test(document.getElementById('token-error')?.textContent ?? ''),
      undefined,
      WAIT,
    );

    await page.fill('#token-input', server.token);
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#console-view:not([hidden])', WAIT);
    await page.click('#sign-out');
    await page.waitForSelector('#token-view:not([hidden])', WAIT);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('roomcast.console.token')), null);
  });

  test('live: a room appears, a peer by display name with its tracks, gone on peer:left; the log lists it all', async () => {
    const room = 'live-room';
    const page = await newPage();
    await openConsole(page);

    await send(server, 'meeting:started', meetingStarted(room, `s-${room}`, Date.now() - 60_000));
    const item = `#room-list [data-room="${room}"]`;
    await page.waitForSelector(item, WAIT);
    await page.click(item);
    await page.waitForSelector(`#room-view[data-room="${room}"][data-status="live"]`, WAIT);
    // The console's own subscription is one of the room's watchers (GET /rooms, polled).
    await page.waitForSelector(`${item} .room-watching >> text=/[1-9]\\d* watching/`, WAIT);
    await send(
      server,
      'peer:joined',
      namedJoin(room, 'ada', 'Ada Lovelace', { geoData: { region: 'Europe', country: 'GB' } }),
    );
    await page.waitForSelector(`${peerRow('ada')} >> text=Ada Lovelace`, WAIT);
    const row = await page.textContent(peerRow('ada'));
    assert.match(row ?? '', /speaker/);
    assert.match(row ?? '', /United Kingdom/);
    assert.match(row ?? '', /Chrome/);

    await send(server, 'peer:trackPublished', track('ada', 'audio'));
    await send(server, 'peer:trackPublished', track('ada', 'video'));
    await send(server, 'peer:trackPublished', track('ada', 'screen-share-video'));
    await page.waitForSelector(`${peerRow('ada')} [data-track="screen-share-video"]`, WAIT);
    const icons = await page.$$eval(`${peerRow('ada')} .track`, (elements) =>
      elements.map((element) => element.getAttribute('aria-label')),
    );
    assert.deepEqual(icons.sort(), ['camera', 'microphone', 'screen share']);
    await send(server, 'peer:trackUnpublished', track('ada', 'video'));
    await page.waitForSelector(`${peerRow('ada')} [data-track="video"]`, {
      ...WAIT,
      state: 'detached',
    });

    await send(server, 'peer:left', peerLeft(room, 'ada', Date.now() + 1000, `s-${room}`));
    // Within the presence grace the row stays, marked; then it goes, with no further event.
    await page.waitForSelector(`${peerRow('ada')}.peer-reconnecting >> text=reconnecting…`, WAIT);
    await page.waitForSelector(peerRow('ada'), { ...WAIT, state: 'detached' });
    await page.waitForSelector(`${item}[data-peers="0"]`, WAIT);

    const log = await page.$$eval('#event-log .log-entry', (entries) =>
      entries.map(
        (entry) =>
          `${entry.getAttribute('data-kind')} ${entry.querySelector('.log-text')?.textContent}`,
      ),
    );
    assert.deepEqual(log, [
      'peer:left Ada Lovelace left after 4 s',
      'peer:trackUnpublished Ada Lovelace turned off camera',
      'peer:trackPublished Ada Lovelace turned on screen share',
      'peer:trackPublished Ada Lovelace turned on camera',
      'peer:trackPublished Ada Lovelace turned on microphone',
      'peer:joined Ada Lovelace joined as speaker',
      // Sent before the console opened: the log opens with the room's history.
      'meeting:started Meeting started',
    ]);

    await page.selectOption('#log-filter', 'peer:trackPublished');
    const filtered = await page.$$eval('#event-log .log-entry', (entries) =>
      entries.map((entry) => entry.getAttribute('data-kind')),
    );
    assert.ok(
      filtered.length >= 2 && filtered.every((kind) => kind === 'peer:trackPublished'),
      filtered.join(),
    );
  });

  test('the room list is pushed over the rooms feed: no GET /rooms while the feed is live', async () => {
    const page = await newPage();
    const listReads: string[] = [];
    const feedFrames: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/rooms') listReads.push(request.url());
    });
    page.on('websocket', (socket) =>
      socket.on('framesent', ({ payload }) => feedFrames.push(String(payload))),
    );
    await openConsole(page);
    await send(server, 'meeting:started', meetingStarted('feed-one', 's-feed-one', Date.now()));
    await page.waitForSelector('#room-list [data-room="feed-one"]', WAIT);
    await send(server, 'meeting:started', meetingStarted('feed-two', 's-feed-two', Date.now()));
    await send(server, 'peer:joined', namedJoin('feed-two', 'eve', 'Eve'));
    await page.waitForSelector('#room-list [data-room="feed-two"][data-peers="1"]', WAIT);
    assert.ok(
      feedFrames.some((frame) => JSON.parse(frame).type === 'rooms'),
      'the console asked for the rooms feed',
    );
    assert.deepEqual(listReads, [], 'the list came over the feed, not from polling');
  });

  test('toasts on peer:joined, announced politely; the mute switch silences them and is remembered', async () => {
    const room = 'toast-room';
    const page = await newPage();
    await openConsole(page, room);
    await page.waitForSelector(`#room-view[data-status="live"]`, WAIT);
    assert.equal(await page.getAttribute('#toasts', 'aria-live'), 'polite');

    await send(server, 'peer:joined', namedJoin(room, 'grace', 'Grace Hopper'));
    await page.waitForSelector('.toast >> text=Grace Hopper joined', WAIT);
    // A blip (left and back within the grace) is logged, but toasts nothing.
    await page.evaluate(() => {
      const seen = Object.assign(window, { toastsAdded: 0 });
      new MutationObserver((changes) => {
        for (const change of changes) seen.toastsAdded += change.addedNodes.length;
      }).observe(document.getElementById('toasts')!, { childList: true });
    });
    const leftAt = Date.now();
    await send(server, 'peer:left', peerLeft(room, 'grace', leftAt, `s-${room}`));
    await page.waitForSelector(`${peerRow('grace')}.peer-reconnecting`, WAIT);
    await send(server, 'peer:joined', {
      ...namedJoin(room, 'grace', 'Grace Hopper'),
      joinedAt: leftAt + 500,
    });
    await page.waitForSelector(`${peerRow('grace')}:not(.peer-reconnecting)`, WAIT);
    await page.waitForFunction(
      () => document.querySelectorAll('#event-log .log-entry[data-kind="peer:joined"]').length >= 2,
      null,
      WAIT,
    );
    const added = await page.evaluate(
      () => (window as unknown as { toastsAdded: number }).toastsAdded,
    );
    assert.equal(added, 0, 'no toast for the blip');

    await page.click('#toast-switch');
    assert.equal(await page.getAttribute('#toast-switch', 'aria-checked'), 'false');
    await send(server, 'peer:joined', namedJoin(room, 'linus', 'Linus Berg'));
    await page.waitForSelector(peerRow('linus'), WAIT);
    assert.equal(await page.locator('.toast').count(), 0, 'muted: no toast');

    await page.reload();
    await page.waitForSelector('#console-view:not([hidden])', WAIT);
    assert.equal(await page.getAttribute('#toast-switch', 'aria-checked'), 'false', 'remembered');
    await page.click('#toast-switch');
  });

  test('keyboard: Tab reaches the rooms, arrows move, Enter opens one; focus is visible', async () => {
    await send(server, 'meeting:started', meetingStarted('kb-one', 's-kb-one', Date.now()));
    await send(server, 'meeting:started', meetingStarted('kb-two', 's-kb-two', Date.now()));
    const page = await newPage();
    await openConsole(page);
    await page.waitForSelector('#room-list [data-room="kb-one"]', WAIT);
    await page.focus('#room-search');
    await page.fill('#room-search', 'kb-');
    await page.waitForFunction(
      () => document.querySelectorAll('#room-list li').length === 2,
      undefined,
      WAIT,
    );
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.getAttribute('data-room'));
    assert.ok(first === 'kb-one' || first === 'kb-two', `focus on a room: ${first}`);
    const outline = await page.evaluate(
      () => getComputedStyle(document.activeElement!).outlineStyle,
    );
    assert.equal(outline, 'solid', 'visible focus');
    await page.keyboard.press('ArrowDown');
    const second = await page.evaluate(() => document.activeElement?.getAttribute('data-room'));
    assert.notEqual(second, first);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`#room-view[data-room="${second}"]`, WAIT);
    assert.equal(
      await page.getAttribute(`#room-list [data-room="${second}"]`, 'aria-current'),
      'true',
    );
  });

  test('axe-core finds no violations: desktop and phone, light and dark, form and console', async () => {
    for (const { event, payload } of consoleScene()) await send(server, event, payload);
    const checks: string[] = [];
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ] as const) {
      for (const colorScheme of ['light', 'dark'] as const) {
        const page = await newPage(width, height);
        await page.emulateMedia({ colorScheme });
        await page.goto(`${server.url}/`);
        await page.waitForSelector('#token-view:not([hidden])', WAIT);
        checks.push(...(await axeViolations(page, `form ${width} ${colorScheme}`)));
        await openConsole(page, SCENE_ROOM);
        await page.waitForSelector(peerRow('p-dr-6'), WAIT);
        checks.push(...(await axeViolations(page, `room ${width} ${colorScheme}`)));
        if (width < 500) {
          await page.click('.room-head .back');
          await page.waitForSelector('#rooms-panel', { state: 'visible' });
          checks.push(...(await axeViolations(page, `list ${width} ${colorScheme}`)));
        }
      }
    }
    assert.deepEqual(checks, []);
  });

  test('a server restart on the same port: the page recovers by itself, resyncs, shows new events', async () => {
    const room = 'restart-room';
    const port = Number(new URL(server.url).port);
    await send(server, 'meeting:started', meetingStarted(room, `s-${room}`, Date.now()));
    await send(server, 'peer:joined', namedJoin(room, 'ken', 'Ken Thompson'));
    const page = await newPage();
    await openConsole(page, room);
    await page.waitForSelector(peerRow('ken'), WAIT);
    await page.waitForSelector('#conn[data-status="live"]', WAIT);

    await server.close();
    await page.waitForSelector('#conn:not([data-status="live"])', WAIT);
    // A new process's memory engine: a new epoch, so the page must resync from a snapshot.
    server = await startServer({ port });
    await page.waitForSelector('#conn[data-status="live"]', { timeout: 60_000 });
    await page.waitForSelector('#resync-note:not([hidden])', WAIT);
    assert.match((await page.textContent('#resync-note')) ?? '', /Resynced at/);

    await send(server, 'meeting:started', meetingStarted(room, `s2-${room}`, Date.now()));
    await send(
      server,
      'peer:joined',
      namedJoin(room, 'dennis', 'Dennis Ritchie', { sessionId: `s2-${room}` }),
    );
    await page.waitForSelector(`${peerRow('dennis')} >> text=Dennis Ritchie`, WAIT);
    await page.waitForSelector('#event-log .log-entry >> text=Dennis Ritchie joined', WAIT);
    await page.waitForSelector(`#room-list [data-room="${room}"]`, WAIT);
  });
});

/** Runs axe-core (WCAG 2.1 A/AA and best practices) in the page; one line per violation. */
async function axeViolations(page: Page, label: string): Promise<string[]> {
  await page.evaluate(axe.source);
  const results = await page.evaluate(() =>
    window.axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      },
    }),
  );
  return results.violations.map(
    (violation) =>
      `${label}: ${violation.id} (${violation.impact}) ${violation.nodes
        .slice(0, 3)
        .map((node) => node.target.join(' '))
        .join(', ')}`,
  );
}

declare global {
  interface Window {
    axe: typeof axe;
  }
}
