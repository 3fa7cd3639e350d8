/**
 * Starts probe-server.ts as a child process (so its memory is measured alone) and asks it about
 * itself: memory after GC, active resources, listeners, prototype pollution; plus its /metrics.
 */
import { fileURLToPath } from 'node:url';
import { startNode } from '../helpers/node-process.ts';
import type { NodeProcess } from '../helpers/node-process.ts';
import { parseMetrics } from '../helpers/metrics.ts';
import type { Samples } from '../helpers/metrics.ts';

const ENTRY = fileURLToPath(new URL('./probe-server.ts', import.meta.url));

/** What the probe server reports about itself. */
export interface ProbeReport {
  /** True when the figures were taken after full GCs (--expose-gc). */
  collected: boolean;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** process.getActiveResourcesInfo() counted by type (Timeout, TCPSocketWrap, …). */
  resources: Record<string, number>;
  /** Every live timer and TCP socket by async-hooks type (Timeout, TCPWRAP), unref'd ones too; empty unless PROBE_TRACK_RESOURCES=1. */
  tracked: Record<string, number>;
  /** Listeners on the long-lived emitters. */
  listeners: { process: number; server: number; websocketServer: number };
  /** True when Object.prototype gained a key, or `({}).polluted` is defined. */
  polluted: boolean;
  extraPrototypeKeys: string[];
}

/** A probe server child. */
export interface ProbeServer extends NodeProcess {
  probe(): Promise<ProbeReport>;
  /** The server's /metrics, parsed. */
  metrics(): Promise<Samples>;
}

/** Starts the probe server with the given environment (PORT is 0; --expose-gc is on). */
export async function startProbeServer(env: Record<string, string> = {}): Promise<ProbeServer> {
  const node = await startNode(
    { PORT: '0', ...env },
    {
      argv: ['--expose-gc', '--import', 'tsx', ENTRY],
      ipc: true,
      maxOutput: 1_000_000,
    },
  );
  let next = 0;
  const waiting = new Map<number, (report: ProbeReport) => void>();
  node.child.on('message', (message: { type?: string; id?: number; report?: ProbeReport }) => {
    if (message.type !== 'probe' || message.id === undefined) return;
    waiting.get(message.id)?.(message.report!);
    waiting.delete(message.id);
  });
  return {
    ...node,
    probe() {
      const id = ++next;
      return new Promise<ProbeReport>((resolve, reject) => {
        waiting.set(id, resolve);
        node.child.send({ type: 'probe', id }, (error) => error && reject(error));
      });
    },
    async metrics() {
      return parseMetrics(await (await fetch(`${node.url}/metrics`)).text());
    },
  };
}
