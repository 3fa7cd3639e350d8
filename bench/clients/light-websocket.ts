/**
 * A minimal WebSocket client on a raw `node:net` socket, for the fan-out subscribers: the HTTP/1.1
 * upgrade handshake (Sec-WebSocket-Accept checked), masked text frames out, and the server's
 * frames parsed incrementally in (split across reads, several per read, 7/16/64-bit lengths,
 * fragmented messages). Pings are answered with pongs (roomcast's heartbeat drops silent
 * sockets); a close is answered and ends the socket. No extensions, no UTF-8 validation.
 *
 * Why not the `ws` client: with 20,000 subscribers in one process, its per-message machinery (and
 * a string per message) is client CPU that the latency figures would otherwise measure. Messages
 * are handed over as byte ranges of the read buffer, valid only during the callback.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** Callbacks of a light WebSocket. */
export interface LightWebSocketHooks {
  /** A complete text or binary message, `buf` [start, end). */
  onMessage(buf: Buffer, start: number, end: number): void;
  /** The connection ended (after the handshake). */
  onClose(): void;
}

/** An open light WebSocket. */
export interface LightWebSocket {
  sendText(text: string): void;
  /** Destroys the connection at once (no closing handshake). */
  terminate(): void;
}

/** Every light socket reads into this buffer; what outlives a read is copied out of it. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEADERS_END = Buffer.from('\r\n\r\n');
const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** A masked client frame (RFC 6455 §5.3: every client frame is masked). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + extended + 4 + length);
  frame[0] = 0x80 | opcode;
  if (extended === 0) frame[1] = 0x80 | length;
  else if (extended === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const maskAt = 2 + extended;
  randomBytes(4).copy(frame, maskAt);
  for (let i = 0; i < length; i++) frame[maskAt + 4 + i] = payload[i]! ^ frame[maskAt + (i & 3)]!;
  return frame;
}

/** Incremental parser of the server's (unmasked) frames. */
function createFrameReader(socket: Socket, hooks: LightWebSocketHooks): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  let fragments: Buffer[] = [];

  const control = (opcode: number, payload: Buffer) => {
    if (opcode === OP_PING) socket.write(clientFrame(OP_PONG, payload));
    else if (opcode === OP_CLOSE) socket.end(clientFrame(OP_CLOSE, payload.subarray(0, 2)));
    // pong: nothing to do
  };

  return (chunk) => {
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    let at = 0;
    while (buf.length - at >= 2) {
      const first = buf[at]!;
      const second = buf[at + 1]!;
      if (second & 0x80) {
        socket.destroy(new Error('the server sent a masked frame'));
        return;
      }
      let length = second & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buf.length - at < 4) break;
        length = buf.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        if (buf.length - at < 10) break;
        length = buf.readUInt32BE(at + 2) * 2 ** 32 + buf.readUInt32BE(at + 6);
        header = 10;
      }
      if (buf.length - at < header + length) break;
      const start = at + header;
      const end = start + length;
      at = end;
      const fin = (first & 0x80) !== 0;
      const opcode = first & 0x0f;
      if (opcode >= OP_CLOSE) control(opcode, buf.subarray(start, end));
      else if (fin && fragments.length === 0) hooks.onMessage(buf, start, end);
      else if (opcode === OP_CONTINUATION || opcode === OP_TEXT || opcode === OP_BINARY) {
        fragments.push(Buffer.from(buf.subarray(start, end)));
        if (fin) {
          const message = Buffer.concat(fragments);
          fragments = [];
          hooks.onMessage(message, 0, message.length);
        }
      }
    }
    // A partial frame waits for the next read (copied: the read buffer is shared and reused).
    if (at < buf.length) pending = Buffer.from(buf.subarray(at));
  };
}

/**
 * Connects to `ws://127.0.0.1:<port><path>` and resolves once the server answered 101 with the
 * right Sec-WebSocket-Accept.
 */
export function openLightWebSocket(
  port: number,
  path: string,
  hooks: LightWebSocketHooks,
): Promise<LightWebSocket> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    // onread: reads land in one buffer shared by every socket and reach `onRead` directly,
    // without a Buffer per read and the Readable stream's push / 'data' machinery.
    const socket = connect({
      host: '127.0.0.1',
      port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (length: number) => onRead(length) },
    });
    let head: Buffer | undefined;
    let read: ((chunk: Buffer) => void) | undefined;
    let open = false;

    const handshake = (chunk: Buffer) => {
      const buf: Buffer = head ? Buffer.concat([head, chunk]) : chunk;
      const end = buf.indexOf(HEADERS_END);
      if (end < 0) {
        head = Buffer.from(buf); // the read buffer is reused
        return;
      }
      head = undefined;
      const lines = buf.toString('latin1', 0, end).split('\r\n');
      const headers = new Map(
        lines.slice(1).map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      if (!/^HTTP\/1\.1 101 /.test(lines[0]!)) {
        socket.destroy();
        reject(new Error(`upgrade refused: ${lines[0]}`));
        return;
      }
      if (headers.get('sec-websocket-accept') !== accept) {
        socket.destroy();
        reject(new Error('wrong Sec-WebSocket-Accept'));
        return;
      }
      open = true;
      read = createFrameReader(socket, hooks);
      resolve({
        sendText: (text) => socket.write(clientFrame(OP_TEXT, Buffer.from(text))),
        terminate: () => socket.destroy(),
      });
      if (end + HEADERS_END.length < buf.length) read(buf.subarray(end + HEADERS_END.length));
    };

    socket.on('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const onRead = (length: number) => {
      const chunk = READ_BUFFER.subarray(0, length);
      if (read) read(chunk);
      else handshake(chunk);
      return true; // keep reading (false would pause the socket)
    };
    socket.on('error', (error) => {
      if (!open) reject(error);
    });
    socket.on('close', () => {
      if (open) hooks.onClose();
      else reject(new Error('closed before the upgrade'));
    });
  });
}
