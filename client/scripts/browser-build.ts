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
