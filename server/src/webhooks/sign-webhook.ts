/**
 * Signs a webhook body exactly as Huddle01 does: HMAC over `${id}.${t}.${JSON.stringify(body)}`.
 * Used by `roomcast send`, `roomcast simulate` and the tests.
 */
import { createHmac } from 'node:crypto';

/** A body ready to POST, and the header that goes with it. */
export interface SignedWebhook {
  body: string;
  signature: string;
}

/** Options of `signWebhook`. */
export interface SignOptions {
  /** Signature time in ms. Default: now. */
  timestamp?: number | string;
  /** Default sha256. */
  algorithm?: 'sha256' | 'sha512';
}

/** Serializes and signs `{id, event, payload}` with an API key. */
export function signWebhook(
  body: { id: string; [key: string]: unknown },
  apiKey: string,
  options: SignOptions = {},
): SignedWebhook {
  const text = JSON.stringify(body);
  return { body: text, signature: signRawWebhook(text, body.id, apiKey, options) };
}

/** Signs an already serialized body (its `id` given separately). */
export function signRawWebhook(
  text: string,
  id: string,
  apiKey: string,
  { timestamp = Date.now(), algorithm = 'sha256' }: SignOptions = {},
): string {
  const normalized = JSON.stringify(JSON.parse(text));
  const hex = createHmac(algorithm, apiKey)
    .update(`${id}.${timestamp}.${normalized}`)
    .digest('hex');
  return `t=${timestamp},${algorithm}=${hex}`;
}
