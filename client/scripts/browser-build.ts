/**
 * The esbuild options that build @roomcast/client for browsers. Shared by the build script, the
 * size-budget test and the bundle benchmark, so all three measure the same build.
 */
import type { BuildOptions } from 'esbuild';

/** Bundle, minify, ESM for browsers, es2022. */
export const browserBuildOptions = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
} satisfies BuildOptions;

/** One browser entry point of @roomcast/client, as built and as measured by its size budget. */
export interface BrowserEntry {
  /** The subpath apps import (`.` is `@roomcast/client`). */
  subpath: string;
  /** Source file under client/src. */
  source: string;
  /** Output file under client/dist. */
  output: string;
  /** Imports left to the app (React is the app's own copy). */
  external: string[];
  /** Budget in bytes, min+gzip. */
  budget: number;
}

/**
 * Every browser entry: the one list the build, the size test and the docs follow. The core is
 * what every app downloads; the others only the apps that import them.
 */
export const browserEntries: BrowserEntry[] = [
  // Issue 18's target was 4 KiB: the shared reducer alone (hash trie, presence grace heap) is
  // 3.4 KiB, the connection client 3.3 KiB, and the contract's createClient options (shareTabs with its
  // SharedWorker port, cache: 'session', both synchronous, so not lazily loadable as they are) 1.6 KiB.
  { subpath: '.', source: 'index.ts', output: 'index.js', external: [], budget: 8704 },
  { subpath: './react', source: 'react.ts', output: 'react.js', external: ['react'], budget: 1024 },
  {
    subpath: './event-source',
    source: 'event-source-link.ts',
    output: 'event-source.js',
    external: [],
    budget: 1024,
  },
  {
    subpath: './cache',
    source: 'session-cache.ts',
    output: 'cache.js',
    external: [],
    budget: 1024,
  },
  // Bundled alone it carries the core that runs in the leading tab; in an app both share it.
  {
    subpath: './share-tabs',
    source: 'share-tabs.ts',
    output: 'share-tabs.js',
    external: [],
    budget: 8704,
  },
  // The SharedWorker script an app serves for `shareTabs: { worker }`: the core client inside.
  {
    subpath: './share-worker',
    source: 'share-worker.ts',
    output: 'share-worker.js',
    external: [],
    budget: 7680,
  },
];
