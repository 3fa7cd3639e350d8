/**
 * `createClient`, as apps call it: the options of the public contract, `shareTabs` and
 * `cache: 'session'` included, resolved onto the connection client (client.ts), the tab-sharing
 * client (share-tabs.ts) and the session cache (session-cache.ts).
 */
import { createClient as createConnectionClient } from './client.ts';
import type { Client, ClientOptions } from './client.ts';
import { sessionCache } from './session-cache.ts';
import { createSharedClient } from './share-tabs.ts';

/** Creates a client. Nothing connects until the first `room()`. */
export function createClient(options: ClientOptions): Client {
  const resolved: ClientOptions = {
    ...options,
    cache: options.cache === 'session' ? sessionCache() : options.cache,
  };
  return options.shareTabs ? createSharedClient(resolved) : createConnectionClient(resolved);
}
