/**
 * A user's first mistakes get clear answers (docs/reliability.md, "Attacks"): every command
 * answers a wrong flag in one line with its --help hint, config errors name the accepted form,
 * simulate stops at the first 401, and what the server logs matches what the README promises.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { configFromEnv, withDevSecrets } from '../server/src/config.ts';
import { loadServeConfig } from '../server/src/config-sources.ts';
import { OPTION_DOCS, flagOf } from '../server/src/config-docs.ts';
import { meetingStarted, track } from './helpers/payloads.ts';
import { parseMetrics, sample } from './helpers/metrics.ts';
import { TEST_KEY, postWebhook, startLoggedServer, startServer } from './helpers/server.ts';
import { startNode } from './helpers/node-process.ts';
import { sleep } from './helpers/attack.ts';

const BIN = fileURLToPath(new URL('../server/bin/roomcast.js', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string; ms: number }>((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, HUDDLE01_API_KEY: '', ROOMCAST_TOKEN_SECRET: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

describe('the CLI answers mistakes in one line (item 10)', () => {
  test('every command: an unknown or malformed flag is one line with its --help hint, no stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['send', 'peer:joined', '--rom', 'x'],
        /^roomcast send: unknown option --rom \(did you mean --room\?\) \(see roomcast send --help\)$/,
      ],
      [
        ['token', '--rooms', 'a', '--ttl', '-5m'],
        /^roomcast token: --ttl needs a value; one that starts with "-" is written --ttl=<value> \(see roomcast token --help\)$/,
      ],
      [
        ['token', '--rooms', 'a', '--ttl=-5m', '--secret', 's'],
        /^roomcast token: --ttl must be seconds or a duration/,
      ],
      [
        ['simulate', '--room', '3'],
        /^roomcast simulate: unknown option --room \(did you mean --rooms\?\) \(see roomcast simulate --help\)$/,
      ],
      [
        ['tail', '--all', '--cont', '1'],
        /^roomcast tail: unknown option --cont \(did you mean --count\?\) \(see roomcast tail --help\)$/,
      ],
      [
        ['serve', '--prot', '3000'],
        /^roomcast: unknown option --prot \(did you mean --port\?\) \(see roomcast serve --help\)$/,
      ],
      [
        ['send', 'peer:joined', '--file', '/nonexistent/payload.json', '--key', 'k'],
        /^roomcast send: ENOENT/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    results.forEach((result, index) => {
      const [args, expected] = cases[index]!;
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(lines[0]!, expected, args.join(' '));
      assert.ok(result.code > 0, args.join(' '));
    });
  });

  test('a port in use is said in one line', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await run(['serve', '--port', String(port), '--console', 'false']);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr.trim(),
        new RegExp(`^roomcast: cannot listen on 127\\.0\\.0\\.1:${port}: it is in use`),
      );
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    } finally {
      blocker.close();
    }
  });

  test('config errors name the variable and the accepted form', () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ PORT: 'abc' }, /PORT: expected a port number, 0–65535/],
      [{ ROOMCAST_CONSOLE: 'maybe' }, /ROOMCAST_CONSOLE: expected true or false \(or 1 \/ 0\)/],
      [
        { ROOMCAST_HISTORY_SIZE: '1.5' },
        /ROOMCAST_HISTORY_SIZE: expected a whole number of 1 or more/,
      ],
      [{ LOG_FORMAT: 'xml' }, /LOG_FORMAT: expected json, pretty or auto/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: expected fatal, error, warn/],
    ];
    for (const [env, expected] of cases) assert.throws(() => loadServeConfig([], env), expected);
  });

  test('production with nothing set reports every missing secret at once', () => {
    assert.throws(
      () => withDevSecrets(configFromEnv({ NODE_ENV: 'production' })),
      /HUDDLE01_API_KEY is required; ROOMCAST_TOKEN_SECRET is required when NODE_ENV=production/,
    );
  });

  test('flags mirror the env names (the old spellings still work); LOG_FORMAT has one', () => {
    for (const [key, doc] of Object.entries(OPTION_DOCS)) {
      if (key === 'production') continue;
      assert.equal(
        flagOf(key),
        doc.env
          .replace(/^ROOMCAST_/, '')
          .toLowerCase()
          .replace(/_/g, '-'),
      );
    }
    const mirrored = loadServeConfig(
      ['--max-buffered', '2MiB', '--dead-letters', '5', '--log-format', 'pretty'],
      {},
    );
    assert.ok(!mirrored.help);
    if (mirrored.help) return;
    assert.equal(mirrored.config.maxBufferedBytes, 2 * 1024 * 1024);
    assert.equal(mirrored.config.deadLetterLimit, 5);
    assert.equal(mirrored.config.logFormat, 'pretty');
    const legacy = loadServeConfig(['--max-buffered-bytes', '3MiB'], {});
    assert.ok(!legacy.help && legacy.config.maxBufferedBytes === 3 * 1024 * 1024);
  });

  test('--help defaults are written as the README writes them (24h, not 1d)', () => {
    const help = loadServeConfig(['--help'], {});
    assert.ok(help.help);
    if (!help.help) return;
    assert.match(help.text, /--dedup-window <duration>\s+ROOMCAST_DEDUP_WINDOW\s+24h/);
    assert.doesNotMatch(help.text, /\b1d\b/);
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    // Every option is in the README's table, with the default --help gives.
    const defaults = Object.fromEntries(
      help.text
        .split('\n')
        .map((line) => /^\s+--\S+ <\w+>\s+(\S+)\s+(\S+)/.exec(line))
        .filter((match) => match !== null)
        .map((match) => [match[1]!, match[2]!]),
    );
    for (const [key, doc] of Object.entries(OPTION_DOCS)) {
      if (key === 'production') continue;
      const row = readme
        .split('\n')
        .find((line) => line.startsWith('|') && line.includes(`\`${doc.env}\``));
      assert.ok(row, `${doc.env} is in the README's option table`);
      const value = defaults[doc.env];
      if (value && value !== '(unset)')
        assert.ok(row.includes(`\`${value}\``), `${doc.env}: README default ${value}`);
    }
  });

  test('simulate stops at the first 401 instead of playing the whole script', async () => {
    const server = await startServer();
    try {
      const result = await run([
        'simulate',
        '--rooms',
        '2',
        '--peers',
        '4',
        '--duration',
        '60s',
        '--url',
        server.url,
        '--key',
        'not-the-key',
      ]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /roomcast simulate: stopped at the first 401 \(SIGNATURE_INVALID\)/,
      );
      assert.ok(result.ms < 40_000, `took ${result.ms} ms (the script lasts 60 s)`);
    } finally {
      await server.close();
    }
  });

  test('a held track event that expires into a dead letter is logged and counted', async () => {
    const server = await startLoggedServer({ trackHold: '200ms' });
    const { url } = server;
    try {
      const held = await postWebhook({ url }, 'peer:trackPublished', track('never-joins'));
      assert.equal(held.status, 202);
      await sleep(600);
      const samples = parseMetrics(await (await fetch(`${url}/metrics`)).text());
      assert.equal(sample(samples, 'roomcast_dead_letters_total', { reason: 'UNROUTABLE' }), 1);
      assert.match(
        server.logs(),
        /"outcome":"dead-letter","reason":"UNROUTABLE".*held track event expired/,
      );
    } finally {
      await server.close();
    }
  });

  test('on a terminal (pretty logs), one webhook makes one log line', async () => {
    const node = await startNode({
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'info',
      ROOMCAST_CONSOLE: 'false',
    });
    try {
      await sleep(300);
      const before = node.output().length;
      const answer = await postWebhook(node, 'meeting:started', meetingStarted('one-line'));
      assert.equal(answer.status, 200);
      await sleep(500);
      const records = node
        .output()
        .slice(before)
        .split('\n')
        .filter((line) => /^\[\d\d:\d\d:\d\d\.\d+\]/.test(line));
      assert.equal(records.length, 1, records.join('\n'));
      assert.match(records[0]!, /webhook appended/);
    } finally {
      await node.kill();
    }
  });
});

describe('the docs match the behaviour (item 11)', () => {
  test('no leftover "until the auth issue" notes', () => {
    for (const file of ['../README.md', '../docs/protocol.md', '../docs/deployment.md']) {
      const text = readFileSync(new URL(file, import.meta.url), 'utf8');
      assert.doesNotMatch(text, /auth issue/i, file);
    }
  });

  test('/readyz answers within 1 s while Redis does not answer (503, engine unreachable)', async () => {
    // A "Redis" that accepts connections and never answers: a frozen or black-holed one.
    const sockets = new Set<Socket>();
    const blackhole = createServer((socket) => sockets.add(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const port = (blackhole.address() as { port: number }).port;
    const server = await startServer({ redisUrl: `redis://127.0.0.1:${port}` });
    try {
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        const response = await fetch(`${server.url}/readyz`);
        assert.equal(response.status, 503);
        assert.deepEqual(await response.json(), { ok: false, reason: 'engine unreachable' });
        // Bounded by the route (1 s), not by the engine's 5 s command timeout; loose for busy machines.
        assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      blackhole.close();
      await server.close();
    }
  });

  test('send prints the peer id it made up, for the next command', async () => {
    const server = await startServer();
    try {
      const result = await run([
        'send',
        'peer:joined',
        '--room',
        'peer-hint',
        '--url',
        server.url,
        '--key',
        TEST_KEY,
      ]);
      assert.equal(result.code, 0, result.stderr);
      const peer = /peer=(\S+)/.exec(result.stdout)?.[1];
      assert.ok(peer, result.stdout);
      const next = await run([
        'send',
        'peer:trackPublished',
        '--room',
        'peer-hint',
        '--peer',
        peer,
        '--url',
        server.url,
        '--key',
        TEST_KEY,
        '--json',
      ]);
      assert.equal(JSON.parse(next.stdout).roomId, 'peer-hint', 'the track event found its peer');
    } finally {
      await server.close();
    }
  });
});
