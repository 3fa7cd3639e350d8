/**
 * Track icons as inline SVG (no icon font, no outside request), built with createElementNS.
 * Paths are simple 24×24 line drawings, stroked with currentColor.
 */

const SVG = 'http://www.w3.org/2000/svg';

/** A known kind of track. */
export type TrackKind = 'mic' | 'camera' | 'screen' | 'other';

const PATHS: Record<TrackKind, string[]> = {
  mic: ['M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z', 'M5 11a7 7 0 0 0 14 0', 'M12 18v3'],
  camera: ['M3 7h12v10H3z', 'M15 10.5 21 7v10l-6-3.5'],
  screen: ['M3 4h18v12H3z', 'M8 20h8', 'M12 16v4'],
  other: ['M4 12h16', 'M12 4v16'],
};

/** Huddle01 track labels → kind: audio, video, screen-share-video / -audio, … */
export function trackKind(label: string): TrackKind {
  if (label.startsWith('screen')) return 'screen';
  if (label === 'audio' || label.includes('audio') || label.includes('mic')) return 'mic';
  if (label === 'video' || label.includes('video') || label.includes('cam')) return 'camera';
  return 'other';
}

/** What a track is called in the page. */
export function trackName(label: string): string {
  const kind = trackKind(label);
  if (kind === 'mic') return 'microphone';
  if (kind === 'camera') return 'camera';
  if (kind === 'screen') return label.includes('audio') ? 'screen audio' : 'screen share';
  return label;
}

/** An icon for a track, labelled for assistive technology. */
export function trackIcon(label: string): HTMLSpanElement {
  const kind = trackKind(label);
  const wrapper = document.createElement('span');
  wrapper.className = `track track-${kind}`;
  wrapper.setAttribute('role', 'img');
  wrapper.setAttribute('aria-label', trackName(label));
  wrapper.title = trackName(label);
  wrapper.dataset.track = label;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of PATHS[kind]) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  }
  wrapper.appendChild(svg);
  return wrapper;
}
