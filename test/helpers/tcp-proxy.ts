/**
 * A TCP proxy (node:net) between a client and a server: a network fault on demand. `cut` resets
 * every connection (both ends see it at once); `blackhole` keeps the connections open but lets
 * nothing through either way, like a partition where packets vanish: only a liveness check
 * (WebSocket ping/pong) can tell.
 */
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** http://127.0.0.1:<port>, to be used as the client's server URL. */
  url: string;
  /** ws://127.0.0.1:<port>, the same address for WebSocket clients. */
  wsUrl: string;
  /** When each incoming connection arrived (ms since epoch), refused ones included. */
  readonly connections: number[];
  /** Connections currently open (client side). */
  readonly open: number;
  /** Resets every open connection now and refuses new ones for `outageMs`. */
  cut(outageMs?: number): void;
  /** Silently discards everything either way on the open connections (they stay open). */
  blackhole(): void;
  close(): Promise<void>;
}

/** Starts a proxy on port 0 that forwards to `target` (an http://host:port URL). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  const connections: number[] = [];
  let refuseUntil = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // resets are the point here
  };

  const server = createServer((downstream) => {
    connections.push(Date.now());
    track(downstream);
    if (Date.now() < refuseUntil) return void downstream.resetAndDestroy();
    const upstream = connect(Number(port), hostname);
    track(upstream);
    const pair: [Socket, Socket] = [downstream, upstream];
    pairs.add(pair);
    downstream.pipe(upstream).pipe(downstream);
    upstream.on('close', () => downstream.destroy());
    downstream.on('close', () => {
      upstream.destroy();
      pairs.delete(pair);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${address.port}`,
    wsUrl: `ws://127.0.0.1:${address.port}`,
    connections,
    get open() {
      return pairs.size;
    },
    cut(outageMs = 0) {
      refuseUntil = Date.now() + outageMs;
      // RST rather than FIN: the client sees a dead connection, not a polite close.
      for (const socket of sockets) socket.resetAndDestroy();
    },
    blackhole() {
      for (const [downstream, upstream] of pairs) {
        downstream.unpipe(upstream);
        upstream.unpipe(downstream);
        // Read and drop: both kernels keep acknowledging, nothing arrives on either side.
        for (const socket of [downstream, upstream]) {
          socket.removeAllListeners('data');
          socket.on('data', () => {});
          socket.resume();
        }
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
