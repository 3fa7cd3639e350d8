/**
 * The `roomcast` CLI as child processes against real servers: `send`, and `serve` in dev mode
 * printing the exact `send` command that works.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { TEST_KEY, startServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';

const BIN = fileURLToPath(new URL('../server/bin/roomcast.js', import.meta.url));

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('roomcast send', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test('posts a signed peer:joined and prints 200 with the seq', async () => {
    const result = await run([
      'send',
      'peer:joined',
      '--room',
      'cli-room',
      '--url',
      server.url,
      '--key',
      TEST_KEY,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /200 OK\s+\{"ok":true,"roomId":"cli-room","seq":1\}/);
  });

  test('every event type is accepted (track events after their peer joined)', async () => {
    const events = [
      'meeting:started',
      'peer:joined',
      'peer:trackPublished',
      'peer:trackUnpublished',
      'recording:started',
      'recording:updated',
      'recording:ended',
      'recording:stopped',
      'peer:left',
      'meeting:ended',
    ];
    for (const event of events) {
      const result = await run(
        [
          'send',
          event,
          '--room',
          'cli-all',
          '--peer',
          'peerId--cli',
          '--url',
          server.url,
          '--json',
        ],
        {
          HUDDLE01_API_KEY: TEST_KEY,
        },
      );
      assert.equal(result.code, 0, `${event}: ${result.stdout}${result.stderr}`);
      assert.equal(JSON.parse(result.stdout).roomId, 'cli-all', event);
    }
  });

  test('a repeated --id is answered as a duplicate; a wrong key fails with 401', async () => {
    const args = [
      'send',
      'meeting:started',
      '--room',
      'cli-dup',
      '--id',
      'fixed-id',
      '--url',
      server.url,
      '--key',
      TEST_KEY,
      '--json',
    ];
    await run(args);
    const again = await run(args);
    assert.deepEqual(JSON.parse(again.stdout), { ok: true, duplicate: true });
    const wrong = await run([
      'send',
      'meeting:started',
      '--room',
      'x',
      '--url',
      server.url,
      '--key',
      'nope',
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /401/);
  });

  test('usage errors are clear', async () => {
    const noEvent = await run(['send', '--room', 'x', '--key', 'k']);
    assert.equal(noEvent.code, 2);
    assert.match(noEvent.stderr, /name an event/);
    const noKey = await run(['send', 'peer:joined', '--room', 'x'], { HUDDLE01_API_KEY: '' });
    assert.match(noKey.stderr, /no API key/);
  });
});

describe('roomcast serve', () => {
  test('dev mode prints a generated key, a send command that works and the console URL', async () => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: {
        ...process.env,
        PORT: '0',
        HUDDLE01_API_KEY: '',
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
      },
    });
    try {
      let stdout = '';
      const command = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          stdout += chunk;
          const match = /npx roomcast (send .*)/.exec(stdout);
          if (match) resolve(match[1]!);
        });
        child.on('exit', () => reject(new Error(`serve exited: ${stdout}`)));
      });
      // The banner's export line, as a person would paste it before the command.
      const exported = /^\s*export (.*)$/m.exec(stdout)?.[1] ?? '';
      const pasted = Object.fromEntries(
        exported
          .split(' ')
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
      const result = await run(command.trim().split(/\s+/), pasted);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /200 OK .*"roomId":"demo","seq":1/);

      // The console link: the page, and a `*` token (in the fragment) that lists the rooms.
      const link = /moderator console: (http:\/\/\S+)\/#token=(\S+)/.exec(stdout);
      assert.ok(link, stdout);
      const [, base, token] = link;
      assert.match(await (await fetch(`${base}/`)).text(), /<title>roomcast console<\/title>/);
      const rooms = await fetch(`${base}/rooms`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(rooms.status, 200);
      assert.equal(
        ((await rooms.json()) as { rooms: { roomId: string }[] }).rooms[0]?.roomId,
        'demo',
      );
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('production without a key refuses to start, naming the variable', async () => {
    const result = await run(['serve'], {
      NODE_ENV: 'production',
      HUDDLE01_API_KEY: '',
      ROOMCAST_TOKEN_SECRET: '',
    });
    assert.equal(result.code, 78);
    assert.match(result.stderr, /HUDDLE01_API_KEY is required/);
  });
});
