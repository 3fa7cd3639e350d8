/**
 * docs/tokens.md's format is enough to mint a token without roomcast's code: the Python example
 * (standard library only) mints one that a real server accepts over WebSocket and REST, for the
 * rooms it names and no others, with its `sub`; expired ones are refused with TOKEN_EXPIRED.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createTokenVerifier } from '../server/src/auth/tokens.ts';
import { TEST_SECRET, startServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { connect } from './helpers/ws-client.ts';

const EXAMPLE = fileURLToPath(new URL('../docs/examples/mint_token.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

/** Python is part of these machines; a CI without it must not pass silently. */
function pythonAvailable(): boolean {
  if (existsSync(PYTHON)) return true;
  if (process.env.CI === 'true') throw new Error(`${PYTHON} is required on CI`);
  console.warn(`\n!!! SKIPPING token spec tests: ${PYTHON} not found\n`);
  return false;
}

async function mint(rooms: string, ttl = 900, sub = 'py-user'): Promise<string> {
  const { stdout } = await promisify(execFile)(PYTHON, [EXAMPLE, rooms, String(ttl), sub], {
    env: { ...process.env, ROOMCAST_TOKEN_SECRET: TEST_SECRET },
  });
  return stdout.trim();
}

describe('a token minted from docs/tokens.md in Python', { skip: !pythonAvailable() }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test('the code quoted in docs/tokens.md is the example that runs', () => {
    const doc = readFileSync(new URL('../docs/tokens.md', import.meta.url), 'utf8');
    const quoted = /```python\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const example = readFileSync(EXAMPLE, 'utf8');
    for (const line of quoted.split('\n').filter((l) => l.trim() && !l.startsWith('import'))) {
      assert.ok(example.includes(line), `docs/tokens.md line not in the example: ${line}`);
    }
  });

  test('verifies with its claims', async () => {
    const check = await createTokenVerifier([TEST_SECRET]).verify(await mint('standup,retro'));
    assert.ok(check.ok, JSON.stringify(check));
    assert.deepEqual(check.claims.rooms, ['standup', 'retro']);
    assert.equal(check.claims.sub, 'py-user');
  });

  test('subscribes over WebSocket to its rooms, FORBIDDEN elsewhere', async (t) => {
    const token = await mint('standup');
    const socket = await connect(`${server.bareWsUrl}?token=${token}`);
    t.after(() => socket.socket.terminate());
    socket.send({ type: 'subscribe', room: 'standup' });
    socket.send({ type: 'subscribe', room: 'other' });
    await socket.until((frames) =>
      frames.some((f) => f.type === 'snapshot' && f.room === 'standup'),
    );
    await socket.until((frames) =>
      frames.some((f) => f.type === 'error' && f.room === 'other' && f.code === 'FORBIDDEN'),
    );
  });

  test('reads the REST snapshot; an expired one is TOKEN_EXPIRED', async () => {
    const ok = await fetch(`${server.url}/rooms/standup`, {
      headers: { authorization: `Bearer ${await mint('standup')}` },
    });
    assert.equal(ok.status, 200);
    const expired = await fetch(`${server.url}/rooms/standup`, {
      headers: { authorization: `Bearer ${await mint('standup', -60)}` },
    });
    assert.equal(expired.status, 401);
    assert.equal(
      ((await expired.json()) as { error: { code: string } }).error.code,
      'TOKEN_EXPIRED',
    );
  });
});
