/**
 * The soft limit of open files of this process: thousands of sockets need it raised
 * (`npm test` and the npm scripts raise it to the hard limit through the shell).
 */
import { readFileSync } from 'node:fs';

/** The limit (Linux, from /proc/self/limits), or undefined where it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((text) => text.startsWith('Max open files'));
    return line ? Number(line.split(/\s{2,}/)[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Throws a clear message when fewer than `needed` files may be open. */
export function requireOpenFiles(needed: number): void {
  const limit = openFileLimit();
  if (limit !== undefined && limit < needed) {
    throw new Error(
      `this run holds about ${needed} sockets but the open-file limit is ${limit}: raise it (ulimit -n ${needed})`,
    );
  }
}
