/**
 * An immutable string-keyed map with O(log32 n) get, set and delete (a hash array mapped trie):
 * a change copies one path of small nodes and shares everything else, so a room of 10,000 peers
 * costs about what a room of 20 costs per event. The reducer keeps a room's `peers`, `departed`
 * and `departedBy` in it and shows them as plain records only when someone reads them
 * (`trieRecord`, built once per trie).
 *
 * `trieRecord` lists keys in insertion order, like an object whose keys were set one by one (an
 * overwritten key keeps its place): every entry carries the rank it was first inserted at.
 *
 * Kept small on purpose (it ships in the browser client, hence the short property names): a
 * node is a sparse array of 32 slots indexed by 5 bits of the key's hash; once the hash's bits
 * are used up, a node is a plain list of the leaves whose hashes are equal.
 */

/** One key (`k`) and its value (`v`), with its hash (`h`) and insertion rank (`r`). */
interface Leaf<V> {
  k: string;
  v: V;
  h: number;
  r: number;
}

/** Up to 32 slots (leaf, deeper node, or nothing); past the hash bits, a list of leaves. */
type Node<V> = (Leaf<V> | Node<V> | undefined)[];

/** An immutable map; build and change it only through the functions below. */
export interface HashTrie<V> {
  /** root node */
  readonly n: Node<V>;
  /** number of keys */
  readonly size: number;
  /** rank of the next new key */
  readonly r: number;
  /** the record, once built (a trie never changes, so neither does its record) */
  o?: Record<string, V>;
}

/** Depth at which the 32 hash bits are used up: nodes there are lists. */
const LIST_SHIFT = 35;

/** 32-bit FNV-1a of the key's UTF-16 code units (exported for tests). */
export function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

const slot = (hash: number, shift: number) => (hash >>> shift) & 31;

function find<V>(node: Node<V>, key: string, hash: number): Leaf<V> | undefined {
  for (let shift = 0; shift < LIST_SHIFT; shift += 5) {
    const child = node[slot(hash, shift)];
    if (!Array.isArray(child)) return child?.k === key ? child : undefined;
    node = child;
  }
  return (node as Leaf<V>[]).find((leaf) => leaf.k === key);
}

/** `node` with `leaf` set (replacing the leaf of the same key). */
function put<V>(node: Node<V>, leaf: Leaf<V>, shift: number): Node<V> {
  const copy = node.slice();
  if (shift >= LIST_SHIFT) {
    const at = copy.findIndex((l) => (l as Leaf<V>).k === leaf.k);
    copy[at < 0 ? copy.length : at] = leaf;
    return copy;
  }
  const i = slot(leaf.h, shift);
  const child = copy[i];
  copy[i] = Array.isArray(child)
    ? put(child, leaf, shift + 5)
    : child === undefined || child.k === leaf.k
      ? leaf
      : put(put([], child, shift + 5), leaf, shift + 5);
  return copy;
}

/** `node` without `key` (the same node when absent; undefined once empty). */
function cut<V>(node: Node<V>, key: string, hash: number, shift: number): Node<V> | undefined {
  let copy: Node<V>;
  if (shift >= LIST_SHIFT) {
    copy = node.filter((l) => (l as Leaf<V>).k !== key);
    if (copy.length === node.length) return node;
  } else {
    const i = slot(hash, shift);
    const child = node[i];
    const next = Array.isArray(child)
      ? cut(child, key, hash, shift + 5)
      : child?.k === key
        ? undefined
        : child;
    if (next === child) return node;
    copy = node.slice();
    copy[i] = next;
  }
  return copy.some((c) => c !== undefined) ? copy : undefined;
}

function collect<V>(node: Node<V>, into: Leaf<V>[]): Leaf<V>[] {
  for (const child of node) {
    if (Array.isArray(child)) collect(child, into);
    else if (child !== undefined) into.push(child);
  }
  return into;
}

/** The empty trie. */
export function emptyTrie<V>(): HashTrie<V> {
  return { n: [], size: 0, r: 0 };
}

/** A trie of a record's own enumerable entries, in its key order (O(n), done once). */
export function trieOf<V>(record: Record<string, V>): HashTrie<V> {
  let trie = emptyTrie<V>();
  for (const key of Object.keys(record)) trie = trieSet(trie, key, record[key]!);
  trie.o = record;
  return trie;
}

/** The value of `key`, or undefined. */
export function trieGet<V>(trie: HashTrie<V>, key: string): V | undefined {
  return find(trie.n, key, hashOf(key))?.v;
}

/** A trie with `key` set to `value` (the same trie when it holds that very value already). */
export function trieSet<V>(trie: HashTrie<V>, key: string, value: V): HashTrie<V> {
  const h = hashOf(key);
  const old = find(trie.n, key, h);
  if (old !== undefined && old.v === value) return trie;
  const n = put(trie.n, { k: key, v: value, h, r: old?.r ?? trie.r }, 0);
  return { n, size: trie.size + (old ? 0 : 1), r: trie.r + 1 };
}

/** A trie without `key` (the same trie when the key is absent). */
export function trieDelete<V>(trie: HashTrie<V>, key: string): HashTrie<V> {
  const n = cut(trie.n, key, hashOf(key), 0);
  return n === trie.n ? trie : { n: n ?? [], size: trie.size - 1, r: trie.r };
}

/** The keys, in insertion order. */
export function trieKeys(trie: HashTrie<unknown>): string[] {
  return Object.keys(trieRecord(trie));
}

/**
 * The entries as an ordinary JSON object (O(n) once, then cached). Do not mutate it: every
 * state holding this trie shares it.
 */
export function trieRecord<V>(trie: HashTrie<V>): Record<string, V> {
  if (trie.o === undefined) {
    // A null-prototype draft, so that a key called `__proto__` is an ordinary key.
    const draft: Record<string, V> = Object.create(null);
    for (const leaf of collect(trie.n, []).sort((a, b) => a.r - b.r)) draft[leaf.k] = leaf.v;
    trie.o = Object.setPrototypeOf(draft, Object.prototype) as Record<string, V>;
  }
  return trie.o;
}
