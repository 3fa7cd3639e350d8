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

/** The dead letter for a held track event whose peer did not join within `trackHold` ms. */
export function unroutableLetter(
  input: AppendInput,
  peerId: string,
  trackHold: number,
): DeadLetter {
  return {
    webhookId: input.webhookId,
    event: input.event,
    reason: 'UNROUTABLE',
    detail: `no peer:joined for peer ${peerId} within ${trackHold} ms`,
    receivedAt: input.receivedAt,
    body: { id: input.webhookId, event: input.event, payload: input.payload },
  };
}
