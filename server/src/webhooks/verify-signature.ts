/**
 * Huddle01 webhook signature check with node:crypto.
 *
 * Accepts and rejects exactly what `WebhookReceiver.receive()` of @huddle01/server-sdk accepts
 * (proved by a differential property test), at a small fraction of its cost: the SDK imports a
 * WebCrypto key and generates another one for every comparison (`npm run bench -- verify`).
 * Freshness of `t` is a separate check (`checkFreshness`) because the SDK does not make it. One
 * deliberate difference: a body nested deeper than `MAX_BODY_DEPTH` is refused as invalid (the
 * SDK would overflow its stack a few thousand levels down; Huddle01 never nests past 3).
 */
import { timingSafeEqual } from 'node:crypto';
import { ERRORS, ErrorCode } from '@roomcast/shared';

/** The codes a webhook is refused with (before it is parsed): each a 400 or a 401 in `ERRORS`. */
type WebhookErrorCode =
  | typeof ErrorCode.INVALID_BODY
  | typeof ErrorCode.SIGNATURE_MISSING
  | typeof ErrorCode.SIGNATURE_INVALID
  | typeof ErrorCode.TIMESTAMP_INVALID;
import { createHmacOf } from './hmac.ts';
import type { HmacAlgorithm, HmacOf } from './hmac.ts';

/** Name of the signature header Huddle01 sends. */
export const SIGNATURE_HEADER = 'huddle01-signature';

/** A verified webhook: the parsed body and the signature's timestamp text. */
export interface VerifiedWebhook {
  ok: true;
  /** The body parsed as JSON (an object with a truthy `id`). */
  body: Record<string, unknown>;
  /** The webhook id as it was signed (`${body.id}`). */
  id: string;
  /** The `t=` value of the header, as sent. */
  timestamp: string;
}

/** Why a webhook was refused, with the stable error code and the HTTP status. */
export interface RefusedWebhook {
  ok: false;
  code: WebhookErrorCode;
  /** The code's status in `ERRORS`. */
  status: 400 | 401;
  message: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SHA512_HEX = /^[0-9a-f]{128}$/;
/**
 * Deepest nesting of objects and arrays accepted in a body. Huddle01's payloads are 3 levels
 * deep; a hostile body of `[[[[…` a few thousand deep would overflow the stack in the
 * re-serialization below (a 500), or later wherever the payload is serialized again.
 */
export const MAX_BODY_DEPTH = 64;

function refuse(code: WebhookErrorCode, message: string): RefusedWebhook {
  return { ok: false, code, status: ERRORS[code].status, message };
}

/**
 * `text.split(separator)[index]` for a one-character separator, without building the array:
 * the header is split this way for every webhook.
 */
function piece(text: string, separator: string, index: number): string | undefined {
  let start = 0;
  for (let at = 0; at < index; at++) {
    const next = text.indexOf(separator, start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  const end = text.indexOf(separator, start);
  return end < 0 ? text.slice(start) : text.slice(start, end);
}

/**
 * Whether `value` nests objects or arrays more than `levels` deep (the value itself is level 1).
 * Recursion stops at the limit, so the stack stays short; no arrays are built (this runs for
 * every webhook).
 */
function nestedDeeperThan(value: object, levels: number): boolean {
  if (levels === 0) return true;
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (child !== null && typeof child === 'object' && nestedDeeperThan(child, levels - 1)) {
      return true;
    }
  }
  return false;
}

/** Verifies one webhook: the raw body text and its `huddle01-signature` header (if any). */
export type SignatureVerifier = (
  rawBody: string,
  header: string | undefined,
) => VerifiedWebhook | RefusedWebhook;

/**
 * The header's timestamp and signature, parsed exactly as the SDK does: "t=<ts>,<alg>=<hex>",
 * key names not checked, extra parts ignored. Shared by the verifier and the precheck.
 */
function headerParts(
  header: string | undefined,
): { ok: true; timestamp: string; signature: string } | RefusedWebhook {
  if (!header) return refuse(ErrorCode.SIGNATURE_MISSING, 'huddle01-signature header missing');
  const timestamp = piece(piece(header, ',', 0)!, '=', 1);
  const signature = piece(header, ',', 1);
  if (!timestamp || !signature) {
    return refuse(ErrorCode.SIGNATURE_MISSING, 'huddle01-signature must be t=<ms>,sha256=<hex>');
  }
  return { ok: true, timestamp, signature };
}

/**
 * Creates a verifier for a list of API keys (several allow rotation). Each key's HMAC pads are
 * computed once here, per algorithm on first use (`createHmacOf`).
 */
export function createSignatureVerifier(apiKeys: readonly string[]): SignatureVerifier {
  const macs: Record<HmacAlgorithm, HmacOf[] | undefined> = {
    sha256: undefined,
    sha512: undefined,
  };
  const macsOf = (algorithm: HmacAlgorithm) =>
    (macs[algorithm] ??= apiKeys.map((key) => createHmacOf(algorithm, key)));
  return (rawBody, header) => {
    const parts = headerParts(header);
    if (!parts.ok) return parts;
    const { timestamp, signature } = parts;
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      return refuse(ErrorCode.INVALID_BODY, 'body is not JSON');
    }
    if (body === null || typeof body !== 'object' || !(body as { id?: unknown }).id) {
      return refuse(ErrorCode.INVALID_BODY, 'body has no id');
    }
    if (nestedDeeperThan(body, MAX_BODY_DEPTH)) {
      return refuse(ErrorCode.INVALID_BODY, `body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    }
    const algorithm = piece(signature, '=', 0)!;
    if (algorithm !== 'sha256' && algorithm !== 'sha512') {
      return refuse(ErrorCode.SIGNATURE_INVALID, 'signature algorithm must be sha256 or sha512');
    }
    const id = `${(body as { id: unknown }).id}`;
    // The SDK compares the whole "<alg>=<lowercase hex>" text; only exactly that shape can
    // match, so the hex is decoded once and compared as bytes (no hex encoding per key).
    const hex = signature.slice(algorithm.length + 1);
    if (!(algorithm === 'sha256' ? SHA256_HEX : SHA512_HEX).test(hex)) {
      return refuse(ErrorCode.SIGNATURE_INVALID, 'signature does not match');
    }
    const given = Buffer.from(hex, 'hex');
    // The SDK signs the re-serialized body, so escapes and number formats are normalized alike.
    // One string, one update(): each update() is a call into C++.
    const signed = `${id}.${timestamp}.${JSON.stringify(body)}`;
    for (const macOf of macsOf(algorithm)) {
      if (timingSafeEqual(macOf(signed), given)) {
        return { ok: true, body: body as Record<string, unknown>, id, timestamp };
      }
    }
    return refuse(ErrorCode.SIGNATURE_INVALID, 'signature does not match');
  };
}

/**
 * Verifies a webhook body (the raw text as received) against its `huddle01-signature` header
 * with any of the API keys. For one check; a route makes its verifier once with
 * `createSignatureVerifier`.
 */
export function verifySignature(
  rawBody: string,
  header: string | undefined,
  apiKeys: readonly string[],
): VerifiedWebhook | RefusedWebhook {
  return createSignatureVerifier(apiKeys)(rawBody, header);
}

/**
 * What can be refused from the `huddle01-signature` header alone, before the body is read:
 * missing, not `t=<ts>,<alg>=<hex>` with a known algorithm and a digest of its length, or a
 * timestamp outside ±`toleranceMs`. Undefined when the header may sign a body. A header that
 * passes this still has its body verified (`SignatureVerifier`).
 */
export function precheckSignatureHeader(
  header: string | undefined,
  now: number,
  toleranceMs: number,
): RefusedWebhook | undefined {
  const parts = headerParts(header);
  if (!parts.ok) return parts;
  const { timestamp, signature } = parts;
  const algorithm = piece(signature, '=', 0)!;
  const hex = signature.slice(algorithm.length + 1);
  if (
    (algorithm !== 'sha256' && algorithm !== 'sha512') ||
    !(algorithm === 'sha256' ? SHA256_HEX : SHA512_HEX).test(hex)
  ) {
    return refuse(
      ErrorCode.SIGNATURE_INVALID,
      'huddle01-signature must be t=<ms>,sha256=<64 hex digits> (or sha512=<128>)',
    );
  }
  return checkFreshness(timestamp, now, toleranceMs);
}

/** Timestamps below this are taken as seconds (1e11 ms is 1973; 1e11 s is the year 5138). */
const SECONDS_THRESHOLD = 1e11;

/**
 * Refuses a signature timestamp outside ±`toleranceMs` of `now`: the SDK never checks it, so
 * without this a captured webhook could be replayed forever. `t` is in ms; below 1e11 it is
 * taken as seconds.
 */
export function checkFreshness(
  timestamp: string,
  now: number,
  toleranceMs: number,
): RefusedWebhook | undefined {
  const value = /^[0-9]{1,16}(\.[0-9]+)?$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (!Number.isFinite(value)) {
    return refuse(ErrorCode.TIMESTAMP_INVALID, 'signature timestamp t must be milliseconds');
  }
  const ms = value < SECONDS_THRESHOLD ? value * 1000 : value;
  if (Math.abs(now - ms) > toleranceMs) {
    return refuse(
      ErrorCode.TIMESTAMP_INVALID,
      `signature timestamp is more than ${Math.round(toleranceMs / 1000)} s from now`,
    );
  }
  return undefined;
}
