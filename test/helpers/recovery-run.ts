/**
 * One paced-recovery run, for the test (few rooms) and the bench tool (5,000): a listening
 * engine reaches Redis through a TCP proxy and subscribes `rooms` rooms; the proxy cuts it off,
 * a writer engine (direct) appends one entry to every room meanwhile, the proxy lets it back;
 * the run ends once every room delivered its missed entry.
 */
import { createRedisEngine } from '../../server/src/engine/redis-engine.ts';
import { peerJoined } from './payloads.ts';
import { webhookId } from './server.ts';
import { startTcpProxy } from './tcp-proxy.ts';

/** What a recovery run measured. */
export interface RecoveryRun {
  rooms: number;
  /** From the proxy letting the listener back in to the last room's missed entry, ms. */
  recoveryMs: number;
  /** Most catch-up reads in flight at once. */
  maxInFlight: number;
  /** The writes outlasted the outage (then some entries came by pub/sub: raise outageMs). */
  writesOutlasted: boolean;
}

/** Runs one recovery of `rooms` listened rooms on the Redis at `redisUrl`. */
export async function runRecovery(
  redisUrl: string,
  options: { rooms: number; concurrency?: number; keyPrefix: string; outageMs?: number },
): Promise<RecoveryRun> {
  const { rooms, keyPrefix, outageMs = 1500 } = options;
  const proxy = await startTcpProxy(redisUrl.replace('redis://', 'http://'));
  const listener = createRedisEngine({
    url: proxy.url.replace('http://', 'redis://'),
    keyPrefix,
    ...(options.concurrency === undefined ? {} : { catchUpConcurrency: options.concurrency }),
  });
  const writer = createRedisEngine({ url: redisUrl, keyPrefix });
  try {
    const ids = Array.from({ length: rooms }, (_, i) => `recovery-${i}`);
    const pending = new Set(ids);
    let done: () => void = () => undefined;
    const allDelivered = new Promise<void>((resolve) => (done = resolve));
    const batch = 200;
    for (let i = 0; i < ids.length; i += batch) {
      await Promise.all(
        ids.slice(i, i + batch).map((room) =>
          listener.subscribe(room, (entry) => {
            if (entry.seq >= 1 && pending.delete(room) && pending.size === 0) done();
          }),
        ),
      );
    }
    const cutAt = Date.now();
    proxy.cut(outageMs);
    for (let i = 0; i < ids.length; i += batch) {
      await Promise.all(
        ids.slice(i, i + batch).map((room) =>
          writer.append({
            webhookId: webhookId(),
            event: 'peer:joined',
            payload: peerJoined(room, 'p1') as never,
            receivedAt: Date.now(),
          }),
        ),
      );
    }
    const writtenMs = Date.now() - cutAt;
    await allDelivered;
    // From the listener's first connection after the outage (its reconnect backoff is not
    // what is measured) to the last room's missed entry.
    const back = proxy.connections.find((at) => at >= cutAt + outageMs) ?? cutAt + outageMs;
    return {
      rooms,
      recoveryMs: Date.now() - back,
      maxInFlight: listener.recoveryStats().maxInFlight,
      writesOutlasted: writtenMs >= outageMs,
    };
  } finally {
    await Promise.all([listener.close(), writer.close()]);
    await proxy.close();
  }
}
