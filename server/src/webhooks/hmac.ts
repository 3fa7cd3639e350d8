/**
 * HMAC-SHA256/512 of text messages with a fixed key, for the webhook route's hot path.
 *
 * The same bytes as `createHmac(algorithm, key).update(message).digest()` (RFC 2104, checked by
 * a property test against node:crypto), computed as two one-shot `crypto.hash` calls over the
 * key's precomputed inner and outer pads. In the server, `createHmac` spent most of its time
 * setting up OpenSSL 3's HMAC context for every call (`npm run bench -- ingest --cpu-prof`);
 * the one-shot hash (Node ≥ 20.12; package.json asks for ≥ 20.19) reuses a cached digest.
 */
import { hash } from 'node:crypto';

/** The digests a Huddle01 signature may use. */
export type HmacAlgorithm = 'sha256' | 'sha512';

/** HMAC of one message (its UTF-8 bytes) with the key the function was made for. */
export type HmacOf = (message: string) => Buffer;

const BLOCK_BYTES: Record<HmacAlgorithm, number> = { sha256: 64, sha512: 128 };

/** Messages up to this many bytes reuse one buffer; a longer one gets its own. */
const REUSED_BYTES = 64 * 1024;

/** Makes the HMAC function of `algorithm` for one key (given as text, as Huddle01 keys are). */
export function createHmacOf(algorithm: HmacAlgorithm, key: string): HmacOf {
  const block = BLOCK_BYTES[algorithm];
  let keyBytes = Buffer.from(key, 'utf8');
  if (keyBytes.length > block) keyBytes = hash(algorithm, keyBytes, 'buffer');
  const innerPad = Buffer.alloc(block, 0x36);
  const outerPad = Buffer.alloc(block, 0x5c);
  for (let i = 0; i < keyBytes.length; i++) {
    innerPad[i]! ^= keyBytes[i]!;
    outerPad[i]! ^= keyBytes[i]!;
  }
  // Reused across calls (the route is synchronous between them): the inner pad followed by the
  // message, and the outer pad followed by the inner digest.
  const reused = Buffer.allocUnsafe(block + REUSED_BYTES);
  innerPad.copy(reused);
  // Both digests are half their block: 32 bytes for SHA-256, 64 for SHA-512.
  const outer = Buffer.alloc(block + block / 2);
  outerPad.copy(outer);
  return (message) => {
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    let inner = reused;
    if (3 * message.length > REUSED_BYTES) {
      inner = Buffer.allocUnsafe(block + 3 * message.length);
      innerPad.copy(inner);
    }
    const written = inner.write(message, block, 'utf8');
    hash(algorithm, inner.subarray(0, block + written), 'buffer').copy(outer, block);
    return hash(algorithm, outer, 'buffer');
  };
}
