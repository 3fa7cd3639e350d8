/**
 * The "Recording" card of the selected room: recording or not, its streams, its files (linked
 * when their location is an http(s) URL) and the IPFS copy.
 */
import type { RecordingState } from '@roomcast/client';
import { h, replaceChildren } from './dom.ts';
import { formatBytes, formatMinutes } from './format.ts';

/** The recording card. */
export interface RecordingCard {
  /** The card's `<section>`. */
  card: HTMLElement;
  /** Draws the card again from the room's recording state. */
  draw(recording: RecordingState | undefined): void;
}

/** Builds an empty recording card. */
export function createRecordingCard(): RecordingCard {
  const body = h('div', { class: 'recording-body', id: 'recording' });
  const card = h(
    'section',
    { class: 'card recording-card', 'aria-labelledby': 'recording-title' },
    h('h3', { id: 'recording-title' }, 'Recording'),
    body,
  );
  return { card, draw: (recording) => drawRecording(body, recording) };
}

function drawRecording(body: HTMLElement, recording: RecordingState | undefined) {
  const files = recording?.files ?? [];
  const streams = recording?.streams ?? [];
  replaceChildren(
    body,
    h(
      'p',
      { class: 'recording-state' },
      recording?.active
        ? h('span', { class: 'badge badge-rec' }, 'Recording')
        : h(
            'span',
            { class: 'badge badge-idle' },
            recording?.id ? 'Recording ended' : 'Not recording',
          ),
      streams.length > 0 && h('span', { class: 'fact' }, `${streams.length} stream(s)`),
    ),
    files.length > 0 &&
      h(
        'ul',
        { class: 'file-list' },
        ...files.map((file) =>
          h(
            'li',
            {},
            safeLink(file.location)
              ? h(
                  'a',
                  { href: file.location, rel: 'noopener noreferrer', target: '_blank' },
                  file.filename,
                )
              : h('span', {}, file.filename),
            h(
              'span',
              { class: 'fact' },
              `${formatMinutes(file.duration)} · ${formatBytes(file.size)}`,
            ),
          ),
        ),
      ),
    recording?.ipfsUrl && safeLink(recording.ipfsUrl)
      ? h(
          'p',
          {},
          h(
            'a',
            { href: recording.ipfsUrl, rel: 'noopener noreferrer', target: '_blank' },
            'IPFS copy',
          ),
        )
      : false,
  );
}

/** Only http(s) locations become links (a `javascript:` URL in a webhook must not). */
function safeLink(url: string | undefined): url is string {
  return typeof url === 'string' && /^https?:\/\//i.test(url);
}
