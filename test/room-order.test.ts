/**
 * The room list's order and cursors (server/src/engine/room-order.ts): ids compare in UTF-8 byte
 * order, as Redis orders members of equal score, for any string; a cursor survives its text
 * form; text the server could not have made is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compareIds, decodeRoomCursor, encodeRoomCursor } from '../server/src/engine/room-order.ts';

test('compareIds orders any two ids as their UTF-8 bytes (Redis order)', () => {
  const id = fc.string({ unit: 'binary', maxLength: 6 });
  fc.assert(
    fc.property(id, id, (a, b) => {
      const bytes = Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
      assert.equal(Math.sign(compareIds(a, b)), bytes);
    }),
    { numRuns: 2000 },
  );
});

test('a cursor survives its text form; other text is refused', () => {
  fc.assert(
    fc.property(
      fc.nat({ max: 2 ** 45 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      (updatedAt, roomId) => {
        assert.deepEqual(decodeRoomCursor(encodeRoomCursor({ updatedAt, roomId })), {
          updatedAt,
          roomId,
        });
      },
    ),
  );
  for (const text of ['', '!!', 'x'.repeat(401), Buffer.from('12').toString('base64url')]) {
    assert.equal(decodeRoomCursor(text), undefined, text);
  }
  assert.equal(decodeRoomCursor(Buffer.from('-1:r').toString('base64url')), undefined);
});
