/**
 * Redis setups past one server, made of real redis-servers (redis-server.ts): a Redis Cluster
 * (masters, optional replicas, slots spread by `redis-cli --cluster create`) and a Sentinel
 * setup (a master, a replica, sentinels watching them). Used by the tests and the bench.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { launchRedis, waitFor } from './redis-server.ts';
import type { RedisServer } from './redis-server.ts';

const run = promisify(execFile);

/** The redis-cli binary: REDIS_CLI_BIN, else `redis-cli` on the PATH. */
const CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

/** A running Redis Cluster. */
export interface RedisCluster {
  /** Masters first (in slot order), then replicas. */
  readonly nodes: RedisServer[];
  /** `redis+cluster://127.0.0.1:<p>,…` naming every master (the roomcast URL). */
  readonly url: string;
  /** The node that serves `key`'s slot now. */
  masterOf(key: string): Promise<RedisServer>;
  /** Stops every node and removes their directories. */
  close(): Promise<void>;
}

/** Options of a test cluster. */
export interface ClusterOptions {
  /** Masters (each holds a third of the slots with 3). Default 3. */
  masters?: number;
  /** Replicas per master. Default 0. */
  replicas?: number;
  /** cluster-node-timeout, ms (how soon a dead master is failed over). Default 2000. */
  nodeTimeout?: number;
  /** More redis-server arguments for every node. */
  args?: string[];
}

/** Starts a Redis Cluster on free ports; resolves once every node says `cluster_state:ok`. */
export async function startRedisCluster(options: ClusterOptions = {}): Promise<RedisCluster> {
  const { masters = 3, replicas = 0, nodeTimeout = 2000 } = options;
  const count = masters * (1 + replicas);
  const nodes: RedisServer[] = [];
  const close = async () => {
    await Promise.all(nodes.map((node) => node.close()));
  };
  try {
    for (let i = 0; i < count; i++) {
      nodes.push(
        await launchRedis({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            String(nodeTimeout),
            // A lone node never learns its own address from a peer: say it.
            '--cluster-announce-ip',
            '127.0.0.1',
            ...(options.args ?? []),
          ],
        }),
      );
    }
    if (masters < 3 && replicas === 0) {
      // redis-cli wants 3 masters at least: fewer get their slots by hand.
      const per = Math.ceil(16384 / masters);
      for (const [index, node] of nodes.entries()) {
        const last = Math.min(16383, (index + 1) * per - 1);
        await node.command('CLUSTER', 'ADDSLOTSRANGE', String(index * per), String(last));
        if (index > 0) await node.command('CLUSTER', 'MEET', '127.0.0.1', String(nodes[0]!.port));
      }
    } else {
      // Slots spread evenly over the masters, replicas assigned; waits until the nodes agree.
      await run(CLI, [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ]);
    }
    await Promise.all(
      nodes.map((node) =>
        waitFor(
          async () => (await node.command('CLUSTER', 'INFO')).includes('cluster_state:ok'),
          `cluster node ${node.port} not ok`,
        ),
      ),
    );
  } catch (error) {
    await close();
    throw error;
  }
  const byPort = new Map(nodes.map((node) => [node.port, node]));
  return {
    nodes,
    url: `redis+cluster://${nodes
      .slice(0, masters)
      .map((node) => `127.0.0.1:${node.port}`)
      .join(',')}`,
    async masterOf(key) {
      const slot = Number(await nodes[0]!.command('CLUSTER', 'KEYSLOT', key));
      for (const node of nodes) {
        if (node.pid === undefined) continue;
        const lines = await node.command('CLUSTER', 'NODES').catch(() => '');
        for (const line of lines.split('\n')) {
          const [, address = '', flags = '', , , , , , ...ranges] = line.split(' ');
          if (!flags.includes('master') || flags.includes('fail')) continue;
          const covers = ranges.some((range) => {
            const [from, to = from] = range.split('-').map(Number);
            return slot >= from! && slot <= to!;
          });
          const port = Number(address.split(':')[1]?.split('@')[0]);
          if (covers && byPort.has(port)) return byPort.get(port)!;
        }
        break;
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    close,
  };
}

/** A running Sentinel setup. */
export interface RedisSentinels {
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinels: RedisServer[];
  /** The monitored master's name. */
  readonly name: string;
  /** `redis+sentinel://127.0.0.1:<p>,…/<name>` (the roomcast URL). */
  readonly url: string;
  /** Port of the master the sentinels name now. */
  masterPort(): Promise<number>;
  /** SENTINEL FAILOVER; resolves once the sentinels name the other server as master. */
  failover(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a master, a replica of it and `sentinels` sentinels (quorum 1). Default 1 sentinel. */
export async function startRedisSentinels(
  options: { sentinels?: number; name?: string } = {},
): Promise<RedisSentinels> {
  const { name = 'roomcast-master' } = options;
  const started: RedisServer[] = [];
  const close = async () => {
    // Sentinels first, so they do not fail over the servers that stop.
    await Promise.all(started.slice(2).map((node) => node.close()));
    await Promise.all(started.slice(0, 2).map((node) => node.close()));
  };
  try {
    const master = await launchRedis();
    started.push(master);
    const replica = await launchRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    started.push(replica);
    await waitFor(
      async () => (await replica.command('INFO', 'replication')).includes('master_link_status:up'),
      'replica did not sync',
    );
    const sentinels: RedisServer[] = [];
    for (let i = 0; i < (options.sentinels ?? 1); i++) {
      const sentinel = await launchRedis({
        sentinelConfig: [
          `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
          `sentinel down-after-milliseconds ${name} 2000`,
          `sentinel failover-timeout ${name} 10000`,
        ].join('\n'),
      });
      sentinels.push(sentinel);
      started.push(sentinel);
    }
    const masterPort = async () =>
      Number(
        (await sentinels[0]!.command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)).split('\n')[1],
      );
    // The sentinel knows the replica once it has asked the master (INFO every 10 s at first).
    await waitFor(
      async () => (await sentinels[0]!.command('SENTINEL', 'REPLICAS', name)).includes('slave'),
      'sentinel did not find the replica',
      20_000,
    );
    return {
      master,
      replica,
      sentinels,
      name,
      url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${name}`,
      masterPort,
      async failover() {
        const before = await masterPort();
        // NOGOODSLAVE until the sentinel has fresh INFO from the replica: asked again.
        await waitFor(
          async () => (await sentinels[0]!.command('SENTINEL', 'FAILOVER', name)) === 'OK',
          'sentinel refused the failover',
          20_000,
        );
        await waitFor(
          async () => (await masterPort()) !== before,
          'failover did not happen',
          20_000,
        );
        const promoted = before === master.port ? replica : master;
        await waitFor(
          async () => (await promoted.command('INFO', 'replication')).includes('role:master'),
          'promoted server is not master',
        );
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
