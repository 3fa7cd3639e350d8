/** Full-jitter exponential backoff (centrifuge-js style): random in [0, min(max, base·2^attempt)]. */
export function backoffDelay(
  attempt: number,
  base = 500,
  max = 20_000,
  random = Math.random,
): number {
  return Math.round(random() * Math.min(max, base * 2 ** attempt));
}

/** Window over which the first attempt after a 1012 (service restart) is spread, ms. */
export const RESTART_SPREAD = 2000;
/** Longest wait between attempts while an outage that began with a 1012 lasts, ms (Socket.IO's cap). */
export const RESTART_MAX_DELAY = 5000;

/**
 * The wait before attempt `attempt` of an outage that began with a 1012: the close promises
 * another node is up, so the first try is due soon, but a whole node's subscribers get it at
 * once, so it is spread over `RESTART_SPREAD` (full jitter) rather than bunched into the first
 * half second; later tries back off as usual, capped at `RESTART_MAX_DELAY` so that one refused
 * try during the herd does not push a client to the 20 s cap.
 */
export function restartDelay(attempt: number, random = Math.random): number {
  if (attempt === 0) return Math.round(random() * RESTART_SPREAD);
  return backoffDelay(attempt, 500, RESTART_MAX_DELAY, random);
}
