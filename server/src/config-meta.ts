/**
 * What each option says of itself besides its schema: its environment variable, its unit and its
 * one line of help. config.ts registers this next to each option's schema (and default), in one
 * entry; `--help`, the README's table, `.env.example` and the engines' defaults are made from
 * there (config-docs.ts, env-example.ts). This module imports nothing of the project's, so the
 * schema and everything rendered from it depend on it and not on each other.
 */
import { z } from 'zod';

/** How an option's value is written. */
export type OptionUnit =
  'duration' | 'size' | 'list' | 'number' | 'string' | 'boolean' | 'level' | 'proxies';

/** The docs of one option. */
export interface OptionDoc {
  /** The environment variable (a public name: DESIGN.md). */
  env: string;
  unit: OptionUnit;
  /**
   * One line of help: the README's table shows it as Markdown, `--help` and `.env.example` as
   * plain text (links reduced to their text, no backticks).
   */
  help: string;
  /**
   * The default as the README writes it when it is no plain value (a dev default, unset with a
   * meaning); `--help` shows `(unset)` for those.
   */
  defaultText?: string;
  /**
   * The option is on when its variable has this value (`NODE_ENV=production`); such an option
   * has no flag of its own.
   */
  envValue?: string;
}

/** The registry of the options' docs: `schema.register(optionDocs, doc)` (zod 4 metadata). */
export const optionDocs = z.registry<OptionDoc>();

/** Markdown help as plain text: `[text](link)` → text, no backticks. */
export function plainHelp(help: string): string {
  return help.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
}
