/**
 * A WebSocket client that writes frames byte by byte (RFC 6455 §5.2), so a fuzz case can send
 * what no well-behaved library would: fragments, reserved opcodes and bits, unmasked frames,
 * invalid UTF-8, lengths that lie. It reads the server's frames back (text, close code).
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** One frame to write. */
export interface RawFrame {
  fin: boolean;
  /** 4 bits: 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong; others reserved. */
  opcode: number;
  /** The RSV1-3 bits (0–7); non-zero without an extension is a protocol error. */
  rsv?: number;
  /** Clients must mask; false sends it bare (a protocol error). Default true. */
  masked?: boolean;
  payload: Buffer;
}

/** What the server sent back on one connection. */
export interface RawSession {
  /** Text frames, as strings. */
  texts: string[];
  /** The close frame's code, when one came (1005 when it carried none). */
  closeCode: number | undefined;
  /** True once the TCP connection ended. */
  ended: boolean;
  /** Pings received. */
  pings: number;
  /** The opcode of every frame received, in order. */
  opcodes: number[];
}

/** An open raw connection. */
export interface RawWebSocket {
  readonly session: RawSession;
  write(frame: RawFrame): void;
  /** Waits until the connection ends or nothing arrived for `quietMs`. */
  settle(quietMs?: number, maxMs?: number): Promise<RawSession>;
  destroy(): void;
}

/** Encodes one frame. */
export function encodeFrame({ fin, opcode, rsv = 0, masked = true, payload }: RawFrame): Buffer {
  const length = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
  const mask = masked ? 0x80 : 0;
  if (length < 126) head.push(mask | length);
  else if (length < 65536) head.push(mask | 126, length >> 8, length & 0xff);
  else {
    head.push(mask | 127, 0, 0, 0, 0);
    head.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from(head), key, body]);
}

/**
 * Opens `url` (http://host:port/path?query) and completes the upgrade. With `autoPong`, each
 * ping is answered (a client that stays alive); without it, none is.
 */
export async function openRawWebSocket(
  url: string,
  { autoPong = false }: { autoPong?: boolean } = {},
): Promise<RawWebSocket> {
  const { hostname, port, pathname, search } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  const session: RawSession = {
    texts: [],
    closeCode: undefined,
    ended: false,
    pings: 0,
    opcodes: [],
  };
  let buffer = Buffer.alloc(0);
  let upgraded = false;
  /** Last byte read or written: `settle` waits for a quiet spell after it. */
  let lastData = Date.now();
  const endedPromise = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('close', () => (session.ended = true));
  socket.on('error', () => undefined);

  /** Parses the server's (unmasked) frames out of `buffer`. */
  function parseFrames(): void {
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + length) return;
      const payload = buffer.subarray(offset, offset + length);
      buffer = buffer.subarray(offset + length);
      session.opcodes.push(opcode);
      if (opcode === 1) session.texts.push(payload.toString('utf8'));
      else if (opcode === 9) {
        session.pings++;
        if (autoPong && !socket.destroyed) {
          socket.write(encodeFrame({ fin: true, opcode: 10, payload: Buffer.from(payload) }));
        }
      } else if (opcode === 8)
        session.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    }
  }

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
          'Sec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    socket.on('data', (chunk: Buffer) => {
      lastData = Date.now();
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${head}`));
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        resolve();
      }
      parseFrames();
    });
  });

  return {
    session,
    write(frame) {
      lastData = Date.now(); // a reply is due from now on
      if (!socket.destroyed) socket.write(encodeFrame(frame));
    },
    async settle(quietMs = 150, maxMs = 5000) {
      const deadline = Date.now() + maxMs;
      while (!session.ended && Date.now() < deadline && Date.now() - lastData < quietMs) {
        await Promise.race([endedPromise, new Promise((resolve) => setTimeout(resolve, 25))]);
      }
      // A quiet connection may still have a reply on its way: one more short wait.
      if (!session.ended) await new Promise((resolve) => setTimeout(resolve, 25));
      return session;
    },
    destroy: () => socket.destroy(),
  };
}
