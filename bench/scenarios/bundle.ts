/**
 * Scenario "bundle": what a browser app downloads for a realtime client. Each library's client
 * entry point is bundled the same way as @roomcast/client's own build (esbuild, ESM, minified,
 * browser platform, es2022, tree-shaken to the one export an app imports), then gzipped (level
 * 9). Deterministic: one run is enough.
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { browserBuildOptions } from '../../client/scripts/browser-build.ts';
import type { BenchOptions } from '../lib/bench-options.ts';
import { addValue, newResult } from '../lib/results.ts';
import type { Contender, ScenarioResult } from '../lib/results.ts';

interface BundleContender extends Contender {
  /** The module an app writes: the import of the client's main export. */
  source: string;
}

const CONTENDERS: BundleContender[] = [
  {
    id: 'roomcast',
    label: '@roomcast/client (createClient)',
    short: 'roomcast',
    role: 'subject',
    source: `export { createClient } from '@roomcast/client';`,
  },
  {
    id: 'socketio',
    label: 'socket.io-client (io)',
    short: 'Socket.IO',
    role: 'peer',
    source: `export { io } from 'socket.io-client';`,
  },
  {
    id: 'centrifuge',
    label: 'centrifuge (Centrifuge)',
    short: 'Centrifuge',
    role: 'peer',
    source: `export { Centrifuge } from 'centrifuge';`,
  },
  {
    id: 'pusher',
    label: 'pusher-js (Pusher)',
    short: 'Pusher',
    role: 'peer',
    source: `export { default } from 'pusher-js';`,
  },
];

const KiB = 1024;
const root = new URL('../..', import.meta.url).pathname;

async function bundledSize(source: string): Promise<{ min: number; gzip: number }> {
  const result = await build({
    ...browserBuildOptions,
    stdin: { contents: source, resolveDir: root, loader: 'ts' },
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

/** Runs the bundle comparison. */
export async function runBundle(
  _options: BenchOptions,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const result = newResult({
    id: 'bundle',
    title: 'Client bundle size',
    method:
      'Each client library bundled for the browser the way @roomcast/client is built: esbuild ' +
      '(bundle, minify, ESM, platform browser, target es2022) of a module that re-exports the ' +
      'one entry an app imports, so tree-shaking keeps what that entry needs; then gzip level 9. ' +
      'Sizes are deterministic for the pinned versions in package-lock.json.',
    params: { runs: 1 },
    metrics: [
      { key: 'gzipKiB', label: 'min+gzip', unit: 'KiB', better: 'lower', digits: 1 },
      { key: 'minKiB', label: 'minified', unit: 'KiB', better: 'lower', digits: 1 },
    ],
    contenders: CONTENDERS.map(({ id, label, short, role }) => ({ id, label, short, role })),
    targets: [
      {
        label: '@roomcast/client ≤ 4 KiB min+gzip',
        metric: 'gzipKiB',
        against: 'absolute',
        comparison: '<=',
        limit: 4,
        unit: 'KiB',
      },
    ],
  });
  for (const contender of CONTENDERS) {
    const size = await bundledSize(contender.source);
    addValue(result, contender.id, 'gzipKiB', size.gzip / KiB);
    addValue(result, contender.id, 'minKiB', size.min / KiB);
    log(
      `  ${contender.label.padEnd(34)} ${(size.min / KiB).toFixed(1).padStart(6)} KiB min  ` +
        `${(size.gzip / KiB).toFixed(1).padStart(5)} KiB min+gzip`,
    );
  }
  return result;
}
