/**
 * `REDIS_URL=rediss://…`: a roomcast node (a child process, so that NODE_EXTRA_CA_CERTS can
 * trust a throwaway CA) talks TLS to a real redis-server on its TLS port: ready, a webhook is
 * appended, the snapshot reads it back. Skipped (loudly) when the binary has no TLS or openssl
 * is missing, outside CI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { meetingStarted } from './helpers/payloads.ts';
import { startNode } from './helpers/node-process.ts';
import { freePort, launchRedis, redisTestsCanRun } from './helpers/redis-server.ts';
import { postWebhook, testToken } from './helpers/server.ts';

/** A self-signed certificate for 127.0.0.1 (its own CA), or undefined without openssl. */
function makeCertificate(dir: string): { cert: string; key: string } | undefined {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    return { cert, key };
  } catch {
    return undefined;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'roomcast-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const certificate = redisTestsCanRun() ? makeCertificate(dir) : undefined;
if (!certificate && process.env.CI === 'true' && redisTestsCanRun()) {
  throw new Error('openssl is missing: the TLS test cannot run on CI');
}

if (!certificate) {
  test('redis over TLS (skipped: no redis-server or no openssl)', { skip: true }, () => {});
} else {
  test('rediss:// reaches a TLS redis-server: ready, appended, read back', async (t) => {
    const tlsPort = await freePort();
    const redis = await launchRedis({
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        certificate.cert,
        '--tls-key-file',
        certificate.key,
        '--tls-ca-cert-file',
        certificate.cert,
        '--tls-auth-clients',
        'no',
      ],
    });
    t.after(() => redis.close());
    // The node knows only the TLS port: whatever it stored went over TLS.
    const node = await startNode({
      REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
      NODE_EXTRA_CA_CERTS: certificate.cert,
    });
    t.after(() => node.kill());
    assert.equal((await fetch(`${node.url}/readyz`)).status, 200, node.output());
    const answer = await postWebhook(node, 'meeting:started', meetingStarted('tls-room'));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const token = await testToken();
    const snapshot = (await (
      await fetch(`${node.url}/rooms/tls-room`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { seq: number };
    assert.equal(snapshot.seq, 1);
  });
}
