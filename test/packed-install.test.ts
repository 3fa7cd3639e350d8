/**
 * roomcast as a stranger installs it: `npm pack --workspaces` makes the three tarballs, a fresh
 * project outside the workspace installs them (third-party packages from the registry, no
 * workspace links) and then:
 * (a) a plain-JS fastify app (test/fixtures/packed-app/app.mjs) registers the plugin under a
 *     prefix and runs under plain `node`: a signed webhook reaches a WebSocket subscriber, and a
 *     page in Chromium that imports the client's one-file build with no bundler sees it too;
 * (b) a strict TS consumer of `@roomcast/client`, `/react` and `@roomcast/server` type-checks
 *     with moduleResolution bundler and nodenext, skipLibCheck off;
 * (c) the client bundles for the browser with esbuild (no zod, no React, nothing from Node);
 * (d) `npx --no-install roomcast --help` runs, and `roomcast serve` serves the prebuilt console
 *     with neither tsx nor esbuild installed;
 * (e) publint and @arethetypeswrong/cli report nothing for any tarball.
 * One fastify: the host app's own copy is the only one installed.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import WebSocket from 'ws';
import { peerJoined } from './helpers/payloads.ts';
import { postWebhook } from './helpers/server.ts';
import { chromiumAvailable, launchChromium } from './browser/helpers/chromium.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/packed-app/', import.meta.url));
const BIN = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const KEY = 'packed-install-key-0123456789';
const SECRET = 'packed-install-secret-0123456789-abcdefgh';

/** The repo's pinned versions of what the scratch app installs beside the tarballs. */
function pinned(name: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const version = pkg.devDependencies[name];
  assert.ok(version, `${name} is not a pinned dev dependency`);
  return `${name}@${version}`;
}

let dir: string;
let app: string;
let tarballs: string[];

/**
 * npm and the builds it runs are not roomcast's code: they run without the coverage collector
 * (under CI=true, c8 sets NODE_V8_COVERAGE for every child), which only slows them down.
 */
const { NODE_V8_COVERAGE: _coverage, ...npmEnv } = process.env;

// Packing builds three packages and installs a fresh app: minutes on a loaded machine, so this
// hook gets a budget of its own rather than the runner's 180 s per test.
before(
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'roomcast-packed-'));
    const packs = join(dir, 'packs');
    mkdirSync(packs);
    // prepack builds each package (shared first: the workspaces are listed in build order).
    await run('npm', ['pack', '--workspaces', '--pack-destination', packs], {
      cwd: ROOT,
      env: npmEnv,
      maxBuffer: 64 << 20,
    });
    tarballs = readdirSync(packs).map((name) => join(packs, name));
    assert.equal(tarballs.length, 3, `three tarballs: ${tarballs.join(', ')}`);

    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'stranger-app', private: true, type: 'module' }),
    );
    for (const file of ['app.mjs', 'consumer.ts', 'browser-entry.js']) {
      copyFileSync(join(FIXTURE, file), join(app, file));
    }
    const { stderr } = await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        ...tarballs,
        pinned('fastify'),
        pinned('react'),
        pinned('@types/node'),
        pinned('@types/react'),
      ],
      { cwd: app, env: npmEnv, maxBuffer: 64 << 20 },
    );
    assert.doesNotMatch(stderr, /ERESOLVE|peer dep/i, stderr);
  },
  { timeout: 420_000 },
);

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('packed tarballs in a fresh app', () => {
  test('installed from the tarballs, with one fastify and no build tools', () => {
    const modules = join(app, 'node_modules');
    for (const name of ['shared', 'client', 'server']) {
      assert.ok(existsSync(join(modules, '@roomcast', name, 'dist', 'index.js')), name);
      assert.ok(!existsSync(join(modules, '@roomcast', name, 'node_modules', 'fastify')));
    }
    assert.ok(!existsSync(join(modules, '@roomcast', 'server', 'node_modules', 'fastify')));
    assert.ok(!existsSync(join(modules, 'tsx')), 'tsx is no runtime dependency');
    assert.ok(!existsSync(join(modules, 'esbuild')), 'esbuild is no runtime dependency');
    const client = JSON.parse(
      readFileSync(join(modules, '@roomcast', 'client', 'package.json'), 'utf8'),
    ) as { dependencies?: Record<string, string> };
    assert.deepEqual(Object.keys(client.dependencies ?? {}), ['@roomcast/shared']);
  });

  test('(a) a plain-JS fastify app serves a webhook to a WebSocket and a no-bundler page', async (t) => {
    const child = spawn(process.execPath, ['app.mjs'], {
      cwd: app,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        HUDDLE01_API_KEY: KEY,
        ROOMCAST_TOKEN_SECRET: SECRET,
      },
    });
    t.after(() => stop(child));
    const base = await listening(child);

    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'grace' }),
    });
    const { token } = (await login.json()) as { token: string };
    const socket = new WebSocket(`${base.replace('http', 'ws')}/realtime/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    t.after(() => socket.terminate());
    const frames: { type: string; event?: string; payload?: { id: string } }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'subscribe', room: 'demo' }));
    await until(() => frames.some((frame) => frame.type === 'snapshot'));

    await postJoin(base, 'peer-ws');
    await until(() => frames.some((frame) => frame.event === 'peer:joined'));
    assert.equal(frames.find((frame) => frame.event === 'peer:joined')?.payload?.id, 'peer-ws');

    if (!chromiumAvailable()) return;
    const browser = await launchChromium();
    t.after(() => browser.close());
    const page = await browser.context.newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-status="live"]', { state: 'attached', timeout: 15_000 });
    await postJoin(base, 'peer-page');
    await page.waitForFunction(
      () => (window as unknown as { joined?: string[] }).joined?.includes('peer-page'),
      undefined,
      { timeout: 15_000 },
    );
  });

  for (const resolution of ['bundler', 'nodenext'] as const) {
    test(`(b) a strict TS consumer type-checks (moduleResolution ${resolution})`, async () => {
      const config = {
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          target: 'ES2022',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          module: resolution === 'bundler' ? 'ESNext' : 'NodeNext',
          moduleResolution: resolution,
          types: ['node'],
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
        },
        files: ['consumer.ts'],
      };
      const file = `tsconfig.${resolution}.json`;
      writeFileSync(join(app, file), JSON.stringify(config));
      const result = await run(BIN('tsc'), ['-p', file], { cwd: app }).catch(
        (error: { stdout: string; stderr: string }) => error,
      );
      assert.equal(result.stdout + result.stderr, '', 'tsc reports nothing');
    });
  }

  test('(c) the client bundles for the browser with esbuild, without zod or React', async () => {
    const result = await build({
      absWorkingDir: app,
      entryPoints: ['browser-entry.js'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((input) => input.includes('node_modules/@roomcast/client/dist/')));
    assert.ok(!inputs.some((input) => /node_modules\/(zod|react)\//.test(input)), inputs.join());
  });

  test('(d) the installed bin: --help, and serve with the prebuilt console', async (t) => {
    const help = await run('npx', ['--no-install', 'roomcast', '--help'], { cwd: app });
    assert.match(help.stdout, /Usage: roomcast <command>/);

    // The installed bin itself (npx would stand between the signal and node).
    const child = spawn(join(app, 'node_modules', '.bin', 'roomcast'), ['serve'], {
      cwd: app,
      env: { ...process.env, PORT: '0', ROOMCAST_DEV_SECRETS_FILE: 'off', LOG_LEVEL: 'warn' },
    });
    t.after(() => stop(child));
    const base = await listening(child, /roomcast is listening on (http:\/\/\S+)/);
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const script = /src="(console\/main-[\w-]+\.js)"/.exec(html)?.[1];
    assert.ok(script, html);
    const asset = await fetch(`${base}/${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  });

  test("(d) the repo's production start: node server/dist/main.js, no tsx", async (t) => {
    // `npm pack` above built dist/; plain node, no loader, so only built JavaScript can run.
    const child = spawn(process.execPath, [join(ROOT, 'server', 'dist', 'main.js')], {
      cwd: app,
      env: { ...process.env, NODE_OPTIONS: '', PORT: '0', ROOMCAST_DEV_SECRETS_FILE: 'off' },
    });
    t.after(() => stop(child));
    const base = await listening(child, /roomcast is listening on (http:\/\/\S+)/);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/`)).status, 200, 'the prebuilt console');
  });

  test('(e) publint and arethetypeswrong report nothing', async () => {
    for (const tarball of tarballs) {
      const lint = await run(BIN('publint'), ['run', tarball]);
      assert.match(lint.stdout, /All good!/, `${tarball}: ${lint.stdout}`);
      // ESM-only packages: the CommonJS resolutions are out of scope by design.
      await run(BIN('attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii']).catch(
        (error: { stdout: string }) => assert.fail(`${tarball}: ${error.stdout}`),
      );
    }
  });
});

/** Waits for a child's "listening" line and returns its base URL. */
function listening(child: ChildProcess, pattern = /listening (http:\/\/\S+)/): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = pattern.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function postJoin(base: string, peerId: string): Promise<void> {
  const answer = await postWebhook(
    { url: `${base}/realtime` },
    'peer:joined',
    peerJoined('demo', peerId),
    { key: KEY },
  );
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
