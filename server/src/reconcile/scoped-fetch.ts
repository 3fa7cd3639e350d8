/**
 * A seam into the fetch calls of @huddle01/server-sdk's `API` class, for the calls roomcast makes
 * only. The SDK builds its client once with a fixed base URL and calls the global `fetch` with
 * no signal; it logs every non-200 answer to the console (a normal "room not live" 404
 * included) and throws errors that lose the status and Retry-After. So roomcast runs each SDK
 * call inside an AsyncLocalStorage scope, and a thin wrapper around the global `fetch`, inert
 * outside such a scope, gives that one request:
 * - the call's AbortSignal (a real per-call timeout),
 * - an optional other base URL (an egress proxy, or a local test double),
 * - a record of the status, Retry-After or network failure, and for a non-200 answer an empty
 *   200 in its place, so the SDK returns quietly and the caller decides from the record.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** One SDK call's request options and what its HTTP exchange turned out to be. */
export interface FetchScope {
  /** Aborts the request (timeout). */
  signal: AbortSignal;
  /** Rewrites URLs starting with `from` to start with `to` instead. */
  rewrite?: { from: string; to: string };
  /** The response status, once answered. */
  status?: number;
  /** The response's Retry-After header, if any. */
  retryAfter?: string | null;
  /** The fetch failure (network error, abort), if it threw. */
  failure?: unknown;
  /** Set by the wrapper that handled the request (only the first one a request meets). */
  handled: boolean;
}

const scopes = new AsyncLocalStorage<FetchScope>();
let installed: typeof fetch | undefined;

/** Runs `call` (an SDK method) with `scope` applying to the fetch requests it makes. */
export function runInFetchScope<T>(scope: FetchScope, call: () => Promise<T>): Promise<T> {
  ensureInstalled();
  return scopes.run(scope, call);
}

function ensureInstalled(): void {
  // Re-wrapped if something replaced the global fetch since (the newest one is wrapped).
  if (installed !== undefined && globalThis.fetch === installed) return;
  const inner = globalThis.fetch;
  const scopedFetch: typeof fetch = async (input, init) => {
    const scope = scopes.getStore();
    if (scope === undefined || scope.handled) return inner(input, init);
    scope.handled = true;
    try {
      const response = await inner(rewritten(input, scope), { ...init, signal: scope.signal });
      scope.status = response.status;
      scope.retryAfter = response.headers.get('retry-after');
      if (response.status === 200) return response;
      await response.body?.cancel();
    } catch (error) {
      scope.failure = error;
    }
    return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
  };
  installed = scopedFetch;
  globalThis.fetch = scopedFetch;
}

function rewritten(input: string | URL | Request, scope: FetchScope): string | URL | Request {
  const { rewrite } = scope;
  if (rewrite === undefined || input instanceof Request) return input;
  const url = String(input);
  return url.startsWith(rewrite.from) ? rewrite.to + url.slice(rewrite.from.length) : input;
}
