/**
 * Finds and launches the system Chromium for browser tests (playwright-core brings no browser).
 * A missing Chromium fails under CI=true and is skipped, loudly, anywhere else.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';

/** The Chromium binary: `CHROMIUM_BIN`, else /usr/bin/chromium. */
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Flags that keep a test browser quiet: no GPU, no background traffic, no first-run UI. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * Whether browser tests can run. Without Chromium: throws under CI=true (a CI that cannot run
 * them must not pass silently), else warns loudly and returns false so the suite is skipped.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_BIN)) return true;
  const message = `Chromium not found at ${CHROMIUM_BIN} (install it or set CHROMIUM_BIN)`;
  if (process.env.CI === 'true') throw new Error(`${message}: browser tests are required on CI`);
  console.warn(`\n${'!'.repeat(72)}\n!!! SKIPPING BROWSER TESTS: ${message}\n${'!'.repeat(72)}\n`);
  return false;
}

/** A running browser with its own fresh profile. */
export interface TestBrowser {
  context: BrowserContext;
  /** Closes the browser and removes its profile directory. */
  close(): Promise<void>;
}

/** Launches headless Chromium on a fresh user-data dir. */
export async function launchChromium(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'roomcast-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: ARGS,
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
