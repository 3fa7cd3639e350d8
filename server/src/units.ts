/**
 * Parsing of the human units used in config: durations ("30s", "5m", "24h", "250ms" or plain
 * milliseconds) and byte sizes ("1MiB", "512KiB", "1mb" or plain bytes).
 */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

function parseWithUnits(text: string, units: Record<string, number>): number | undefined {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return undefined;
  const factor = match[2] === '' ? 1 : units[match[2]!.toLowerCase()];
  if (factor === undefined) return undefined;
  return Math.round(Number(match[1]) * factor);
}

/** Milliseconds from "30s" / "5m" / "24h" / "250ms" / "1500"; undefined when malformed. */
export function parseDuration(value: string | number): number | undefined {
  return typeof value === 'number' ? value : parseWithUnits(value, DURATION_UNITS);
}

/** Bytes from "1MiB" / "512kb" / "1024"; undefined when malformed. */
export function parseSize(value: string | number): number | undefined {
  return typeof value === 'number' ? value : parseWithUnits(value, SIZE_UNITS);
}

/** ms → "500ms" / "30s" / "5m" / "24h" (the largest exact unit): how a user writes it. */
export function formatDuration(ms: number): string {
  // No days: the docs and the README write a day as 24h.
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** bytes → "1MiB" / "4KiB" / "100" (the largest exact unit). */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
