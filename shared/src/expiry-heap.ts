/**
 * An immutable min-heap of (time, id) entries: when does the next presence grace run out.
 *
 * A leftist heap, so push and pop are O(log n) worst case and every version stays valid (the
 * reducer never mutates a state it was given). Entries are never removed early: the reducer
 * pops an entry when its time comes and checks that it still describes the peer (a rejoin or a
 * later leave makes it stale), which keeps every change O(log n) without an index into the heap.
 */

/** A heap node; `null` is the empty heap. */
export type ExpiryHeap = {
  readonly at: number;
  readonly id: string;
  readonly rank: number;
  readonly left: ExpiryHeap;
  readonly right: ExpiryHeap;
} | null;

const rank = (heap: ExpiryHeap) => (heap === null ? 0 : heap.rank);

function merge(a: ExpiryHeap, b: ExpiryHeap): ExpiryHeap {
  if (a === null) return b;
  if (b === null) return a;
  if (b.at < a.at) [a, b] = [b, a];
  const merged = merge(a.right, b);
  // Leftist: the shorter spine goes right, so every merge walks O(log n) nodes.
  const [left, right] = rank(a.left) >= rank(merged) ? [a.left, merged] : [merged, a.left];
  return { at: a.at, id: a.id, rank: rank(right) + 1, left, right };
}

/** The heap with (at, id) added. */
export function heapPush(heap: ExpiryHeap, at: number, id: string): ExpiryHeap {
  return merge(heap, { at, id, rank: 1, left: null, right: null });
}

/** The heap without its earliest entry (the heap itself when empty). */
export function heapPop(heap: ExpiryHeap): ExpiryHeap {
  return heap === null ? null : merge(heap.left, heap.right);
}
