/**
 * How the Redis engine remembers webhook ids compactly. An id is kept as a 12-byte fingerprint
 * (SHA-256 prefix: two ids collide with odds of about n² / 2⁹⁷, nothing next to a lost Redis) in
 * time slices of a quarter of the dedup window:
 * - in its room's slot, a hash per slice (`room:{r}:ids:<slice>`, fingerprint → 1): the append
 *   script's atomic duplicate check, one marker per webhook (a room's slice stays a compact
 *   listpack up to Redis's hash-max-listpack-entries, 128 by default);
 * - room-independent (track events, `seen`), 12 bytes appended to one of 4,096 strings per slice
 *   (`seen:{<3 hex>}:<slice>`), all slices of one string in one Cluster slot. Few strings keep
 *   the per-key overhead small; a lookup scans its string (at 2,000 webhooks/s, about 130 KB).
 * An id is found for at least the dedup window: the lookups cover the current slice and the
 * DEDUP_SLICES before it, and a slice expires once no lookup covers it any more.
 */
import { createHash } from 'node:crypto';

/** Slices per dedup window. */
export const DEDUP_SLICES = 4;

/** Bytes of a fingerprint. */
export const FINGERPRINT_BYTES = 12;

/** Length of one slice, ms. */
export function sliceMs(dedupWindow: number): number {
  return Math.max(1000, Math.ceil(dedupWindow / DEDUP_SLICES));
}

/** Where `at` falls, and when that slice's keys may go. */
export function sliceAt(at: number, dedupWindow: number): { slice: number; expireAt: number } {
  const length = sliceMs(dedupWindow);
  const slice = Math.floor(at / length);
  return { slice, expireAt: (slice + DEDUP_SLICES + 1) * length };
}

/** The fingerprint of a webhook id. */
export function fingerprint(webhookId: string): Buffer {
  return createHash('sha256').update(webhookId).digest().subarray(0, FINGERPRINT_BYTES);
}

/** The room-independent bucket of a fingerprint: its first 12 bits, as 3 hex digits. */
export function bucketOf(print: Buffer): string {
  return print.subarray(0, 2).toString('hex').slice(0, 3);
}
