/**
 * `npm run screenshots`: the moderator console with a realistic scene, captured in real
 * Chromium at desktop (1280×800) and phone (390×844) sizes into docs/console-desktop.png and
 * docs/console-phone.png (shown in the README).
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { postWebhook, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { launchChromium } from './helpers/chromium.ts';
import { consoleScene, lateJoiner, SCENE_ROOM } from './fixtures/console-scene.ts';
import type { SceneWebhook } from './fixtures/console-scene.ts';

const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
const WAIT = { timeout: 20_000 };

async function post(server: TestServer, hooks: SceneWebhook[]) {
  for (const { event, payload } of hooks) {
    const answer = await postWebhook(server, event, payload);
    if (answer.status !== 200)
      throw new Error(`${event}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
}

/** Opens the console on the main room, plays the scene, waits for it to show. */
async function stage(page: Page, server: TestServer) {
  await page.goto(`${server.url}/#token=${server.token}&room=${SCENE_ROOM}`);
  await page.waitForSelector(`#room-view[data-room="${SCENE_ROOM}"][data-status="live"]`, WAIT);
  await post(server, consoleScene());
  await page.waitForSelector(`#peer-list [data-peer="p-dr-6"]`, WAIT);
  await page.waitForSelector(`#room-list [data-room="support-desk"]`, WAIT);
  // Off and on again clears the scene's own join toasts: one fresh toast in the picture.
  await page.click('#toast-switch');
  await page.click('#toast-switch');
  await post(server, [lateJoiner()]);
  await page.waitForSelector('.toast', WAIT);
  // Ticking clocks and the toast animation settle.
  await page.waitForTimeout(400);
}

const server = await startServer();
const browser = await launchChromium();
try {
  const desktop = await browser.context.newPage();
  await desktop.setViewportSize({ width: 1280, height: 800 });
  await stage(desktop, server);
  await desktop.screenshot({ path: `${docs}console-desktop.png` });
  await desktop.close();

  // The phone opens the same room (the scene is already there: a fresh server keeps it).
  const phone = await browser.context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(`${server.url}/#token=${server.token}&room=${SCENE_ROOM}`);
  await phone.waitForSelector(`#peer-list [data-peer="p-dr-7"]`, WAIT);
  await phone.waitForTimeout(400);
  await phone.screenshot({ path: `${docs}console-phone.png` });
  await phone.close();
  console.log('wrote docs/console-desktop.png and docs/console-phone.png');
} finally {
  await browser.close();
  await server.close();
}
