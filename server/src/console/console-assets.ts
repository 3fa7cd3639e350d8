/**
 * The moderator console's assets, built in memory with esbuild the first time they are asked
 * for (once per process): no build step before `npm start` or `npm test`, nothing written to
 * disk, never stale. Output names carry a content hash, so they are cached forever; a node
 * built from the same sources with the same esbuild produces the same names as its peers.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
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
  const esbuild = await import('esbuild');
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

let building: Promise<ConsoleAssets> | undefined;

/**
 * The console's assets, built on the first call and shared by every app in the process. A
 * failed build is not cached: the next call tries again.
 */
export function consoleAssets(): Promise<ConsoleAssets> {
  building ??= buildConsoleAssets().catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}
