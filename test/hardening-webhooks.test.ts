/**
 * Attacks on the webhook route, through real sockets (docs/reliability.md, "Attacks"): forged
 * webhooks refused before their body is read, refusals rate-limited per IP, a body limit near
 * what Huddle01 really sends.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventPayloads } from '../shared/src/index.ts';
import { signRawWebhook } from '../server/src/webhooks/sign-webhook.ts';
import { configFromEnv } from '../server/src/config.ts';
import { TEST_KEY, postWebhook, startServer, webhookId } from './helpers/server.ts';
import { rawExchange, stillServes } from './helpers/attack.ts';

/** A POST of the webhook route's headers only: the body (`length` bytes announced) never comes. */
function headersOnly(length: number, signature?: string): string {
  return (
    `POST /webhooks/huddle01 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n` +
    `Content-Length: ${length}\r\n${signature === undefined ? '' : `huddle01-signature: ${signature}\r\n`}\r\n`
  );
}

/**
 * The largest realistic Huddle01 payload: recording:ended of an 8-hour meeting recorded in
 * 10-minute files (48), each with a presigned URL of about 1 KB (S3 with a session token), and
 * as many HLS streams.
 */
export function largestRealisticPayload(roomId: string): EventPayloads['recording:ended'] {
  const presigned = (name: string) =>
    `https://huddle01-recordings.s3.ap-south-1.amazonaws.com/prj_4f1c2e9a/${roomId}/${name}` +
    `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA${'X'.repeat(16)}%2F20260101%2Fap-south-1%2Fs3%2Faws4_request` +
    `&X-Amz-Date=20260101T000000Z&X-Amz-Expires=604800&X-Amz-Security-Token=${'T'.repeat(600)}` +
    `&X-Amz-SignedHeaders=host&X-Amz-Signature=${'a'.repeat(64)}`;
  const start = 1_790_000_000_000;
  return {
    id: `rec_${roomId}`,
    roomId,
    sessionId: 'sess_8c7d6e5f4a3b2c1d',
    files: Array.from({ length: 48 }, (_, i) => ({
      duration: 600,
      size: 96_000_000 + i,
      filename: `${roomId}-seg-${String(i).padStart(3, '0')}.mp4`,
      location: presigned(`seg-${i}.mp4`),
      cid: `bafybeig${'q'.repeat(51)}`,
    })),
    streams: Array.from({ length: 48 }, (_, i) => ({
      duration: 600,
      url: presigned(`hls-${i}.m3u8`),
      startedAt: start + i * 600_000,
      endedAt: start + (i + 1) * 600_000,
    })),
  };
}

describe('attack: forged webhooks that are expensive to refuse (item 4)', () => {
  test('a missing, malformed or stale signature is refused before a byte of the body is read', async () => {
    const server = await startServer({ webhookRefusalLimit: 0 });
    try {
      const stale = `t=${Date.now() - 3_600_000},sha256=${'0'.repeat(64)}`;
      for (const signature of [undefined, 'garbage', `t=${Date.now()},sha256=abc`, stale]) {
        // 100 KB announced and never sent: only an answer from the headers can come back.
        const answer = await rawExchange(server.url, headersOnly(100_000, signature), {
          waitMs: 1500,
          firstAnswer: true,
        });
        assert.match(answer, /^HTTP\/1\.1 401/, `${signature}: answered from the headers`);
      }
      await stillServes(server.wsUrl);
    } finally {
      await server.close();
    }
  });

  test('refused webhooks are rate-limited per IP: past the limit, 429 before the body', async () => {
    const server = await startServer({ webhookRefusalLimit: 5 });
    try {
      const forged = () => `t=${Date.now()},sha256=${'0'.repeat(64)}`; // fresh, well-formed, wrong
      for (let i = 0; i < 5; i++) {
        const answer = await postWebhook(
          server,
          'meeting:started',
          { roomId: 'x' },
          { header: forged() },
        );
        assert.equal(answer.status, 401);
      }
      const answer = await rawExchange(server.url, headersOnly(100_000, forged()), {
        waitMs: 1500,
        firstAnswer: true,
      });
      assert.match(answer, /^HTTP\/1\.1 429/);
      assert.match(answer, /retry-after: \d+/i);
      assert.match(answer, /RATE_LIMITED/);
      // Subscribers are not affected.
      await stillServes(server.wsUrl);
    } finally {
      await server.close();
    }
  });

  test('on by default: 60 refusals a minute per IP', () => {
    assert.equal(configFromEnv({}).webhookRefusalLimit, 60);
  });

  test("the default body limit is near what Huddle01 sends: its largest realistic payload fits, 300 KB doesn't", async () => {
    const server = await startServer({ webhookRefusalLimit: 0 });
    try {
      const limit = configFromEnv({}).webhookMaxBytes;
      assert.equal(limit, 256 * 1024);
      const id = webhookId();
      const text = JSON.stringify({
        id,
        event: 'recording:ended',
        payload: largestRealisticPayload('big-recording'),
      });
      assert.ok(text.length > 50_000 && text.length < limit / 2, `measured ${text.length} bytes`);
      const accepted = await postWebhook(server, 'recording:ended', null, { raw: text, id });
      assert.equal(accepted.status, 200);
      // Over the limit: refused from Content-Length, before the body is read.
      const tooLarge = await rawExchange(
        server.url,
        headersOnly(300_000, signRawWebhook('{"id":"x"}', 'x', TEST_KEY)),
        { waitMs: 1500, firstAnswer: true },
      );
      assert.match(tooLarge, /^HTTP\/1\.1 413/);
    } finally {
      await server.close();
    }
  });
});
