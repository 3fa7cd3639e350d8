/**
 * Waiting in tests: for a condition, with a deadline and a message that says what never came.
 * A test that waits for an event rather than sleeping is both faster and not flaky on a busy
 * machine; a negative check waits for a later probe's answer instead of for time to pass.
 */

/** Options of `until`. */
export interface UntilOptions {
  /** Longest wait before failing. Default 5000 ms. */
  timeoutMs?: number;
  /** What is awaited, for the failure message. Default `'a condition'`. */
  what?: string;
  /** Time between two checks. Default 10 ms. */
  intervalMs?: number;
}

/** Resolves once `check` holds (it may be async); rejects, naming `what`, at the deadline. */
export async function until(
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 5000, what = 'a condition', intervalMs = 10 }: UntilOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Reads a response body until `done(text)` holds for the text read so far, and returns that text.
 * Rejects, with the text so far, when the stream ends first or at the deadline (a stalled stream
 * fails in seconds, not at the runner's timeout); the reader is cancelled then.
 */
export async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  done: (text: string) => boolean,
  { timeoutMs = 5000, what = 'the expected text' }: Omit<UntilOptions, 'intervalMs'> = {},
): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void reader.cancel().catch(() => undefined);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; read ${text}`));
    }, timeoutMs);
  });
  try {
    while (!done(text)) {
      const chunk = await Promise.race([reader.read(), deadline]);
      if (chunk.done) throw new Error(`the stream ended before ${what}; read ${text}`);
      text += decoder.decode(chunk.value, { stream: true });
    }
    return text;
  } finally {
    clearTimeout(timer);
  }
}
