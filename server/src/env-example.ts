/**
 * The text of the repo's `.env.example`: every variable roomcast reads, with its default and
 * meaning, generated from the option docs so it cannot drift (test/env-example.test.ts compares
 * the committed file; `npm run env-example` rewrites it).
 */
import { optionsSchema } from './config.ts';
import { OPTION_DOCS, formatDefault } from './config-docs.ts';
import { DEFAULT_DEV_SECRETS_FILE, DEV_SECRETS_ENV } from './dev-secrets.ts';

/** Variables outside the option schema: the server's process and the CLI read them. */
const EXTRA: { env: string; value: string; help: string }[] = [
  { env: 'ROOMCAST_CONFIG', value: '', help: 'JSON file of options (camelCase keys)' },
  {
    env: 'LOG_FORMAT',
    value: '',
    help: 'json for JSON lines even on a terminal (default: readable on a terminal, JSON otherwise)',
  },
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
  const defaults = optionsSchema.parse({}) as Record<string, unknown>;
  const lines = [
    '# roomcast: every environment variable, with its default. Copy to .env and uncomment what',
    '# you change; .env is git-ignored. Generated from the option docs: npm run env-example.',
    '',
  ];
  for (const [key, doc] of Object.entries(OPTION_DOCS)) {
    const value = key === 'production' ? 'production' : formatDefault(doc.unit, defaults[key]);
    lines.push(`# ${doc.help}`, `# ${doc.env}=${value === '(unset)' ? '' : value}`, '');
  }
  for (const extra of EXTRA) {
    lines.push(`# ${extra.help}`, `# ${extra.env}=${extra.value}`, '');
  }
  return lines.join('\n').trimEnd() + '\n';
}
