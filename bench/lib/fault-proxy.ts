/**
 * A TCP proxy on loopback in front of one or more servers, with faults per client: the network
 * between a subscriber and its server. Clients are told apart by their source address (each
 * bench client binds its own 127.x.y.z), so `cut(address, outageMs)` resets that client's
 * connection (RST both ways, as a dropped link looks) and refuses its reconnects for the outage,
 * while every other client goes on. With several targets it is also the load balancer of a
 * deploy: new connections go round robin to the targets, and one refused by a target (a node
 * shutting down) is tried on the next, as HAProxy's `retries` does.
 */
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/** A running fault proxy. */
export interface FaultProxy {
  /** Port on 127.0.0.1. */
  readonly port: number;
  /** Connections refused because their client was inside an outage. */
  readonly refused: number;
  /** Replaces the ports new connections go to (open connections stay where they are). */
  setTargets(ports: readonly number[]): void;
  /** Resets the connections of the client at `address` and refuses it for `outageMs`. */
  cut(address: string, outageMs: number): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1, port 0, forwarding to 127.0.0.1:`targets[i]`. */
export async function startFaultProxy(targets: readonly number[]): Promise<FaultProxy> {
  let ports = [...targets];
  let next = 0;
  let refused = 0;
  /** Open client-side sockets by source address (one client per address). */
  const byAddress = new Map<string, Set<Socket>>();
  const refuseUntil = new Map<string, number>();
  const all = new Set<Socket>();

  const track = (socket: Socket) => {
    all.add(socket);
    socket.on('close', () => all.delete(socket));
    socket.on('error', () => {}); // resets are the point here
  };

  /** Connects upstream, trying each target once (a closed listener answers at once). */
  const dial = (downstream: Socket, address: string, attempt: number) => {
    if (attempt >= ports.length || downstream.destroyed) return void downstream.resetAndDestroy();
    const port = ports[next++ % ports.length]!;
    // From the client's own address: every client's upstream 4-tuples are its own, so the
    // TIME_WAITs of thousands of reconnects never exhaust one address's ephemeral ports.
    const upstream = connect({ port, host: '127.0.0.1', localAddress: address, noDelay: true });
    let connected = false;
    upstream.on('error', () => {
      if (!connected) dial(downstream, address, attempt + 1);
    });
    upstream.on('connect', () => {
      connected = true;
      if (downstream.destroyed) return void upstream.destroy();
      track(upstream);
      downstream.pipe(upstream).pipe(downstream);
      upstream.on('close', () => downstream.destroy());
      downstream.on('close', () => upstream.destroy());
    });
  };

  const server = createServer({ noDelay: true, pauseOnConnect: true }, (downstream) => {
    track(downstream);
    const address = downstream.remoteAddress ?? '';
    if ((refuseUntil.get(address) ?? 0) > Date.now()) {
      refused++;
      return void downstream.resetAndDestroy();
    }
    let sockets = byAddress.get(address);
    if (!sockets) byAddress.set(address, (sockets = new Set()));
    sockets.add(downstream);
    downstream.on('close', () => sockets.delete(downstream));
    dial(downstream, address, 0);
  });
  server.maxConnections = Number.MAX_SAFE_INTEGER;
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve),
  );

  return {
    port: (server.address() as AddressInfo).port,
    get refused() {
      return refused;
    },
    setTargets(list) {
      ports = [...list];
    },
    cut(address, outageMs) {
      refuseUntil.set(address, Date.now() + outageMs);
      // RST rather than FIN: the client sees a dead link, not a polite close; `pipe` then
      // destroys the upstream side, so the server sees it go too.
      for (const socket of byAddress.get(address) ?? []) socket.resetAndDestroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of all) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
