/**
 * The moderator console's routes over HTTP: the page and its hashed assets, cache headers, the
 * strict CSP, the on/off option, and a prefixed mount (the page in Chromium: test/browser).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import roomcast from '../server/src/index.ts';
import { configFromEnv } from '../server/src/config.ts';
import { buildConsoleAssets } from '../server/src/console/console-assets.ts';
import { startServer, TEST_KEY, TEST_SECRET } from './helpers/server.ts';

/** The asset URLs the page names (relative to it). */
function assetsOf(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(console\/[^"]+)"/g)].map((match) => match[1]!);
}

describe('moderator console sources', () => {
  test('import nothing of the server: only each other and the @roomcast packages', () => {
    const dir = new URL('../server/console/src/', import.meta.url);
    const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));
    assert.ok(files.includes('main.ts'));
    for (const name of files) {
      const source = readFileSync(new URL(name, dir), 'utf8');
      for (const [, specifier] of source.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)) {
        assert.match(
          specifier!,
          /^(\.\/[\w.-]+|@roomcast\/(shared|client)(\/[\w-]+)?)$/,
          `${name} imports ${specifier}`,
        );
      }
    }
  });
});

describe('moderator console routes', () => {
  test('GET / serves the page (no-cache, strict CSP) and its hashed assets (immutable)', async () => {
    const server = await startServer();
    try {
      const page = await fetch(`${server.url}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(page.headers.get('cache-control'), 'no-cache');
      const csp = page.headers.get('content-security-policy') ?? '';
      for (const directive of [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
      ]) {
        assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
      }
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
      const html = await page.text();
      assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, 'no inline script');
      assert.doesNotMatch(html, /https?:\/\//, 'no outside URL in the page');

      const assets = assetsOf(html);
      assert.deepEqual(assets.map((path) => path.replace(/-[A-Za-z0-9]{8,}\./, '-HASH.')).sort(), [
        'console/favicon-HASH.svg',
        'console/favicon-HASH.svg',
        'console/main-HASH.css',
        'console/main-HASH.js',
      ]);
      for (const path of new Set(assets)) {
        const asset = await fetch(`${server.url}/${path}`);
        assert.equal(asset.status, 200, path);
        assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
        const body = await asset.text();
        assert.ok(body.length > 0);
        if (path.endsWith('.js')) {
          assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
          assert.doesNotMatch(body, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no outside host');
        }
      }
      const missing = await fetch(`${server.url}/console/main-0000000000.js`);
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
    } finally {
      await server.close();
    }
  });

  test('two builds of the same sources give the same names and bytes (nodes behind one balancer)', async () => {
    const [a, b] = [await buildConsoleAssets(), await buildConsoleAssets()];
    assert.deepEqual([...a.files.keys()].sort(), [...b.files.keys()].sort());
    for (const [name, asset] of a.files)
      assert.ok(asset.body.equals(b.files.get(name)!.body), name);
    assert.ok(a.html.equals(b.html));
  });

  test('console: false (ROOMCAST_CONSOLE=false) serves no page and no assets', async () => {
    assert.equal(configFromEnv({ ROOMCAST_CONSOLE: 'false' }).console, false);
    assert.equal(configFromEnv({}).console, true);
    const server = await startServer({ console: false });
    try {
      assert.equal((await fetch(`${server.url}/`)).status, 404);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'other routes stay');
    } finally {
      await server.close();
    }
  });

  test('under a prefix: /realtime redirects to /realtime/, whose relative assets load', async () => {
    const app = Fastify();
    app.get('/', async () => 'the host app keeps its own home page');
    await app.register(roomcast, {
      prefix: '/realtime',
      huddle01ApiKey: TEST_KEY,
      tokenSecret: TEST_SECRET,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const base = `http://127.0.0.1:${port}`;
    try {
      assert.equal(await (await fetch(`${base}/`)).text(), 'the host app keeps its own home page');
      const bare = await fetch(`${base}/realtime?x=1`, { redirect: 'manual' });
      assert.equal(bare.status, 308);
      assert.equal(bare.headers.get('location'), '/realtime/?x=1');
      const page = await fetch(`${base}/realtime/`);
      assert.equal(page.status, 200);
      for (const path of assetsOf(await page.text())) {
        assert.equal((await fetch(`${base}/realtime/${path}`)).status, 200, path);
      }
    } finally {
      await app.close();
    }
  });
});
