// Runs the test files under test/ with node's own test runner (TypeScript through tsx).
// Node 20's `--test` does not expand globs, so the files are collected here.
//
//   node test/run-tests.mjs                 every test (npm test, CI)
//   node test/run-tests.mjs --fast          the edit-loop tier: no browser, no packed install,
//                                           no long fault runs (npm run test:fast)
//   node test/run-tests.mjs --coverage      with c8 coverage (always on under CI=true)
//   node test/run-tests.mjs sse websocket   only files whose path contains one of the words
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const fast = args.includes('--fast');
const coverage = args.includes('--coverage') || process.env.CI === 'true';
const only = args.filter((arg) => !arg.startsWith('--'));

/**
 * Files left out of the fast tier: they drive Chromium, pack and install the packages, spawn
 * CLI and server processes, run several nodes, or run load, fuzz and fault scenarios measured in
 * tens of seconds. Everything else (unit tests, and integration tests on real sockets and a real
 * redis-server) is the fast tier; a new test file is in it unless it is named here.
 */
const SLOW = [
  'test/browser/',
  'test/packed-install.test.ts',
  'test/reliability/load',
  'test/reliability/soak',
  'test/reliability/faults-',
  'test/reliability/fuzz-',
  'test/cli.test.ts',
  'test/hardening-cli.test.ts',
  'test/hardening-subscribers.test.ts',
  'test/operations.test.ts',
  'test/publish.test.ts',
  'test/plugin.test.ts',
  'test/dev-secrets.test.ts',
  'test/cluster.test.ts',
  'test/bench-resilience.test.ts',
  'test/redis-cluster.test.ts',
  'test/redis-sentinel.test.ts',
];

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
  .filter((file) => !fast || !SLOW.some((slow) => file.startsWith(slow)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched', only);
  process.exit(1);
}
const testCommand = [
  process.execPath,
  ...['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=180000'],
  // The fast tier waits on sockets and timers far more than it computes: three files at a time
  // keep two cores busy. The full suite runs one file at a time, as CI does.
  ...(fast ? ['--test-concurrency=3'] : []),
  ...files,
];
// c8 collects V8 coverage from every process the tests start (servers, CLIs, workers) and
// maps it back to the TypeScript sources; .c8rc.json says which files count.
const command = coverage
  ? [process.execPath, join(root, 'node_modules/c8/bin/c8.js'), ...testCommand]
  : testCommand;
// Through sh so that the soft limit of open files can be raised to the hard one first: the
// load tests hold thousands of sockets, and many systems start processes at 1024.
const result = spawnSync(
  '/bin/sh',
  ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...command],
  // Servers under test keep no dev secrets in the checkout (test/dev-secrets.test.ts turns it on
  // in a scratch folder).
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'test', ROOMCAST_DEV_SECRETS_FILE: 'off' },
  },
);
process.exit(result.status ?? 1);
