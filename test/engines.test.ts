/**
 * The Node version roomcast states is the true minimum: every package in the lockfile (runtime
 * and dev, the overrides applied) accepts it, so a fresh `npm install` prints no EBADENGINE, and
 * each workspace package states the same minimum.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import semver from 'semver';

const read = (path: string) =>
  JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')) as {
    engines?: { node?: string };
    packages?: Record<string, { engines?: { node?: string } | string[]; version?: string }>;
  };

const root = read('package.json');
const minimum = semver.minVersion(root.engines?.node ?? '')?.version;

test('the stated minimum Node satisfies every locked package', () => {
  assert.ok(minimum, 'package.json states engines.node');
  assert.ok(semver.satisfies(process.version, root.engines!.node!), 'this Node meets it');
  const refusing = Object.entries(read('package-lock.json').packages ?? {}).flatMap(
    ([path, entry]) => {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      return range && !semver.satisfies(minimum, range)
        ? [`${path}@${entry.version}: ${range}`]
        : [];
    },
  );
  assert.deepEqual(refusing, [], `packages that refuse Node ${minimum}`);
});

test('every workspace package states the same minimum', () => {
  for (const name of ['shared', 'client', 'server']) {
    assert.equal(read(`${name}/package.json`).engines?.node, root.engines?.node, name);
  }
});
