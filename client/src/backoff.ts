/** Full-jitter exponential backoff (centrifuge-js style): random in [0, min(max, base·2^attempt)]. */
export function backoffDelay(
  attempt: number,
  base = 500,
  max = 20_000,
  random = Math.random,
): number {
  return Math.round(random() * Math.min(max, base * 2 ** attempt));
}
