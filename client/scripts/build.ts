/**
 * Writes client/dist/roomcast.min.js (and dist/share-worker.min.js, the SharedWorker script of
 * `shareTabs: { worker }`): the core of @roomcast/client (browser-build.ts's `.` entry)
 * as one minified ES module with everything it takes from @roomcast/shared inlined, for a
 * `<script type="module">` without a bundler. Runs after tsc has written the package's per-file
 * JavaScript and declarations, which bundlers use (see package.json). Prints the measured size of
 * every browser entry, min+gzip, as the size test measures them: the figures the README states.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { browserBuildOptions, browserEntries } from './browser-build.ts';

const root = new URL('..', import.meta.url).pathname;
const core = browserEntries.find((entry) => entry.subpath === '.')!;
const outfile = `${root}dist/roomcast.min.js`;
await build({
  ...browserBuildOptions,
  entryPoints: [`${root}src/${core.source}`],
  outfile,
  sourcemap: true,
  write: true,
  logLevel: 'warning',
});
const code = readFileSync(outfile);
console.log(
  `@roomcast/client: ${code.length} B min, ${gzipSync(code).length} B min+gzip (dist/roomcast.min.js)`,
);
// The SharedWorker script of `shareTabs: { worker }`, self-contained, for apps to serve as is.
await build({
  ...browserBuildOptions,
  entryPoints: [`${root}src/share-worker.ts`],
  outfile: `${root}dist/share-worker.min.js`,
  sourcemap: true,
  write: true,
  logLevel: 'warning',
});
for (const entry of browserEntries.filter((other) => other !== core)) {
  const result = await build({
    ...browserBuildOptions,
    entryPoints: [`${root}src/${entry.source}`],
    external: entry.external,
    write: false,
  });
  const bytes = result.outputFiles[0]!.contents;
  console.log(
    `@roomcast/client${entry.subpath.slice(1)}: ${gzipSync(bytes).length} B min+gzip, bundled alone`,
  );
}
