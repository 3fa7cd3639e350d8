import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emptyTrie,
  hashOf,
  trieDelete,
  trieGet,
  trieKeys,
  trieOf,
  trieRecord,
  trieSet,
} from '../shared/src/hash-trie.ts';
import type { HashTrie } from '../shared/src/hash-trie.ts';

type Op = readonly [string, number | undefined];

/** Applies `ops` (undefined value = delete) to a trie and to a Map, the model. */
function run(
  ops: readonly Op[],
  each?: (trie: HashTrie<number>, model: Map<string, number>) => void,
) {
  let trie = emptyTrie<number>();
  const model = new Map<string, number>();
  for (const [key, value] of ops) {
    if (value === undefined) {
      trie = trieDelete(trie, key);
      model.delete(key);
    } else {
      trie = trieSet(trie, key, value);
      model.set(key, value);
    }
    each?.(trie, model);
  }
  return { trie, model };
}

/** The record a plain object gets when the model's entries are set in its order. */
function recordOf(model: Map<string, number>): Record<string, number> {
  const record: Record<string, number> = {};
  for (const [k, v] of model)
    Object.defineProperty(record, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return record;
}

describe('hash trie', () => {
  it('behaves like a Map, keeps every version, and lists keys as an object would', () => {
    // A small key pool makes overwrites and deletes frequent; prototype names and index-like keys included.
    const key = fc.oneof(
      fc.constantFrom('a', 'b', '__proto__', 'constructor', 'toString', '0', '17'),
      fc.string({ maxLength: 3 }),
    );
    const op = fc.tuple(key, fc.option(fc.integer(), { nil: undefined }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const versions: [HashTrie<number>, Record<string, number>][] = [];
        run(ops, (trie, model) => {
          assert.equal(trie.size, model.size);
          for (const [k, v] of model) assert.equal(trieGet(trie, k), v);
          versions.push([trie, recordOf(model)]);
        });
        // Older versions are untouched by later changes; records are ordinary objects.
        for (const [trie, expected] of versions) {
          const record = trieRecord(trie);
          assert.equal(Object.getPrototypeOf(record), Object.prototype);
          assert.deepEqual(Object.keys(record), Object.keys(expected));
          assert.deepEqual(record, expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays right through growth and shrinkage (deep nodes, equal hashes)', () => {
    const ops: Op[] = [];
    for (let i = 0; i < 5000; i++) ops.push([`peer-${i}`, i]);
    for (let i = 0; i < 5000; i += 2) ops.push([`peer-${i}`, undefined]);
    // Keys whose 32-bit hashes are equal share a list node: find a few pairs by brute force.
    const byHash = new Map<number, string>();
    for (let i = 0, pairs = 0; pairs < 3; i++) {
      const k = `k${i}`;
      const other = byHash.get(hashOf(k));
      if (other === undefined) byHash.set(hashOf(k), k);
      else {
        ops.push([other, i], [k, -i], [other, undefined], [other, i], [k, i]);
        pairs++;
      }
    }
    const result = run(ops);
    const { model } = result;
    let { trie } = result;
    assert.equal(trie.size, model.size);
    assert.deepEqual(trieKeys(trie), [...model.keys()]);
    for (const [k, v] of model) assert.equal(trieGet(trie, k), v);
    for (const k of model.keys()) trie = trieDelete(trie, k);
    assert.equal(trie.size, 0);
    assert.deepEqual(trieRecord(trie), {});
  });

  it('trieOf keeps the record and its order; an unchanged set or delete is the same trie', () => {
    const record = { b: 1, a: 2 };
    const trie = trieOf(record);
    assert.equal(trieRecord(trie), record);
    assert.equal(trieSet(trie, 'a', 2), trie);
    assert.equal(trieDelete(trie, 'zzz'), trie);
    assert.deepEqual(trieKeys(trieSet(trie, 'a', 3)), ['b', 'a']);
  });
});
