/**
 * Writes client/dist/roomcast.min.js: @roomcast/client as one minified ES module with everything
 * it takes from @roomcast/shared inlined, for a `<script type="module">` without a bundler. Runs
 * after tsc has written the package's per-file JavaScript and declarations (see package.json).
 * Prints the measured size, min+gzip: the figure the README states.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { browserBuildOptions } from './browser-build.ts';

const root = new URL('..', import.meta.url).pathname;
const outfile = `${root}dist/roomcast.min.js`;
await build({
  ...browserBuildOptions,
  entryPoints: [`${root}src/index.ts`],
  outfile,
  sourcemap: true,
  write: true,
  logLevel: 'warning',
});
const code = readFileSync(outfile);
const gzipped = gzipSync(code).length;
console.log(`@roomcast/client: ${code.length} B min, ${gzipped} B min+gzip (dist/roomcast.min.js)`);
