/**
 * Bundles @roomcast/client with esbuild (ESM, minified) into client/dist and prints its size
 * min+gzip.
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const result = await build({
  entryPoints: [`${root}src/index.ts`],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outfile: `${root}dist/index.js`,
  write: true,
  metafile: true,
});
const [output] = Object.entries(result.metafile.outputs);
const bytes = output ? output[1].bytes : 0;
const { readFileSync } = await import('node:fs');
const gzipped = gzipSync(readFileSync(`${root}dist/index.js`)).length;
console.log(`@roomcast/client: ${bytes} B min, ${gzipped} B min+gzip (client/dist/index.js)`);
