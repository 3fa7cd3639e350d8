/**
 * Pieces every engine shares: calling listeners without letting one failure stop the others,
 * and the dead letter of a track event whose peer never joined.
 */
import type { AppendInput, DeadLetter, EntryListener, LogEntry } from './engine.ts';

/** Calls `listener`; a throwing listener must not stop the log or the other listeners. */
export function notifySafely(listener: EntryListener, entry: LogEntry): void {
  try {
    listener(entry);
  } catch {
    // deliberately ignored: see above
  }
}

/** How much of a dead letter's body (its JSON) is kept, bytes; and of its texts, characters. */
export const DEAD_LETTER_KEEP = 1024;

/** `text` cut to `max` characters (an ellipsis marks the cut). */
function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * What is kept of a dead letter: its body whole when its JSON is at most 1 KiB, else the first
 * KiB of that JSON and its size; event and detail cut to 1 KiB too. A dead letter then costs
 * about 2 KiB whatever was posted, and the list is bounded in bytes, not only in count.
 */
export function compactDeadLetter(letter: DeadLetter): DeadLetter {
  const { body, ...rest } = letter;
  const json = JSON.stringify(body) ?? '';
  const bodyBytes = Buffer.byteLength(json);
  const kept = {
    ...rest,
    event: cut(letter.event, DEAD_LETTER_KEEP),
    detail: cut(letter.detail, DEAD_LETTER_KEEP),
    bodyBytes,
  };
  if (bodyBytes <= DEAD_LETTER_KEEP) return { ...kept, body };
  return { ...kept, bodyExcerpt: Buffer.from(json).subarray(0, DEAD_LETTER_KEEP).toString() };
}

/** The dead letter for a held track event whose peer did not join within `trackHold` ms. */
export function unroutableLetter(
  input: AppendInput,
  peerId: string,
  trackHold: number,
): DeadLetter {
  return compactDeadLetter({
    webhookId: input.webhookId,
    event: input.event,
    reason: 'UNROUTABLE',
    detail: `no peer:joined for peer ${peerId} within ${trackHold} ms`,
    receivedAt: input.receivedAt,
    body: { id: input.webhookId, event: input.event, payload: input.payload },
  });
}
