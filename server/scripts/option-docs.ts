/**
 * Rewrites what is made from the options' entries in config.ts: `.env.example` and the README's
 * table of variables (`npm run option-docs`; tests check both are current).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withReadmeOptionsTable } from '../src/config-docs.ts';
import { envExampleText } from '../src/env-example.ts';

writeFileSync(new URL('../../.env.example', import.meta.url), envExampleText());
console.log('wrote .env.example');
const readme = new URL('../../README.md', import.meta.url);
writeFileSync(readme, withReadmeOptionsTable(readFileSync(readme, 'utf8')));
console.log("wrote README.md's options table");
