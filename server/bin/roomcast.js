#!/usr/bin/env node
// The `roomcast` command. An installed package runs its built JavaScript (dist/) on plain Node.
// In a source checkout (this repo, where src/ exists and dist/ may be stale or missing) it runs
// the TypeScript sources through tsx, a dev dependency there, so edits need no build step.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  // The repo's tsconfig maps the workspace packages to their sources, whatever the cwd.
  register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
  await import(sources.href);
} else {
  await import('../dist/cli/main.js');
}
