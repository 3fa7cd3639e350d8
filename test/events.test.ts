/**
 * Event schemas: every known event parses, optional fields stay optional, unknown fields are
 * kept, bad payloads are refused. The type-level checks below are proven by `npm run typecheck`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WebhookEvents } from '@huddle01/server-sdk/webhooks';
import { EVENT_NAMES, payloadSchemas, webhookSchema } from '../shared/src/index.ts';
import type { EventPayloads } from '../shared/src/index.ts';
import { samplePayload } from '../server/src/cli/sample-payloads.ts';

// Type-level test: each inferred payload type is assignable to the SDK's WebhookEvents type.
// A schema that loosened a required field, or changed a type, fails `tsc`.
type SdkPayload<K extends keyof WebhookEvents> = WebhookEvents[K][0];
type Assignable<K extends keyof WebhookEvents> =
  EventPayloads[K] extends SdkPayload<K> ? true : false;
const sdkConformance: { [K in keyof WebhookEvents]: Assignable<K> } = {
  'meeting:started': true,
  'meeting:ended': true,
  'peer:joined': true,
  'peer:left': true,
  'peer:trackPublished': true,
  'peer:trackUnpublished': true,
  'recording:started': true,
  'recording:ended': true,
  'recording:updated': true,
};
// And every SDK event name is one we know.
const sdkNamesKnown: keyof WebhookEvents extends keyof EventPayloads ? true : false = true;

describe('event schemas', () => {
  test('the SDK event set and the docs variant are all known', () => {
    assert.equal(sdkNamesKnown, true);
    for (const name of Object.keys(sdkConformance))
      assert.ok(EVENT_NAMES.includes(name as never), name);
    assert.ok(EVENT_NAMES.includes('recording:stopped'));
  });

  test('a realistic payload of every event parses, as a whole webhook too', () => {
    for (const event of EVENT_NAMES) {
      const payload = samplePayload(event, { roomId: 'room-x', peerId: 'peerId--abc' });
      assert.equal(payloadSchemas[event].safeParse(payload).success, true, event);
      const parsed = webhookSchema.safeParse({ id: 'w1', event, payload });
      assert.equal(parsed.success, true, event);
      if (parsed.success) assert.equal(parsed.data.event, event);
    }
  });

  test('optional fields stay optional; unknown fields are kept, not stripped', () => {
    const minimal = { id: 'p', sessionId: 's', roomId: 'r', joinedAt: 1, browser: {}, device: {} };
    assert.equal(payloadSchemas['peer:joined'].safeParse(minimal).success, true);
    const extended = {
      ...minimal,
      browser: { name: 'Firefox', engine: 'Gecko' },
      newField: { nested: true },
    };
    const parsed = payloadSchemas['peer:joined'].parse(extended) as Record<string, unknown>;
    assert.deepEqual(parsed.newField, { nested: true });
    assert.equal((parsed.browser as Record<string, unknown>).engine, 'Gecko');
  });

  test('recording:stopped needs only {id, roomId}; cid and ipfsUrl are accepted', () => {
    assert.equal(
      payloadSchemas['recording:stopped'].safeParse({ id: 'rec', roomId: 'r' }).success,
      true,
    );
    const withCid = payloadSchemas['recording:started'].parse({
      id: 'rec',
      roomId: 'r',
      sessionId: 's',
      files: [],
      streams: [],
      cid: 'bafy',
      ipfsUrl: 'ipfs://bafy',
    });
    assert.equal(withCid.cid, 'bafy');
  });

  test('missing required fields and wrong types are refused', () => {
    assert.equal(payloadSchemas['peer:joined'].safeParse({ id: 'p', roomId: 'r' }).success, false);
    assert.equal(
      payloadSchemas['meeting:started'].safeParse({
        sessionId: 's',
        roomId: 'r',
        createdAt: 'yesterday',
      }).success,
      false,
    );
    assert.equal(payloadSchemas['peer:trackPublished'].safeParse({ id: 'p' }).success, false);
    assert.equal(webhookSchema.safeParse({ id: 'w', event: 'nope', payload: {} }).success, false);
  });

  test('a roomId no subscriber could name (whitespace, control characters, over 200) is refused', () => {
    for (const roomId of ['with space', 'tab\there', '', 'x'.repeat(201)]) {
      const payload = { sessionId: 's', roomId, createdAt: 1 };
      assert.equal(payloadSchemas['meeting:started'].safeParse(payload).success, false, roomId);
    }
    const odd = { sessionId: 's', roomId: '__proto__', createdAt: 1 };
    assert.equal(payloadSchemas['meeting:started'].safeParse(odd).success, true);
  });
});
