/** Rewrites the repo's `.env.example` from the option docs (`npm run env-example`). */
import { writeFileSync } from 'node:fs';
import { envExampleText } from '../src/env-example.ts';

writeFileSync(new URL('../../.env.example', import.meta.url), envExampleText());
console.log('wrote .env.example');
