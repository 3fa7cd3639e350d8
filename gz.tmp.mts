import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { browserBuildOptions } from '/work/wt-frames/client/scripts/browser-build.ts';
const r = await build({ ...browserBuildOptions, write: false, entryPoints: ['client/src/index.ts'] });
console.log(gzipSync(r.outputFiles[0]!.contents).length);
