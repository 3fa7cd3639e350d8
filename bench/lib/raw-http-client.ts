/**
 * A minimal keep-alive HTTP/1.1 load generator on node:net: `concurrency` connections, each
 * sending the next pre-built request as soon as the previous answer is complete. Given several
 * ports (several nodes behind a load balancer), connection i goes to port i mod N.
 *
 * Why not node:http or fetch: on a 2-core machine the load generator shares the box with the
 * server, and node:http's client costs about as much CPU per request as a fastify route; a
 * client that only writes prepared bytes and reads a status line and a Content-Length keeps
 * the load generator from being the bottleneck.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** Outcome of one load phase. */
export interface LoadResult {
  /** Requests answered within the phase. */
  completed: number;
  /** Count of answers by HTTP status. */
  statuses: Record<string, number>;
  /** Time from the first request to the last answer, ms. */
  wallMs: number;
  /** CPU used by this (load generator) process during the phase, µs. */
  clientCpuUs: number;
  /** Connections that failed or were closed by the server. */
  connectionErrors: number;
  /** Requests answered per port, in the order of `ports`. */
  completedByPort: number[];
}

/** Options of `runLoad`. */
export interface LoadOptions {
  /** Where to send: one port, or several that share the connections round-robin. */
  ports: readonly number[];
  host?: string;
  /** Connections, each with one request in flight. */
  concurrency: number;
  /** Phase length, ms: no request is started after it (answers in flight are awaited). */
  durationMs: number;
  /** Returns the bytes of the next request (called once per request). */
  nextRequest: () => Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

/** Parses complete responses off a connection's byte stream. */
class ResponseReader {
  private buffer: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the status of each response completed by them. */
  push(chunk: Buffer): number[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const statuses: number[] = [];
    while (true) {
      const headerEnd = this.buffer.indexOf(HEADER_END);
      if (headerEnd < 0) break;
      const head = this.buffer.toString('latin1', 0, headerEnd);
      const length = CONTENT_LENGTH.exec(head);
      // The servers under test answer with Content-Length; anything else is a setup error.
      if (!length) throw new Error(`response without content-length: ${head.slice(0, 200)}`);
      const total = headerEnd + HEADER_END.length + Number(length[1]);
      if (this.buffer.length < total) break;
      statuses.push(Number(head.slice(9, 12)));
      this.buffer = this.buffer.subarray(total);
    }
    return statuses;
  }
}

/** Runs one load phase against 127.0.0.1:`ports`. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { ports, host = '127.0.0.1', concurrency, durationMs, nextRequest } = options;
  if (ports.length === 0) throw new Error('runLoad: no port');
  const statuses: Record<string, number> = {};
  const completedByPort = ports.map(() => 0);
  let completed = 0;
  let connectionErrors = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  let lastAnswer = started;

  const sockets = await Promise.all(
    Array.from(
      { length: concurrency },
      (_, index) =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect({ port: ports[index % ports.length]!, host, noDelay: true });
          socket.once('connect', () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );

  await Promise.all(
    sockets.map(
      (socket, index) =>
        new Promise<void>((resolve) => {
          const portIndex = index % ports.length;
          const reader = new ResponseReader();
          const finish = () => {
            socket.removeAllListeners('data');
            resolve();
          };
          socket.on('data', (chunk: Buffer) => {
            let answered: number[];
            try {
              answered = reader.push(chunk);
            } catch (error) {
              connectionErrors++;
              process.stderr.write(`${String(error)}\n`);
              socket.destroy();
              return finish();
            }
            for (const status of answered) {
              completed++;
              statuses[status] = (statuses[status] ?? 0) + 1;
            }
            completedByPort[portIndex]! += answered.length;
            if (answered.length === 0) return;
            lastAnswer = performance.now();
            if (lastAnswer < deadline) socket.write(nextRequest());
            else finish();
          });
          socket.once('error', () => {
            connectionErrors++;
            finish();
          });
          socket.once('close', finish);
          socket.write(nextRequest());
        }),
    ),
  );
  for (const socket of sockets) socket.destroy();
  const { user, system } = process.cpuUsage(cpuStart);
  return {
    completed,
    statuses,
    wallMs: lastAnswer - started,
    clientCpuUs: user + system,
    connectionErrors,
    completedByPort,
  };
}
