/**
 * Flag parsing for every `roomcast` command: node's parseArgs, strict, with its errors turned
 * into one line that names the flag and points at the command's --help (no stack trace).
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

/** A usage mistake: the one line to print (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The known flag closest to `given` (a typo or a missing letter), if any is close. */
function closest(given: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of known) {
    const d = distance(given, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

/** The one-line message for a parseArgs error. */
export function usageMessage(error: unknown, known: readonly string[]): string {
  const { code, message } = error as { code?: string; message: string };
  const flag = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) {
    const near = closest(flag.replace(/^-+/, '').split('=')[0]!, known);
    return `unknown option ${flag}${near ? ` (did you mean --${near}?)` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    const name = flag.split(' ')[0];
    if (/argument missing/.test(message)) return `${name} needs a value`;
    if (/ambiguous/.test(message)) {
      return `${name} needs a value; one that starts with "-" is written ${name}=<value>`;
    }
    if (/does not take an argument/.test(message)) return `${name} takes no value`;
    return `${name}: invalid value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const extra = /Unexpected argument '([^']*)'/.exec(message)?.[1];
    return `unexpected argument ${extra === undefined ? '' : JSON.stringify(extra)}`.trim();
  }
  return message.split('\n')[0]!;
}

/** What `parseCommandArgs` returns (named, so the package's declarations can name it). */
export type ParsedCommandArgs<T extends ParseArgsConfig['options']> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: boolean }>
>;

/** parseArgs for `roomcast <command>`; a mistake throws UsageError with one line. */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
): ParsedCommandArgs<T> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    const line = usageMessage(error, Object.keys(options ?? {}));
    throw new UsageError(`roomcast ${command}: ${line} (see roomcast ${command} --help)`);
  }
}
