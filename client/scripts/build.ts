/**
 * Bundles @roomcast/client with esbuild (ESM, minified) into client/dist and prints its size
 * min+gzip.
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { browserBuildOptions } from './browser-build.ts';

const root = new URL('..', import.meta.url).pathname;
const result = await build({
  ...browserBuildOptions,
  entryPoints: [`${root}src/index.ts`],
  outfile: `${root}dist/index.js`,
  write: true,
  metafile: true,
});
const [output] = Object.entries(result.metafile.outputs);
const bytes = output ? output[1].bytes : 0;
const { readFileSync } = await import('node:fs');
const gzipped = gzipSync(readFileSync(`${root}dist/index.js`)).length;
console.log(`@roomcast/client: ${bytes} B min, ${gzipped} B min+gzip (client/dist/index.js)`);
