/**
 * Number formatting shared by the console, markdown and SVG reports.
 */

/** `value` with `digits` decimals and thin thousands separators; "n/a" when not a number. */
export function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A value with its unit ("12.3 µs", "4,210 /s", "75 %"). */
export function formatValue(value: number, digits: number, unit: string): string {
  const number = formatNumber(value, digits);
  if (!unit || number === 'n/a') return number;
  return unit === '/s' ? `${number}/s` : `${number} ${unit}`;
}

/** A ratio as "0.93×". */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return `${value >= 10 ? value.toFixed(1) : value.toFixed(2)}×`;
}

/** "server CPU per delivery (µs)"; the unit is left out when the label already ends with it. */
export function metricTitle({ label, unit }: { label: string; unit: string }): string {
  return unit && !label.endsWith(unit) ? `${label} (${unit})` : label;
}
