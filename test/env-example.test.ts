/**
 * `.env.example` lists every variable roomcast reads, with today's defaults: the committed file
 * is exactly what the option docs generate, and every `env.NAME` the server's code reads is in it.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ENV_NAMES } from '../server/src/config.ts';
import { envExampleText } from '../server/src/env-example.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Read by the code but not roomcast's to document (a terminal convention). */
const NOT_OURS = new Set(['NO_COLOR']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

test('.env.example is generated from the option docs (npm run env-example)', () => {
  assert.equal(readFileSync(join(ROOT, '.env.example'), 'utf8'), envExampleText());
});

test('.env.example names every variable the server reads', () => {
  const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const listed = new Set([...example.matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
  for (const name of Object.values(ENV_NAMES)) assert.ok(listed.has(name), name);
  for (const file of sources(join(ROOT, 'server', 'src'))) {
    for (const [, name] of readFileSync(file, 'utf8').matchAll(/env\.([A-Z][A-Z0-9_]+)/g)) {
      if (!NOT_OURS.has(name!)) assert.ok(listed.has(name!), `${name} (read in ${file})`);
    }
  }
});
