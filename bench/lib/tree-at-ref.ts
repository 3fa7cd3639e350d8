/**
 * The code of a git ref next to the working tree, for before/after measurements in one run:
 * `server/`, `shared/` and `bench/` as they were at the ref, extracted into `.tmp/at-<ref>/`
 * (gitignored), with a `node_modules` in which `@roomcast/*` are that copy and every other
 * package is this repo's install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PATHS = ['server', 'shared', 'bench', 'tsconfig.json', 'package.json'];

/** Extracts `ref` (fresh on every call) and returns the directory it is in. */
export function treeAtRef(ref: string): string {
  const dir = join(ROOT, '.tmp', `at-${ref.replace(/[^\w.-]/g, '_')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', '--format=tar', ref, ...PATHS], {
    cwd: ROOT,
    maxBuffer: 1 << 30,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });

  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@roomcast'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== '@roomcast') symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
  }
  for (const workspace of ['server', 'shared']) {
    symlinkSync(join('..', '..', workspace), join(modules, '@roomcast', workspace));
  }
  // Dependencies installed for one workspace only (npm puts them in its own node_modules).
  const serverModules = join(ROOT, 'server', 'node_modules');
  if (existsSync(serverModules)) symlinkSync(serverModules, join(dir, 'server', 'node_modules'));
  return dir;
}
