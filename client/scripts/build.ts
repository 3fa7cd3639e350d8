/**
 * Bundles each browser entry of @roomcast/client (browser-build.ts) with esbuild (ESM,
 * minified) into client/dist and prints its size min+gzip.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { browserBuildOptions, browserEntries } from './browser-build.ts';

const root = new URL('..', import.meta.url).pathname;
for (const entry of browserEntries) {
  const outfile = `${root}dist/${entry.output}`;
  await build({
    ...browserBuildOptions,
    entryPoints: [`${root}src/${entry.source}`],
    outfile,
    external: entry.external,
    write: true,
  });
  const bytes = readFileSync(outfile);
  const name = `@roomcast/client${entry.subpath === '.' ? '' : entry.subpath.slice(1)}`;
  console.log(
    `${name}: ${bytes.length} B min, ${gzipSync(bytes).length} B min+gzip (client/dist/${entry.output})`,
  );
}
