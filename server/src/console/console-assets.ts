/**
 * The moderator console's assets. A built package (`npm run build`, `npm pack`) ships them
 * prebuilt in dist/console-ui/ (written by server/scripts/build-console.ts), so production needs
 * neither esbuild nor the console's sources. Run from the sources (the repo's `npm start` and
 * tests), they are built in memory with esbuild the first time they are asked for: no build
 * step, nothing written to disk, never stale. Output names carry a content hash, so they are
 * cached forever; a node built from the same sources with the same esbuild produces the same
 * names as its peers.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** One served asset. */
export interface ConsoleAsset {
  type: string;
  body: Buffer;
}

/** The built console: the page and its hashed assets by file name. */
export interface ConsoleAssets {
  /** index.html, with the hashed names filled in. */
  html: Buffer;
  /** `main-<hash>.js`, `main-<hash>.css`, `favicon-<hash>.svg` → content. */
  files: Map<string, ConsoleAsset>;
  /** How long the build took (ms), for the startup log. */
  buildMs: number;
}

/** Where the console's sources live (server/console). */
export const CONSOLE_ROOT = fileURLToPath(new URL('../../console/', import.meta.url));

/**
 * Where a built package keeps the prebuilt console: dist/console-ui/ beside dist/console/ (from
 * the sources this folder does not exist, and the console is built in memory instead).
 */
export const PREBUILT_ROOT = fileURLToPath(new URL('../console-ui/', import.meta.url));

/** The page's file name in PREBUILT_ROOT; every other file there is a hashed asset. */
export const PAGE_FILE = 'index.html';

/** The URL folder (relative to the page) that holds the assets. */
export const ASSET_DIR = 'console';

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

const typeOf = (name: string) => TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'text/plain';
const shortHash = (body: Buffer | Uint8Array) =>
  createHash('sha256').update(body).digest('hex').slice(0, 12);

/** Builds the console's assets (each call builds afresh; `consoleAssets` shares one build). */
export async function buildConsoleAssets(): Promise<ConsoleAssets> {
  const started = performance.now();
  // Loaded only when the console is first asked for: apps that turn it off never load esbuild.
  // esbuild is a build-time tool (a dev dependency), present only where the sources are.
  const esbuild = await import('esbuild').catch((error: unknown) => {
    throw new Error(
      `the console is not prebuilt (${PREBUILT_ROOT}${PAGE_FILE} is missing) and esbuild, which builds it from the sources, is not installed: run \`npm run build\` (or install a packed @roomcast/server)`,
      { cause: error },
    );
  });
  const result = await esbuild.build({
    absWorkingDir: CONSOLE_ROOT,
    entryPoints: ['src/main.ts'],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    entryNames: '[name]-[hash]',
    outdir: 'out',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const files = new Map<string, ConsoleAsset>();
  const names: Record<string, string> = {};
  for (const output of result.outputFiles) {
    const name = output.path.slice(output.path.lastIndexOf('/') + 1);
    files.set(name, { type: typeOf(name), body: Buffer.from(output.contents) });
    names[name.endsWith('.css') ? 'css' : 'js'] = name;
  }
  const icon = await readFile(`${CONSOLE_ROOT}favicon.svg`);
  names.icon = `favicon-${shortHash(icon)}.svg`;
  files.set(names.icon, { type: typeOf(names.icon), body: icon });
  if (!names.js || !names.css) throw new Error('console build produced no script or stylesheet');

  const template = await readFile(`${CONSOLE_ROOT}index.html`, 'utf8');
  const html = template.replace(/\{\{(js|css|icon)\}\}/g, (_match, key: string) => {
    return `${ASSET_DIR}/${names[key]}`;
  });
  return { html: Buffer.from(html), files, buildMs: Math.round(performance.now() - started) };
}

/** Reads the console that `npm run build` wrote into `dir` (the page and its hashed assets). */
export async function readPrebuiltConsole(dir: string = PREBUILT_ROOT): Promise<ConsoleAssets> {
  const started = performance.now();
  const files = new Map<string, ConsoleAsset>();
  for (const name of await readdir(dir)) {
    if (name !== PAGE_FILE)
      files.set(name, { type: typeOf(name), body: await readFile(dir + name) });
  }
  const html = await readFile(dir + PAGE_FILE);
  return { html, files, buildMs: Math.round(performance.now() - started) };
}

let building: Promise<ConsoleAssets> | undefined;

/**
 * The console's assets, shared by every app in the process: the prebuilt ones when the package
 * was built, else built from the sources on the first call. A failed build is not cached: the
 * next call tries again.
 */
export function consoleAssets(): Promise<ConsoleAssets> {
  const load = existsSync(PREBUILT_ROOT + PAGE_FILE) ? readPrebuiltConsole : buildConsoleAssets;
  building ??= load().catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}
