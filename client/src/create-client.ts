/**
 * `createClient`, as apps call it: the options of the public contract, `shareTabs` and
 * `cache: 'session'` included, resolved onto the connection client (client.ts), the tab-sharing
 * client (share-tabs.ts) and the session cache (session-cache.ts).
 */
import { createClient as createConnectionClient } from './client.ts';
import type { Client, ClientOptions } from './client.ts';
import type { AppEventMap } from './room.ts';
import { sessionCache } from './session-cache.ts';
import { createSharedClient } from './share-tabs.ts';

/**
 * Creates a client. Nothing connects until the first `room()`. Name your app events' payload
 * types to type `room.on('app:…')`: `createClient<{ 'app:hand-raised': { peerId: string } }>(…)`.
 */
export function createClient<A extends AppEventMap = AppEventMap>(
  options: ClientOptions,
): Client<A> {
  const resolved: ClientOptions = {
    ...options,
    cache: options.cache === 'session' ? sessionCache() : options.cache,
  };
  const client = options.shareTabs
    ? createSharedClient(resolved)
    : createConnectionClient(resolved);
  // The map only types handlers: the same client serves every map.
  return client as Client<A>;
}
