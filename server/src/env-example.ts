/**
 * The text of the repo's `.env.example`: every variable roomcast reads, with its default and
 * meaning, generated from the options' own entries (config.ts) so it cannot drift
 * (test/env-example.test.ts compares the committed file; `npm run option-docs` rewrites it).
 */
import { OPTION_DOCS } from './config.ts';
import type { OptionKey } from './config.ts';
import { defaultOf, plainHelpOf } from './config-docs.ts';
import { DEFAULT_DEV_SECRETS_FILE, DEV_SECRETS_ENV } from './dev-secrets.ts';

/** Variables outside the option schema: the server's process and the CLI read them. */
const EXTRA: { env: string; value: string; help: string }[] = [
  { env: 'ROOMCAST_CONFIG', value: '', help: 'JSON file of options (camelCase keys)' },
  {
    env: DEV_SECRETS_ENV,
    value: DEFAULT_DEV_SECRETS_FILE,
    help: 'where a dev server keeps the secrets it generated; off keeps none (never in production)',
  },
  {
    env: 'ROOMCAST_URL',
    value: '',
    help: 'CLI: the server to talk to (default http://127.0.0.1:$PORT)',
  },
  { env: 'ROOMCAST_TOKEN', value: '', help: 'CLI tail: a subscriber token to use as is' },
];

/** One commented-out assignment per variable, defaults filled in. */
export function envExampleText(): string {
  const lines = [
    '# roomcast: every environment variable, with its default. Copy to .env and uncomment what',
    '# you change; .env is git-ignored. Generated from the option docs: npm run option-docs.',
    '',
  ];
  for (const [key, doc] of Object.entries(OPTION_DOCS)) {
    const value = doc.envValue ?? defaultOf(key as OptionKey);
    lines.push(`# ${plainHelpOf(doc)}`, `# ${doc.env}=${value === '(unset)' ? '' : value}`, '');
  }
  for (const extra of EXTRA) {
    lines.push(`# ${extra.help}`, `# ${extra.env}=${extra.value}`, '');
  }
  return lines.join('\n').trimEnd() + '\n';
}
