/**
 * Publishing app events (`app:<name>`) into a room's log: the one path that both
 * `POST /rooms/:roomId/publish` and `app.roomcast.publish()` take. An app event gets a seq,
 * history, resume and fan-out like a webhook and never changes the room state (the reducer
 * ignores it). An idempotency key repeated within the dedup window answers the first result
 * and is not broadcast again.
 */
import { randomUUID } from 'node:crypto';
import {
  ERRORS,
  ErrorCode,
  MAX_APP_PAYLOAD_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  isAppEventName,
  isValidRoomId,
} from '@roomcast/shared';
import type { AppEventName, HttpErrorCode } from '@roomcast/shared';
import type { Engine } from '../engine/engine.ts';

/** Options of one publish. */
export interface PublishOptions {
  /**
   * Makes retries safe: the same key for the same room within the dedup window appends once and
   * answers the first result again (1–200 characters).
   */
  idempotencyKey?: string;
}

/** What a publish answers (also the route's 200 body). */
export interface PublishResult {
  ok: true;
  roomId: string;
  /** The event's position in the room's log (the first one, for a repeat). */
  seq?: number;
  epoch?: string;
  /** True when the idempotency key was seen: nothing new was appended or broadcast. */
  duplicate?: true;
}

/** A publish refused for its input, with the code and HTTP status the route answers. */
export class PublishError extends Error {
  override name = 'PublishError';
  /** The HTTP status the publish route answers with: the code's in `ERRORS`. */
  readonly status: number;
  constructor(
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
    this.status = ERRORS[code].status;
  }
}

/** Publishes one app event (throws PublishError for bad input; engine errors pass through). */
export type Publish = (
  roomId: string,
  event: string,
  payload: unknown,
  options?: PublishOptions,
) => Promise<PublishResult>;

/** Dependencies of the publisher. */
export interface PublisherOptions {
  engine: Engine;
  /** How long an idempotency key is remembered (the dedup window), ms. */
  dedupWindow: number;
}

/** The size of `payload` as JSON (UTF-8 bytes); undefined when it is not JSON-serialisable. */
function jsonBytes(payload: unknown): number | undefined {
  try {
    const text = JSON.stringify(payload);
    return text === undefined ? undefined : Buffer.byteLength(text);
  } catch {
    return undefined; // cycles, BigInt
  }
}

/** The publisher: validates, appends, and keeps first answers for idempotency keys. */
export function createPublisher({ engine, dedupWindow }: PublisherOptions): Publish {
  return async (roomId, event, payload, options = {}) => {
    if (!isValidRoomId(roomId)) {
      throw new PublishError(ErrorCode.BAD_REQUEST, 'invalid room id');
    }
    if (!isAppEventName(event)) {
      throw new PublishError(
        ErrorCode.INVALID_EVENT_NAME,
        'event must be app:<name> with 1-64 of A-Z a-z 0-9 _ . : - (Huddle01 event names are for webhooks)',
      );
    }
    const bytes = jsonBytes(payload ?? null);
    if (bytes === undefined) {
      throw new PublishError(ErrorCode.INVALID_BODY, 'payload must be JSON');
    }
    if (bytes > MAX_APP_PAYLOAD_BYTES) {
      throw new PublishError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `payload is ${bytes} bytes of JSON; at most ${MAX_APP_PAYLOAD_BYTES}`,
      );
    }
    const key = options.idempotencyKey;
    if (
      key !== undefined &&
      (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    ) {
      throw new PublishError(
        ErrorCode.BAD_REQUEST,
        `idempotencyKey must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
      );
    }
    // Scoped to the room: two rooms may use the same key for different events.
    const id = key === undefined ? `app:${randomUUID()}` : `app:${roomId}:${key}`;
    const result = await engine.append({
      webhookId: id,
      event: event as AppEventName,
      payload: payload ?? null,
      receivedAt: Date.now(),
      roomId,
    });
    if (result.status === 'appended') {
      const answer = { ok: true, roomId, epoch: result.epoch, seq: result.seq } as const;
      if (key !== undefined) await engine.remember?.(id, JSON.stringify(answer), dedupWindow);
      return answer;
    }
    // Only an idempotency key repeats an id; the first answer may still be on its way to the
    // store when the repeat arrives (another node), so look a few times.
    for (let attempt = 0; attempt < 5; attempt++) {
      const first = await engine.recall?.(id);
      if (first) return { ...(JSON.parse(first) as PublishResult), duplicate: true };
      if (!engine.recall) break;
      await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
    }
    return { ok: true, roomId, duplicate: true };
  };
}
