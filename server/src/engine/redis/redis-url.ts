/**
 * `REDIS_URL` → what to connect to. Four forms (docs/deployment.md):
 * - `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS): one server;
 * - `redis+cluster://[user:pass@]host:port,host:port` (`rediss+cluster://` for TLS): seed nodes
 *   of a Redis Cluster;
 * - `redis+sentinel://[user:pass@]host:port,host:port/<master name>[/db]` (`rediss+sentinel://`
 *   for TLS to the data nodes): the sentinels and the name of the master they watch;
 *   `?sentinelPassword=` when the sentinels want one of their own.
 * The credentials are those of the data nodes. A bad URL throws RedisUrlError saying why.
 */

/** host:port of one node. */
export interface RedisAddress {
  host: string;
  port: number;
}

/** What every form shares. */
interface TargetBase {
  tls: boolean;
  username?: string;
  password?: string;
}

/** A parsed `REDIS_URL`. */
export type RedisTarget =
  | (TargetBase & { kind: 'standalone'; url: string; address: RedisAddress; db: number })
  | (TargetBase & { kind: 'cluster'; nodes: RedisAddress[] })
  | (TargetBase & {
      kind: 'sentinel';
      sentinels: RedisAddress[];
      name: string;
      db: number;
      sentinelPassword?: string;
    });

/** A `REDIS_URL` that cannot be used; the message says why. */
export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

/** The accepted forms, for error messages. */
export const REDIS_URL_FORMS =
  'redis://host:6379, rediss://host:6380 (TLS), redis+cluster://host:port,host:port or redis+sentinel://host:port,host:port/<master>';

const SCHEMES: Record<string, { kind: RedisTarget['kind']; tls: boolean }> = {
  redis: { kind: 'standalone', tls: false },
  rediss: { kind: 'standalone', tls: true },
  'redis+cluster': { kind: 'cluster', tls: false },
  'rediss+cluster': { kind: 'cluster', tls: true },
  'redis+sentinel': { kind: 'sentinel', tls: false },
  'rediss+sentinel': { kind: 'sentinel', tls: true },
};

function fail(detail: string): never {
  throw new RedisUrlError(`${detail}; expected ${REDIS_URL_FORMS}`);
}

function address(text: string, defaultPort: number): RedisAddress {
  // [v6]:port, host:port or host
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/\s]+))(?::(\d{1,5}))?$/.exec(text);
  if (!match) fail(`"${text}" is not a host:port`);
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port < 1 || port > 65535) fail(`port ${port} is out of range`);
  return { host: match[1] ?? match[2]!, port };
}

function database(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d{1,2}$/.test(text)) fail(`"/${text}" is not a database number`);
  return Number(text);
}

/** Parses `REDIS_URL` (see the module comment); throws RedisUrlError. */
export function parseRedisUrl(text: string): RedisTarget {
  const match = /^([a-z+]+):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(text.trim());
  if (!match) fail(`"${redact(text)}" is not a URL`);
  const scheme = SCHEMES[match[1]!.toLowerCase()];
  if (!scheme) fail(`unknown scheme "${match[1]}:"`);
  const authority = match[2]!;
  const at = authority.lastIndexOf('@');
  const hosts = authority.slice(at + 1);
  const credentials: TargetBase = { tls: scheme.tls };
  if (at >= 0) {
    const [user = '', ...rest] = authority.slice(0, at).split(':');
    if (user !== '') credentials.username = decodeURIComponent(user);
    if (rest.length > 0) credentials.password = decodeURIComponent(rest.join(':'));
  }
  if (hosts === '') fail('no host given');
  const list = hosts.split(',').map((item) => item.trim());
  const path = (match[3] ?? '').split('/').slice(1);
  const query = new URLSearchParams(match[4] ?? '');

  if (scheme.kind === 'standalone') {
    if (list.length > 1) {
      fail(`${list.length} hosts in a ${match[1]}:// URL (a cluster is redis+cluster://)`);
    }
    if (path.length > 1) fail(`"${match[3]}" is not a database number`);
    return {
      kind: 'standalone',
      ...credentials,
      url: text.trim(),
      address: address(list[0]!, 6379),
      db: database(path[0]),
    };
  }
  if (scheme.kind === 'cluster') {
    if (path.some((part) => part !== ''))
      fail('a cluster URL takes no path (Redis Cluster has only db 0)');
    return { kind: 'cluster', ...credentials, nodes: list.map((item) => address(item, 6379)) };
  }
  const name = path[0] === undefined ? '' : decodeURIComponent(path[0]);
  if (name === '') fail('no master name (redis+sentinel://host:port/<master>)');
  if (path.length > 2) fail(`"${match[3]}" is not /<master>[/<db>]`);
  const sentinelPassword = query.get('sentinelPassword') ?? undefined;
  return {
    kind: 'sentinel',
    ...credentials,
    sentinels: list.map((item) => address(item, 26379)),
    name,
    db: database(path[1]),
    ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
  };
}

/** `text` with any password replaced by `***` (for messages and logs). */
export function redact(text: string): string {
  return text.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}
