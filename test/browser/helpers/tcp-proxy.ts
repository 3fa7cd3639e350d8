/**
 * A TCP proxy (node:net) between a browser and a server, able to cut every connection
 * mid-stream and refuse new ones for a while: a network outage on demand.
 */
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** http://127.0.0.1:<port>, to be used as the client's server URL. */
  url: string;
  /** When each incoming connection arrived (ms since epoch), refused ones included. */
  readonly connections: number[];
  /** Resets every open connection now and refuses new ones for `outageMs`. */
  cut(outageMs?: number): void;
  close(): Promise<void>;
}

/** Starts a proxy on port 0 that forwards to `target` (an http://host:port URL). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  const connections: number[] = [];
  let refuseUntil = 0;

  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {}); // resets are the point here
  };

  const server = createServer((downstream) => {
    connections.push(Date.now());
    track(downstream);
    if (Date.now() < refuseUntil) return void downstream.resetAndDestroy();
    const upstream = connect(Number(port), hostname);
    track(upstream);
    downstream.pipe(upstream).pipe(downstream);
    upstream.on('close', () => downstream.destroy());
    downstream.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${address.port}`,
    connections,
    cut(outageMs = 0) {
      refuseUntil = Date.now() + outageMs;
      // RST rather than FIN: the browser sees a dead connection, not a polite close.
      for (const socket of open) socket.resetAndDestroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
