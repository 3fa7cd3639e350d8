/**
 * The browser client's size budgets: each entry of client/scripts/browser-build.ts, bundled
 * exactly like client/scripts/build.ts (in memory), stays within its budget min+gzip; the
 * core pulls in neither zod nor React, and no entry bundles React.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { browserBuildOptions, browserEntries } from '../client/scripts/browser-build.ts';
import type { BrowserEntry } from '../client/scripts/browser-build.ts';

const root = new URL('../client/', import.meta.url).pathname;

async function bundle(entry: BrowserEntry) {
  const result = await build({
    ...browserBuildOptions,
    write: false,
    metafile: true,
    entryPoints: [`${root}src/${entry.source}`],
    outfile: `${root}dist/${entry.output}`,
    external: entry.external,
  });
  const [file] = result.outputFiles;
  assert.ok(file, 'esbuild produced no output');
  const inputs = result.metafile.inputs;
  return {
    text: file.text,
    bytes: file.contents.length,
    gzipped: gzipSync(file.contents).length,
    inputs: Object.keys(inputs),
  };
}

for (const entry of browserEntries) {
  const name = `@roomcast/client${entry.subpath === '.' ? '' : entry.subpath.slice(1)}`;
  test(`${name} is at most ${entry.budget} B min+gzip, without zod or a bundled react`, async () => {
    const built = await bundle(entry);
    console.log(`${name}: ${built.bytes} B min, ${built.gzipped} B min+gzip`);
    assert.ok(
      built.gzipped <= entry.budget,
      `${built.gzipped} B min+gzip is over the ${entry.budget} B budget`,
    );
    const modules = built.inputs.filter((input) =>
      /node_modules\/(zod|react|react-dom)\//.test(input),
    );
    assert.deepEqual(modules, [], `${name} must not include zod or react`);
    // Also by content, in case a copy arrives through a path the filter above does not know.
    for (const marker of ['ZodError', '_zod', 'react.transitional.element'])
      assert.ok(!built.text.includes(marker), `${name} contains ${marker}`);
    if (entry.external.includes('react')) {
      assert.ok(built.text.includes('"react"'), 'react is imported, not bundled');
    } else {
      for (const marker of ['useSyncExternalStore', '"react"'])
        assert.ok(!built.text.includes(marker), `${name} contains ${marker}`);
    }
  });
}

test('the README states the core size as measured (KiB, one decimal)', async () => {
  const core = browserEntries.find((entry) => entry.subpath === '.')!;
  const kib = ((await bundle(core)).gzipped / 1024).toFixed(1);
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const stated = [...readme.matchAll(/(\d+\.\d) KiB min\+gzip/g)].map((match) => match[1]);
  assert.ok(stated.length > 0, 'the README states a size');
  assert.deepEqual([...new Set(stated)], [kib], `README sizes ${stated} vs measured ${kib} KiB`);
});
