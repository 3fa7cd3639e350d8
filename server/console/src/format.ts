/**
 * Formatting for people: elapsed times that tick, clock times, sizes, and what a peer's
 * payload says about them (display name, browser, device, country).
 */
import type { PeerState } from '@roomcast/client';

/** ms → `0:42`, `12:05`, `1:02:09` (never negative: clocks of two machines differ). */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`
    : `${minutes}:${seconds}`;
}

/** Seconds → `45 s`, `21 min`, `1 h 05 min` (a length, not a clock). */
export function formatMinutes(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** ms since the epoch → local `14:03:27`. */
export function formatClock(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour12: false });
}

/** Bytes → `45.8 MB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 || value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** A name from peer metadata (JSON with `displayName` or `name`), else undefined. */
export function nameFromMetadata(metadata: unknown): string | undefined {
  if (typeof metadata === 'string') {
    try {
      return nameFromMetadata(JSON.parse(metadata));
    } catch {
      return undefined;
    }
  }
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const record = metadata as Record<string, unknown>;
  for (const key of ['displayName', 'name', 'display_name', 'userName', 'username']) {
    const value = record[key];
    if (typeof value === 'string' && value.trim()) return value.trim().slice(0, 80);
  }
  return undefined;
}

/** `Chrome 131`. */
export function browserText(peer: PeerState): string | undefined {
  const name = peer.browser?.name;
  if (!name) return undefined;
  const major = peer.browser?.version?.split('.')[0];
  return major ? `${name} ${major}` : name;
}

/** `Apple iPhone 15`; the device type (`desktop`, `mobile`) when the model is unknown. */
export function deviceText(peer: PeerState): string | undefined {
  const { vendor, model, type } = peer.device ?? {};
  const named = [vendor, model].filter(Boolean).join(' ');
  return named || type || undefined;
}

let regionNames: Intl.DisplayNames | undefined;
/** `DE` → `Germany` (the code itself when the browser cannot name it). */
export function countryName(code: string): string {
  try {
    regionNames ??= new Intl.DisplayNames(undefined, { type: 'region' });
    return regionNames.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** Up to two initials for an avatar. */
export function initials(name: string): string {
  const words = name.split(/[\s._-]+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0]![0], words[1]![0]] : [name[0], name[1]];
  return letters.filter(Boolean).join('').toUpperCase();
}

/** A stable small number from a string (avatar colours). */
export function hashOf(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  return hash;
}
