/**
 * A minimal text/event-stream reader on a raw `node:net` socket, for the fan-out subscribers: one
 * GET over HTTP/1.1, the response's chunked transfer encoding decoded incrementally, messages split
 * on a blank line and each message's `data:` line handed over as a byte range. Like
 * light-websocket.ts it reads into one shared buffer (`onread`) instead of node:http's parser,
 * stream and a Buffer per read: with 20,000 subscribers in one process that per-delivery work is
 * what the latency would otherwise measure. One `data:` line per message (what the servers of the
 * bench send); comments and `retry:` lines are skipped.
 */
import { connect } from 'node:net';

/** Callbacks of a light SSE stream. */
export interface LightSseHooks {
  /** The `data:` value of a message, `buf` [start, end), valid during the call only. */
  onData(buf: Buffer, start: number, end: number): void;
  /** The stream ended (after a 200). */
  onClose(): void;
}

/** An open light SSE stream. */
export interface LightSse {
  /** Destroys the connection at once. */
  close(): void;
}

const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const HEADERS_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const MESSAGE_END = Buffer.from('\n\n');
const DATA_FIELD = Buffer.from('data: ');
const NEWLINE = 0x0a;

/** Splits the decoded body into messages; hands each one's data line on. */
function createMessageSplitter(
  hooks: LightSseHooks,
): (buf: Buffer, from: number, to: number) => void {
  let pending: Buffer | undefined;
  return (chunk, from, to) => {
    const buf = pending ? Buffer.concat([pending, chunk.subarray(from, to)]) : chunk;
    let at = pending ? 0 : from;
    const end = pending ? buf.length : to;
    pending = undefined;
    for (let stop = buf.indexOf(MESSAGE_END, at); stop >= 0 && stop + MESSAGE_END.length <= end;) {
      const data = buf.indexOf(DATA_FIELD, at);
      if (data >= 0 && data < stop) {
        const value = data + DATA_FIELD.length;
        const lineEnd = buf.indexOf(NEWLINE, value);
        hooks.onData(buf, value, lineEnd < 0 || lineEnd > stop ? stop : lineEnd);
      }
      at = stop + MESSAGE_END.length;
      stop = buf.indexOf(MESSAGE_END, at);
    }
    if (at < end) pending = Buffer.from(buf.subarray(at, end)); // the read buffer is reused
  };
}

/**
 * Decodes `Transfer-Encoding: chunked` incrementally: chunk-size line, data, CRLF; the data goes
 * to `body` as ranges of the read.
 */
function createChunkedDecoder(body: (buf: Buffer, from: number, to: number) => void) {
  let state: 'size' | 'data' | 'crlf' | 'done' = 'size';
  let remaining = 0;
  let pending: Buffer | undefined;
  return (chunk: Buffer) => {
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    let at = 0;
    while (at < buf.length && state !== 'done') {
      if (state === 'size') {
        const lineEnd = buf.indexOf(CRLF, at);
        if (lineEnd < 0) break;
        const size = parseInt(buf.toString('latin1', at, lineEnd), 16); // ignores ;extensions
        if (Number.isNaN(size)) throw new Error('bad chunk size line');
        at = lineEnd + CRLF.length;
        remaining = size;
        state = size === 0 ? 'done' : 'data';
      } else if (state === 'data') {
        const take = Math.min(remaining, buf.length - at);
        body(buf, at, at + take);
        at += take;
        remaining -= take;
        if (remaining === 0) state = 'crlf';
      } else {
        if (buf.length - at < CRLF.length) break;
        at += CRLF.length;
        state = 'size';
      }
    }
    if (at < buf.length && state !== 'done') pending = Buffer.from(buf.subarray(at));
  };
}

/** GETs `path` from 127.0.0.1:`port` and resolves once the server answered 200. */
export function openLightSse(port: number, path: string, hooks: LightSseHooks): Promise<LightSse> {
  return new Promise((resolve, reject) => {
    let head: Buffer | undefined;
    let read: ((chunk: Buffer) => void) | undefined;
    let open = false;

    const response = (chunk: Buffer) => {
      const buf = head ? Buffer.concat([head, chunk]) : chunk;
      const end = buf.indexOf(HEADERS_END);
      if (end < 0) {
        head = Buffer.from(buf);
        return;
      }
      head = undefined;
      const lines = buf.toString('latin1', 0, end).split('\r\n');
      if (!/^HTTP\/1\.1 200 /.test(lines[0]!)) {
        socket.destroy();
        reject(new Error(`SSE answered ${lines[0]}`));
        return;
      }
      const chunked = lines.some((line) => /^transfer-encoding:\s*chunked/i.test(line));
      const split = createMessageSplitter(hooks);
      read = chunked ? createChunkedDecoder(split) : (body) => split(body, 0, body.length);
      open = true;
      resolve({ close: () => socket.destroy() });
      if (end + HEADERS_END.length < buf.length) read(buf.subarray(end + HEADERS_END.length));
    };
    const onRead = (length: number) => {
      const chunk = READ_BUFFER.subarray(0, length);
      try {
        if (read) read(chunk);
        else response(chunk);
      } catch (error) {
        socket.destroy(error as Error);
      }
      return true; // keep reading
    };

    // One TCP connection per subscriber, like one EventSource per tab.
    const socket = connect({
      host: '127.0.0.1',
      port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: onRead },
    });
    socket.on('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`,
      ),
    );
    socket.on('error', (error) => {
      if (!open) reject(error);
    });
    socket.on('close', () => {
      if (open) hooks.onClose();
      else reject(new Error('closed before the response'));
    });
  });
}
