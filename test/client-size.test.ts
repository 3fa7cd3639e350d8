/**
 * The browser client's size budget: bundled exactly like client/scripts/build.ts (in memory),
 * it stays within 4.5 KiB min+gzip and pulls in neither zod nor React. (4 KiB until the reducer
 * took its hash trie, issue 20: the price of O(log n) events in a browser holding a big room.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { BuildOptions } from 'esbuild';
import { browserBuildOptions } from '../client/scripts/browser-build.ts';

const root = new URL('../client/', import.meta.url).pathname;
const BUDGET = 4608;

/** client/scripts/build.ts's options, kept in memory. */
const options = {
  ...browserBuildOptions,
  write: false,
  metafile: true,
} satisfies BuildOptions;

async function bundle(entry: string, external: string[] = []) {
  const result = await build({
    ...options,
    entryPoints: [`${root}src/${entry}`],
    outfile: `${root}dist/${entry.replace(/\.ts$/, '.js')}`,
    external,
  });
  const [file] = result.outputFiles;
  assert.ok(file, 'esbuild produced no output');
  return {
    text: file.text,
    bytes: file.contents.length,
    gzipped: gzipSync(file.contents).length,
    inputs: Object.keys(result.metafile.inputs),
  };
}

test(`@roomcast/client is at most ${BUDGET} B min+gzip, without zod or react`, async () => {
  const core = await bundle('index.ts');
  console.log(`@roomcast/client: ${core.bytes} B min, ${core.gzipped} B min+gzip`);
  assert.ok(core.gzipped <= BUDGET, `${core.gzipped} B min+gzip is over the ${BUDGET} B budget`);

  const modules = core.inputs.filter((input) =>
    /node_modules\/(zod|react|react-dom)\//.test(input),
  );
  assert.deepEqual(modules, [], 'the core bundle must not include zod or react');
  // Also by content, in case a copy arrives through a path the filter above does not know.
  for (const marker of [
    'ZodError',
    '_zod',
    'react.transitional.element',
    'useSyncExternalStore',
    '"react"',
  ])
    assert.ok(!core.text.includes(marker), `the core bundle contains ${marker}`);
});

test('@roomcast/client/react stays small with react external', async () => {
  const hooks = await bundle('react.ts', ['react']);
  console.log(`@roomcast/client/react: ${hooks.bytes} B min, ${hooks.gzipped} B min+gzip`);
  assert.ok(hooks.text.includes('"react"'), 'react is imported, not bundled');
  assert.ok(!hooks.inputs.some((input) => input.includes('node_modules/')));
  assert.ok(!hooks.text.includes('ZodError'));
});
