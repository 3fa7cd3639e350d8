/**
 * Shutdown under attack-free but real conditions (docs/reliability.md, "Attacks"): SIGTERM sent
 * to `npm start` itself reaches the server (it drains, closes WebSockets with 1012 and frees the
 * port), and a webhook in flight at SIGTERM is answered, not cut.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { meetingStarted } from './helpers/payloads.ts';
import { TEST_KEY, TEST_SECRET, testToken, webhookId } from './helpers/server.ts';
import { signRawWebhook } from '../server/src/webhooks/sign-webhook.ts';
import { startNode } from './helpers/node-process.ts';
import { connect } from './helpers/ws-client.ts';
import { sleep, tcp } from './helpers/attack.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Whether something accepts connections on `port`. */
async function listening(port: number): Promise<boolean> {
  try {
    (await tcp(`http://127.0.0.1:${port}`)).destroy();
    return true;
  } catch {
    return false;
  }
}

describe('SIGTERM (items 5 and 6)', () => {
  test('SIGTERM to `npm start` reaches the server: it drains, closes with 1012 and frees the port', async (t) => {
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: '0',
        HUDDLE01_API_KEY: TEST_KEY,
        ROOMCAST_TOKEN_SECRET: TEST_SECRET,
        LOG_FORMAT: 'json',
        NODE_ENV: 'development',
        ROOMCAST_CONSOLE: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout.on('data', (chunk) => (output += chunk));
    npm.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    let serverPid: number | undefined;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`npm start did not listen:\n${output}`)),
          60_000,
        );
        npm.stdout.on('data', () => {
          const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
          const pid = /"pid":(\d+)/.exec(output);
          if (match && pid) {
            clearTimeout(timer);
            serverPid = Number(pid[1]);
            resolve(Number(match[1]));
          }
        });
      });
      assert.notEqual(serverPid, npm.pid, 'the server is a child of npm');
      const subscriber = await connect(`ws://127.0.0.1:${port}/ws?token=${await testToken()}`);
      t.after(() => subscriber.close());
      subscriber.send({ type: 'subscribe', room: 'npm-start' });
      await subscriber.subscribed('npm-start');

      npm.kill('SIGTERM'); // what a supervisor (a container's `CMD npm start`) sends
      const code = await Promise.race([subscriber.closed, sleep(10_000).then(() => 'not closed')]);
      assert.equal(code, 1012, 'the subscriber is told to reconnect elsewhere');
      const npmExit = await Promise.race([exited, sleep(10_000).then(() => 'still running')]);
      assert.notEqual(npmExit, 'still running', 'npm exits');
      assert.equal(await listening(port), false, 'the port is free');
      assert.match(output, /"msg":"shut down"/);
    } finally {
      npm.kill('SIGKILL');
      // Without the fix the server is orphaned with the port held: never leave it behind.
      if (serverPid !== undefined) {
        try {
          process.kill(serverPid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });

  test('a webhook in flight at SIGTERM is answered; new connections are refused', async () => {
    const node = await startNode({ LOG_LEVEL: 'info', ROOMCAST_SHUTDOWN_TIMEOUT: '10s' });
    try {
      const id = webhookId();
      const text = JSON.stringify({
        id,
        event: 'meeting:started',
        payload: meetingStarted('inflight'),
      });
      const socket = await tcp(node.url);
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk));
      socket.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      // Headers and half the body: the webhook is being received when SIGTERM arrives.
      socket.write(
        `POST /webhooks/huddle01 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\n` +
          `huddle01-signature: ${signRawWebhook(text, id, TEST_KEY)}\r\n\r\n` +
          text.slice(0, 20),
      );
      await sleep(200);
      node.child.kill('SIGTERM');
      await sleep(300);
      assert.equal(await listening(node.port), false, 'no new connection is accepted');
      socket.write(text.slice(20));
      await Promise.race([closed, sleep(5000)]);
      assert.match(answer, /^HTTP\/1\.1 200/, `answered: ${JSON.stringify(answer)}`);
      assert.match(answer, /"ok":true,"roomId":"inflight","seq":1/);
      assert.match(answer, /connection: close/i);
      assert.equal(await node.exited, 0, node.output().slice(-2000));
    } finally {
      await node.kill('SIGKILL');
    }
  });
});
