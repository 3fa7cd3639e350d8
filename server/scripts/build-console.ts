/**
 * Prebuilds the moderator console into server/dist/console-ui/ (part of `npm run build` and so of
 * `npm pack`): the page with its hashed asset names filled in, and the assets. A built server
 * serves these files and never needs esbuild or the console's sources at run time.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import {
  PAGE_FILE,
  buildConsoleAssets,
  readPrebuiltConsole,
} from '../src/console/console-assets.ts';

const out = new URL('../dist/console-ui/', import.meta.url).pathname;
const built = await buildConsoleAssets();
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await writeFile(out + PAGE_FILE, built.html);
for (const [name, asset] of built.files) await writeFile(out + name, asset.body);

// Read back exactly as the server will: what it serves is what was built.
const served = await readPrebuiltConsole(out);
if (!served.html.equals(built.html) || served.files.size !== built.files.size) {
  throw new Error('the prebuilt console does not read back as written');
}
const bytes = [...built.files.values()].reduce((sum, asset) => sum + asset.body.length, 0);
console.log(
  `console: ${built.files.size} assets, ${bytes} B, in ${built.buildMs} ms (dist/console-ui/)`,
);
