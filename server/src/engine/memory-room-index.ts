/**
 * The memory engine's room list index: every listed room under its `(updatedAt, roomId)` key
 * in a B+ tree (sorted-btree), so a page is a seek plus `limit` steps, O(log n + page), and an
 * activity update is one delete and one insert, O(log n): no sort of every room per call.
 */
import sortedBtree from 'sorted-btree';
import type { RoomCursor, RoomListQuery } from './engine.ts';
import { compareRoomKeys } from './room-order.ts';

const BTree = sortedBtree.default;

/** The index's API for the memory engine. */
export interface MemoryRoomIndex {
  /** Lists `roomId` at `updatedAt` (moving it when it was listed before). */
  set(roomId: string, updatedAt: number): void;
  /** Takes `roomId` out of the list. */
  delete(roomId: string): void;
  /** The keys of one page and where the next starts (null at the end). */
  page(query: RoomListQuery): { keys: RoomCursor[]; nextCursor: RoomCursor | null };
  readonly size: number;
}

/** Creates an empty index. */
export function createMemoryRoomIndex(): MemoryRoomIndex {
  const tree = new BTree<RoomCursor, true>(undefined, compareRoomKeys);
  /** Each listed room's current key (to find it in the tree when it moves). */
  const keyOf = new Map<string, RoomCursor>();

  return {
    set(roomId, updatedAt) {
      const old = keyOf.get(roomId);
      if (old?.updatedAt === updatedAt) return;
      if (old) tree.delete(old);
      const key = { updatedAt, roomId };
      keyOf.set(roomId, key);
      tree.set(key, true);
    },

    delete(roomId) {
      const old = keyOf.get(roomId);
      if (!old) return;
      tree.delete(old);
      keyOf.delete(roomId);
    },

    page({ limit, cursor, after }) {
      const keys: RoomCursor[] = [];
      // entries(low) starts at the first key ≥ low: the cursor itself, if still there, is skipped.
      for (const [key] of tree.entries(cursor)) {
        if (cursor && compareRoomKeys(key, cursor) <= 0) continue;
        if (after !== undefined && key.updatedAt <= after) break;
        if (keys.length === limit) return { keys, nextCursor: keys[keys.length - 1]! };
        keys.push(key);
      }
      return { keys, nextCursor: null };
    },

    get size() {
      return tree.size;
    },
  };
}
