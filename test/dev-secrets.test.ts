/**
 * The quick start survives restarts: a dev server keeps the secrets it generated in
 * `.roomcast/dev-secrets.json` under its working directory, a restart reads them back (the
 * moderator token it printed still works), and the CLI run from the same folder signs with them
 * without `--key`. `.env` in that folder is read by the server and the CLI alike.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';

const BIN = fileURLToPath(new URL('../server/bin/roomcast.js', import.meta.url));

/** The environment of a person's terminal: no roomcast secrets, dev secrets file on. */
function devEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
  for (const name of [
    'ROOMCAST_DEV_SECRETS_FILE',
    'HUDDLE01_API_KEY',
    'ROOMCAST_TOKEN_SECRET',
    'ROOMCAST_TOKEN',
    'ROOMCAST_URL',
  ]) {
    delete env[name];
  }
  return { ...env, ...extra };
}

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-dev-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `roomcast serve` in `cwd` and resolves with its banner once it is complete. */
async function serve(t: TestContext, cwd: string, env = devEnv()) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'serve'], {
    cwd,
    env: { ...env, PORT: '0' },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let stdout = '';
  const banner = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (/curl -N .*\n/.test(stdout)) resolve(stdout);
    });
    child.once('exit', () => reject(new Error(`serve exited: ${stdout}`)));
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  const send = /npx roomcast (send .*)/.exec(banner)?.[1]?.trim().split(/\s+/) ?? [];
  const token = /moderator token \(every room, 24 h\): (\S+)/.exec(banner)?.[1] ?? '';
  const base = /listening on (http:\/\/\S+)/.exec(banner)?.[1] ?? '';
  return { banner, send, token, base, stop };
}

function run(args: string[], cwd: string, env = devEnv()) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('dev secrets', () => {
  test('generated once, kept git-ignored, restored after a restart for server and CLI', async (t) => {
    const cwd = scratch(t);
    const first = await serve(t, cwd);
    assert.match(first.banner, /HUDDLE01_API_KEY was not set; generated and kept in \.roomcast/);
    assert.match(first.banner, /npx roomcast tail --room demo/);
    assert.match(first.banner, /npx roomcast simulate/);
    assert.match(first.banner, /^\s*export ROOMCAST_URL=\S+ HUDDLE01_API_KEY=dev_/m);
    assert.ok(!first.send.includes('--key'), 'the printed send needs no --key');

    const file = join(cwd, '.roomcast', 'dev-secrets.json');
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    assert.match(kept.HUDDLE01_API_KEY ?? '', /^dev_/);
    assert.ok((kept.ROOMCAST_TOKEN_SECRET ?? '').length >= 32);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'owner-only');
    assert.match(readFileSync(join(cwd, '.roomcast', '.gitignore'), 'utf8'), /^\*$/m);

    const sent = await run(first.send, cwd);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    assert.match(sent.stdout, /200 OK .*"seq":1/);
    await first.stop();

    const second = await serve(t, cwd);
    assert.match(second.banner, /HUDDLE01_API_KEY from \.roomcast\/dev-secrets\.json/);
    assert.doesNotMatch(second.banner, /generated/);
    // The first run's moderator token (what the console holds) is still good.
    const rooms = await fetch(`${second.base}/rooms`, {
      headers: { authorization: `Bearer ${first.token}` },
    });
    assert.equal(rooms.status, 200);
    const again = await run(second.send, cwd);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const token = await run(['token', '--rooms', 'demo'], cwd);
    assert.equal(token.code, 0, token.stderr);
    const snapshot = await fetch(`${second.base}/rooms/demo`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}` },
    });
    assert.equal(snapshot.status, 200);
  });

  test('.env wins over the kept file, for the server and the CLI', async (t) => {
    const cwd = scratch(t);
    writeFileSync(
      join(cwd, '.env'),
      'HUDDLE01_API_KEY=key-from-dotenv\nROOMCAST_TOKEN_SECRET=secret-from-dotenv-0123456789abcdef\n',
    );
    const server = await serve(t, cwd);
    assert.doesNotMatch(server.banner, /was not set/);
    assert.match(server.banner, /HUDDLE01_API_KEY=key-from-dotenv/);
    const sent = await run(server.send, cwd);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    assert.throws(() => statSync(join(cwd, '.roomcast')), /ENOENT/, 'nothing generated');
  });

  test('production never reads or writes the file', async (t) => {
    const cwd = scratch(t);
    const result = await run(['serve'], cwd, devEnv({ NODE_ENV: 'production' }));
    assert.equal(result.code, 78);
    assert.match(result.stderr, /HUDDLE01_API_KEY/);
    assert.throws(() => statSync(join(cwd, '.roomcast')), /ENOENT/);
  });
});
