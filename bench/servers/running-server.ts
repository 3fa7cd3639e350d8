/**
 * What every server under test is once started, and what the runner may set on one: the types the
 * server kinds (server-kinds.ts) and each server's module share, so neither imports the other.
 */

/** A started server under test. */
export interface RunningServer {
  /** TCP port on 127.0.0.1. */
  port: number;
  close(): Promise<void>;
  /** What a deploy does first on SIGTERM (roomcast: refuse new subscribers); optional. */
  drain?(): void;
  /** Server-side counters worth a look (e.g. connections); optional. */
  stats?(): Record<string, number>;
}

/** What the runner may set on a server kind that supports it. */
export interface ServerParams {
  /** roomcast only: use the Redis engine on this URL (as `REDIS_URL` does) instead of memory. */
  redisUrl?: string;
}
