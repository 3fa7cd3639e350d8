/**
 * Test servers: the real app on a real socket (port 0), closed after each test.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/src/app.ts';
import { parseOptions } from '../../server/src/config.ts';
import type { RoomcastOptions } from '../../server/src/config.ts';
import type { AppendInput, Engine } from '../../server/src/engine/engine.ts';
import { signRawWebhook } from '../../server/src/webhooks/sign-webhook.ts';
import { createSubscriberToken } from '../../server/src/auth/tokens.ts';
import type { SignOptions } from '../../server/src/webhooks/sign-webhook.ts';
import type { EventName } from '../../shared/src/index.ts';

export const TEST_KEY = 'test-api-key-0123456789';
export const TEST_SECRET = 'test-token-secret-0123456789-abcdefghijkl';

/** A subscriber token signed with the test secret (default: every room, 1 h). */
export function testToken(
  rooms: string[] = ['*'],
  ttl: number | string = 3600,
  sub?: string,
): Promise<string> {
  return createSubscriberToken({ secret: TEST_SECRET, rooms, ttl, sub });
}

/** A running test server. */
export interface TestServer {
  app: FastifyInstance;
  /** Base URL, http://127.0.0.1:<port>. */
  url: string;
  /** ws://…/ws?token=<moderator token>. */
  wsUrl: string;
  /** ws://…/ws without a token. */
  bareWsUrl: string;
  /** A moderator (`*`) token. */
  token: string;
  /** `url + path` with `token=` of the moderator token appended. */
  authed(path: string, token?: string): string;
  /** GET with the moderator token as a Bearer header. */
  get(path: string): Promise<Response>;
  engine?: Engine;
  close(): Promise<void>;
}

/** Starts the real app on port 0 (or on `options.port`, e.g. to restart on the same one). */
export async function startServer(
  options: RoomcastOptions = {},
  engine?: Engine,
  logger: { stream: Writable } | false = false,
): Promise<TestServer> {
  const config = parseOptions({
    huddle01ApiKeys: [TEST_KEY],
    tokenSecrets: [TEST_SECRET],
    logLevel: 'silent',
    ...options,
  });
  const app = await buildApp({ config, engine, logger });
  await app.listen({
    port: typeof options.port === 'number' ? options.port : 0,
    host: '127.0.0.1',
  });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  const token = await testToken();
  const authed = (path: string, withToken = token) =>
    `${url}${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(withToken)}`;
  return {
    app,
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws?token=${token}`,
    bareWsUrl: `ws://127.0.0.1:${port}/ws`,
    token,
    authed,
    get: (path) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } }),
    engine,
    close: () => app.close(),
  };
}

/**
 * The real app as `startServer` starts it, logging (at `info` unless `options.logLevel` says
 * otherwise) into memory: `logs()` is every line so far, as text.
 */
export async function startLoggedServer(
  options: RoomcastOptions = {},
): Promise<TestServer & { logs(): string }> {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk;
      done();
    },
  });
  const server = await startServer({ logLevel: 'info', ...options }, undefined, { stream });
  return Object.assign(server, { logs: () => text });
}

let counter = 0;
/** A unique webhook id. */
export function webhookId(): string {
  return `wh-test-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * What `engine.append` takes for one webhook: a fresh id and now as its arrival, unless
 * `overrides` says otherwise. The payload is taken as is (tests feed malformed ones too).
 */
export function appendInput(
  event: AppendInput['event'],
  payload: unknown,
  overrides: Partial<AppendInput> = {},
): AppendInput {
  return {
    webhookId: webhookId(),
    event,
    payload: payload as AppendInput['payload'],
    receivedAt: Date.now(),
    ...overrides,
  };
}

/** Options of postWebhook. */
export interface PostOptions extends SignOptions {
  id?: string;
  key?: string;
  contentType?: string;
  /** Replace the signature header (or remove it with null). */
  header?: string | null;
  /** Send this raw text instead of the JSON body. */
  raw?: string;
}

/** The answer to a webhook POST. */
export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

/** Signs and posts a webhook; resolves to its status and JSON answer. */
export async function postWebhook(
  server: Pick<TestServer, 'url'>,
  event: EventName | string,
  payload: unknown,
  options: PostOptions = {},
): Promise<WebhookAnswer> {
  const id = options.id ?? webhookId();
  const text = options.raw ?? JSON.stringify({ id, event, payload });
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'text/plain' };
  if (options.header !== null) {
    headers['huddle01-signature'] =
      options.header ?? signRawWebhook(text, id, options.key ?? TEST_KEY, options);
  }
  const response = await fetch(`${server.url}/webhooks/huddle01`, {
    method: 'POST',
    headers,
    body: text,
  });
  return { status: response.status, body: (await response.json()) as WebhookAnswer['body'] };
}
