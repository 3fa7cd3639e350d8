/**
 * Posts signed webhooks the way Huddle01 does, to one node or several behind a pretend load
 * balancer: a 5xx or a network error is retried (on the next node) until it is accepted; every
 * answer is fed to the invariant checker; an answer that does not come within `hangAfterMs`
 * counts as a hang (the request is abandoned and retried).
 */
import { signRawWebhook } from '../../server/src/webhooks/sign-webhook.ts';
import { TEST_KEY } from '../helpers/server.ts';
import type { InvariantChecker } from './invariant-checker.ts';

/** Options of the poster. */
export interface PosterOptions {
  checker: InvariantChecker;
  /** Node base URLs; requests go round-robin and a retry goes to the next one. */
  urls: string[];
  /** API key that signs. Default the test key. */
  key?: string;
  /** An answer slower than this is a hang. Default 30 s. */
  hangAfterMs?: number;
  /** Pause between retries, ms. Default 200. */
  retryDelayMs?: number;
  /** Retries before giving up (a failure, counted). Default 300. */
  maxAttempts?: number;
}

/** Counters of the poster. */
export interface PosterStats {
  /** Webhooks posted (each counted once, however many attempts). */
  webhooks: number;
  /** Answers by status; 0 = network error, -1 = no answer in time (a hang). */
  answers: Record<number, number>;
  retries: number;
  /** Webhooks never accepted within maxAttempts. */
  failed: number;
  /** The slowest answer, ms. */
  slowestMs: number;
}

/** What became of one webhook. */
export interface PostOutcome {
  id: string;
  status: number;
  body: Record<string, unknown>;
  attempts: number;
}

/** The poster. */
export interface WebhookPoster {
  readonly stats: PosterStats;
  /** Posts until accepted (2xx); resolves with the final answer. */
  post(event: string, payload: unknown, id?: string): Promise<PostOutcome>;
  /** Resolves when every post in flight has settled. */
  idle(): Promise<void>;
}

let counter = 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates a poster. */
export function createWebhookPoster(options: PosterOptions): WebhookPoster {
  const { checker, urls, key = TEST_KEY } = options;
  const hangAfterMs = options.hangAfterMs ?? 30_000;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const maxAttempts = options.maxAttempts ?? 300;
  const stats: PosterStats = { webhooks: 0, answers: {}, retries: 0, failed: 0, slowestMs: 0 };
  const inFlight = new Set<Promise<unknown>>();
  let next = 0;

  async function attempt(url: string, text: string, id: string) {
    const started = Date.now();
    try {
      const response = await fetch(`${url}/webhooks/huddle01`, {
        method: 'POST',
        headers: {
          'content-type': 'text/plain',
          'huddle01-signature': signRawWebhook(text, id, key),
        },
        body: text,
        signal: AbortSignal.timeout(hangAfterMs),
      });
      const body = (await response.json()) as Record<string, unknown>;
      return { status: response.status, body };
    } catch (error) {
      const hang = (error as Error).name === 'TimeoutError';
      return { status: hang ? -1 : 0, body: { error: String(error) } };
    } finally {
      stats.slowestMs = Math.max(stats.slowestMs, Date.now() - started);
    }
  }

  async function post(event: string, payload: unknown, givenId?: string): Promise<PostOutcome> {
    const id = givenId ?? `wh-rel-${process.pid}-${++counter}`;
    const text = JSON.stringify({ id, event, payload });
    stats.webhooks++;
    for (let attempts = 1; attempts <= maxAttempts; attempts++) {
      const url = urls[next++ % urls.length]!;
      const { status, body } = await attempt(url, text, id);
      stats.answers[status] = (stats.answers[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        if (status === 200 && typeof body.seq === 'number') {
          checker.acknowledged({ roomId: String(body.roomId), seq: body.seq, id, event, payload });
        } else if (body.duplicate === true) checker.duplicate(id, event);
        return { id, status, body, attempts };
      }
      // 4xx will not change on a retry; 5xx, network errors and hangs are retried.
      if (status >= 400 && status < 500) return { id, status, body, attempts };
      stats.retries++;
      await sleep(retryDelayMs);
    }
    stats.failed++;
    return { id, status: 0, body: {}, attempts: maxAttempts };
  }

  return {
    stats,
    post(event, payload, id) {
      const task = post(event, payload, id);
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      return task;
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

/** One webhook of a timed script (`roomcast simulate`'s meeting script). */
export interface TimedWebhook {
  at: number;
  event: string;
  payload: unknown;
}

/**
 * Posts `script` on its clock from now (each webhook at `at` ms), at most `concurrency` in
 * flight, as `roomcast simulate` does; resolves when every webhook was accepted or given up.
 */
export async function playScript(
  poster: WebhookPoster,
  script: readonly TimedWebhook[],
  concurrency = 16,
): Promise<void> {
  const start = Date.now();
  const pending = new Set<Promise<unknown>>();
  for (const { at, event, payload } of script) {
    const wait = start + at - Date.now();
    if (wait > 0) await sleep(wait);
    while (pending.size >= concurrency) await Promise.race(pending);
    const task = poster.post(event, payload).finally(() => pending.delete(task));
    pending.add(task);
  }
  await Promise.all(pending);
}
