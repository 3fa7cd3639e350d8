// Runs every test file under test/ with node's own test runner (TypeScript through tsx).
// Node 20's `--test` does not expand globs, so the files are collected here.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv.slice(2);

/** @param {string} dir @returns {string[]} */
function collect(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : collect(path);
    return entry.name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

const files = collect(join(root, 'test'))
  .filter((file) => only.length === 0 || only.some((pattern) => file.includes(pattern)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched', only);
  process.exit(1);
}
// Through sh so that the soft limit of open files can be raised to the hard one first: the
// load tests hold thousands of sockets, and many systems start processes at 1024.
const result = spawnSync(
  '/bin/sh',
  [
    '-c',
    'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
    'sh',
    process.execPath,
    ...['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=180000', ...files],
  ],
  // Servers under test keep no dev secrets in the checkout (test/dev-secrets.test.ts turns it on
  // in a scratch folder).
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'test', ROOMCAST_DEV_SECRETS_FILE: 'off' },
  },
);
process.exit(result.status ?? 1);
