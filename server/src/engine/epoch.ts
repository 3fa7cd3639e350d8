/**
 * Epochs: the name of one incarnation of a room's log. A subscriber's `<epoch>:<seq>` resumes
 * only within the same epoch; a restart, an eviction or lost history starts a new one.
 */
import { randomBytes } from 'node:crypto';

/** Creates a new random epoch: URL-safe, no colon (it is the first half of `<epoch>:<seq>`). */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}
