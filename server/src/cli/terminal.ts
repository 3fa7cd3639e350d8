/**
 * Small terminal helpers for the CLI: colors only on a TTY (and never with NO_COLOR), and a
 * progress line that rewrites itself on a TTY and prints every few seconds elsewhere.
 */

const useColor = (stream: NodeJS.WriteStream) => Boolean(stream.isTTY) && !process.env.NO_COLOR;

/** ANSI styles that vanish when the output is not a color terminal. */
export function styles(stream: NodeJS.WriteStream = process.stdout) {
  const wrap = (code: number) => (text: string) =>
    useColor(stream) ? `\u001b[${code}m${text}\u001b[0m` : text;
  return {
    dim: wrap(2),
    bold: wrap(1),
    red: wrap(31),
    green: wrap(32),
    yellow: wrap(33),
    blue: wrap(34),
    magenta: wrap(35),
    cyan: wrap(36),
  };
}

/** A status line: rewritten in place on a TTY, printed at most every `everyMs` otherwise. */
export function createProgressLine(stream: NodeJS.WriteStream = process.stderr, everyMs = 5000) {
  let lastPrinted = 0;
  return {
    update(text: string) {
      if (stream.isTTY) stream.write(`\r\u001b[2K${text}`);
      else if (Date.now() - lastPrinted >= everyMs) {
        lastPrinted = Date.now();
        stream.write(`${text}\n`);
      }
    },
    done(text: string) {
      stream.write(stream.isTTY ? `\r\u001b[2K${text}\n` : `${text}\n`);
    },
  };
}
