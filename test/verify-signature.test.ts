/**
 * The node:crypto verifier against the SDK's WebhookReceiver.receive(): a differential property
 * test over ≥ 10,000 generated inputs (valid, tampered, wrong key, malformed and reordered
 * headers, reordered keys, unicode, escapes, big numbers, sha512, missing id), plus freshness.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { WebhookReceiver } from '@huddle01/server-sdk/webhooks';
import { createHmacOf } from '../server/src/webhooks/hmac.ts';
import { signWebhook } from '../server/src/webhooks/sign-webhook.ts';
import {
  MAX_BODY_DEPTH,
  checkFreshness,
  createSignatureVerifier,
  verifySignature,
} from '../server/src/webhooks/verify-signature.ts';

const KEY = 'differential-key';
const receiver = new WebhookReceiver({ apiKey: KEY });
/** Made once, as the webhook route makes it. */
const verifyWithKey = createSignatureVerifier([KEY]);

/** The SDK's verdict: true when receive() resolves. */
async function sdkAccepts(raw: string, header: string | undefined): Promise<boolean> {
  try {
    await receiver.receive(raw, header);
    return true;
  } catch {
    return false;
  }
}

function hmac(algorithm: string, key: string, text: string): string {
  return createHmac(algorithm, key).update(text).digest('hex');
}

/** Re-serializes text with every object's keys reversed (same data, other text order). */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  }
  return value;
}

const idArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
  fc.constantFrom('', '0', 'wh_1'),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
);

const payloadArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({
    roomId: fc.string(),
    joinedAt: fc.double({ noNaN: true }),
    big: fc.constantFrom(1e21, 2 ** 60, Number.POSITIVE_INFINITY, -0, 0.1),
  }),
);

const bodyArb = fc.record(
  {
    id: idArb,
    event: fc.constantFrom('peer:joined', 'meeting:started', 'x'),
    payload: payloadArb,
    extra: fc.string({ unit: 'grapheme' }),
  },
  { requiredKeys: ['event'] },
);

const caseArb = fc.record({
  body: bodyArb,
  indent: fc.constantFrom(undefined, 0, 2),
  escapeUnicode: fc.boolean(),
  hugeNumbers: fc.boolean(),
  timestamp: fc.oneof(
    fc.constantFrom(String(Date.now()), '0', 'abc', '', '1.5', '-1', ' 1'),
    fc.nat().map(String),
  ),
  algorithm: fc.constantFrom('sha256', 'sha512'),
  key: fc.constantFrom(KEY, KEY, KEY, 'wrong-key', ''),
  mutation: fc.constantFrom(
    'none',
    'none',
    'none',
    'tamperBody',
    'reorderKeys',
    'spaceAfterComma',
    'upperAlgorithm',
    'swapParts',
    'dropT',
    'extraPart',
    'upperHex',
    'truncate',
    'noHeader',
    'sha1',
    'renameT',
    'notJson',
  ),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function buildCase(c: Case): { raw: string; header: string | undefined } {
  let raw = JSON.stringify(c.body, null, c.indent);
  if (raw === undefined) raw = 'null';
  if (c.escapeUnicode)
    raw = raw.replace(
      /[\u007f-\uffff]/g,
      (ch: string) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  // Number texts that JSON.parse cannot keep as written (the signature covers the re-serialized form).
  if (c.hugeNumbers)
    raw = `{"huge":1e400,"long":123456789012345678901234567890,"tiny":-1e-400,${raw.slice(1)}`;
  // Sign exactly as Huddle01 does (over the normalized text; SDK semantics for the id).
  let normalized: unknown;
  try {
    normalized = JSON.parse(raw);
  } catch {
    normalized = null;
  }
  const id =
    normalized && typeof normalized === 'object' ? `${(normalized as { id?: unknown }).id}` : '';
  const signature = `${c.algorithm}=${hmac(c.algorithm, c.key || 'x', `${id}.${c.timestamp}.${JSON.stringify(normalized)}`)}`;
  let header: string | undefined = `t=${c.timestamp},${signature}`;
  switch (c.mutation) {
    case 'tamperBody':
      raw = raw.replace(/[0-9a-z]/, (ch: string) => (ch === 'a' ? 'b' : 'a'));
      break;
    case 'reorderKeys':
      raw = JSON.stringify(reverseKeys(JSON.parse(raw)));
      break;
    case 'spaceAfterComma':
      header = header.replace(',', ', ');
      break;
    case 'upperAlgorithm':
      header = header.replace(c.algorithm, c.algorithm.toUpperCase());
      break;
    case 'swapParts':
      header = `${signature},t=${c.timestamp}`;
      break;
    case 'dropT':
      header = signature;
      break;
    case 'extraPart':
      header = `${header},v=2`;
      break;
    case 'upperHex':
      header = `t=${c.timestamp},${c.algorithm}=${signature.split('=')[1]!.toUpperCase()}`;
      break;
    case 'truncate':
      header = header.slice(0, -2);
      break;
    case 'noHeader':
      header = undefined;
      break;
    case 'sha1':
      header = `t=${c.timestamp},sha1=${hmac('sha1', c.key || 'x', 'x')}`;
      break;
    case 'renameT':
      header = header.replace('t=', 'ts=');
      break;
    case 'notJson':
      raw = raw.slice(0, -1);
      break;
  }
  return { raw, header };
}

describe('verifySignature', () => {
  test('accepts and rejects exactly what the SDK receive() does (10,000 inputs)', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { raw, header } = buildCase(c);
        const ours = verifyWithKey(raw, header).ok;
        const theirs = await sdkAccepts(raw, header);
        if (ours) accepted++;
        assert.equal(ours, theirs, `raw=${raw} header=${header}`);
      }),
      { numRuns: 10_000 },
    );
    // The generator must exercise both verdicts, not only refusals.
    assert.ok(accepted > 500, `only ${accepted} accepted cases`);
  });

  test('a key list accepts any of its keys (rotation)', () => {
    const raw = JSON.stringify({ id: 'a', event: 'x', payload: {} });
    const header = `t=1,sha256=${hmac('sha256', 'old', `a.1.${raw}`)}`;
    assert.equal(verifySignature(raw, header, ['new', 'old']).ok, true);
    assert.equal(verifySignature(raw, header, ['new']).ok, false);
    assert.equal(createSignatureVerifier(['new', 'old'])(raw, header).ok, true);
  });

  test(`bodies nest at most ${MAX_BODY_DEPTH} levels, the body itself being the first`, () => {
    // `{"n":{"n":…{}}}` with `levels` objects in all, signed correctly.
    const nested = (levels: number): Record<string, unknown> =>
      levels === 1 ? {} : { n: nested(levels - 1) };
    const signed = (levels: number) =>
      signWebhook({ id: 'deep', ...nested(levels) }, KEY, { timestamp: 1 });
    const atLimit = signed(MAX_BODY_DEPTH);
    assert.equal(verifyWithKey(atLimit.body, atLimit.signature).ok, true);
    const past = signed(MAX_BODY_DEPTH + 1);
    const refused = verifyWithKey(past.body, past.signature);
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.code, 'INVALID_BODY');
  });
});

describe('createHmacOf', () => {
  test('gives the bytes createHmac gives, for any key and message (sha256, sha512)', () => {
    // Keys shorter than, equal to and longer than the block (longer ones are hashed first);
    // messages with multi-byte characters, lone surrogates, and past the reused buffer.
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.constantFrom('', 'é'.repeat(40_000), 'x'.repeat(70_000)),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('sha256' as const, 'sha512' as const),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.array(text, { minLength: 1, maxLength: 3 }),
        (algorithm, key, messages) => {
          const macOf = createHmacOf(algorithm, key);
          for (const message of messages) {
            const expected = createHmac(algorithm, key).update(message).digest();
            assert.deepEqual(macOf(message), expected);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('checkFreshness', () => {
  const now = 1_800_000_000_000;
  const fiveMinutes = 300_000;
  test('inside ±5 min passes, outside fails', () => {
    assert.equal(checkFreshness(String(now), now, fiveMinutes), undefined);
    assert.equal(checkFreshness(String(now - fiveMinutes + 1), now, fiveMinutes), undefined);
    assert.equal(checkFreshness(String(now + fiveMinutes - 1), now, fiveMinutes), undefined);
    assert.equal(
      checkFreshness(String(now - fiveMinutes - 1), now, fiveMinutes)?.code,
      'TIMESTAMP_INVALID',
    );
    assert.equal(
      checkFreshness(String(now + fiveMinutes + 1), now, fiveMinutes)?.code,
      'TIMESTAMP_INVALID',
    );
  });
  test('seconds are recognised', () => {
    assert.equal(checkFreshness(String(now / 1000), now, fiveMinutes), undefined);
    assert.equal(
      checkFreshness(String(now / 1000 - 301), now, fiveMinutes)?.code,
      'TIMESTAMP_INVALID',
    );
  });
  test('non-numeric, negative, empty and huge values are refused', () => {
    for (const t of ['abc', '-1', '', '1e12', ' 1', '0x10', '99999999999999999999']) {
      assert.equal(checkFreshness(t, now, fiveMinutes)?.code, 'TIMESTAMP_INVALID', t);
    }
  });
  test('property: the verdict is |now − t(ms)| ≤ tolerance', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10 * fiveMinutes, max: 10 * fiveMinutes }), (offset) => {
        const verdict = checkFreshness(String(now + offset), now, fiveMinutes) === undefined;
        assert.equal(verdict, Math.abs(offset) <= fiveMinutes);
      }),
    );
  });
});
