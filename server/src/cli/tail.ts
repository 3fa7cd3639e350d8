/**
 * `roomcast tail --room <id> | --all`: live events of rooms, readably (or as JSON lines), over
 * one WebSocket that reconnects with backoff and resumes each room from its last position;
 * a resync (snapshot after a gap) is shown plainly.
 */
import { parseCommandArgs } from './args.ts';
import WebSocket from 'ws';
import type { RoomState } from '@roomcast/shared';
import { createSubscriberToken } from '../auth/tokens.ts';
import { describeEvent, describeState } from './describe-event.ts';
import { styles } from './terminal.ts';

export const TAIL_HELP = `Usage: roomcast tail (--room <id> ... | --all) [options]

Prints live room events. Reconnects by itself and resumes without gaps; shows a RESYNC line
when the server could not replay what was missed and sent a fresh snapshot instead.

Options:
  --room <id>     a room to watch (repeat for several)
  --all           every room (polls the room list; needs a * token)
  --url <url>     server base URL (default: $ROOMCAST_URL or http://127.0.0.1:$PORT, port 3000)
  --token <jwt>   subscriber token (default: $ROOMCAST_TOKEN, or one made from $ROOMCAST_TOKEN_SECRET)
  --json          one JSON frame per line
  --count <n>     exit after n events
  -h, --help      this text`;

interface RoomPosition {
  epoch: string;
  seq: number;
}

/** Runs `tail`; resolves with the exit code when done (--count) or on a fatal error. */
export async function tailCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseCommandArgs(
    'tail',
    argv,
    {
      room: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      count: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    false,
  );
  if (values.help) {
    console.log(TAIL_HELP);
    return 0;
  }
  const rooms = new Set(values.room ?? []);
  if (rooms.size === 0 && !values.all) {
    console.error(`roomcast tail: name --room <id> or --all\n\n${TAIL_HELP}`);
    return 2;
  }
  const base = (values.url ?? env.ROOMCAST_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`).replace(
    /\/+$/,
    '',
  );
  const secret = env.ROOMCAST_TOKEN_SECRET?.split(',')[0]?.trim();
  const makeToken = async () =>
    values.token ??
    env.ROOMCAST_TOKEN ??
    (secret
      ? await createSubscriberToken({
          secret,
          rooms: values.all ? ['*'] : [...rooms],
          ttl: '12h',
          sub: 'roomcast-tail',
        })
      : undefined);
  if ((await makeToken()) === undefined) {
    console.error(
      'roomcast tail: no token: pass --token, or set ROOMCAST_TOKEN or ROOMCAST_TOKEN_SECRET',
    );
    return 2;
  }
  const limit = values.count === undefined ? Infinity : Number(values.count);
  const style = styles();
  const positions = new Map<string, RoomPosition>();
  let seen = 0;
  let attempt = 0;
  let socket: WebSocket | undefined;
  let finished: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finished = resolve));

  const time = () => style.dim(new Date().toISOString().slice(11, 23));
  const print = (line: string) => process.stdout.write(`${line}\n`);

  function subscribe(room: string) {
    const position = positions.get(room);
    const since = position ? `${position.epoch}:${position.seq}` : undefined;
    socket?.send(JSON.stringify({ type: 'subscribe', room, ...(since ? { since } : {}) }));
  }

  function onFrame(frame: Record<string, unknown>) {
    const room = String(frame.room ?? '');
    if (values.json) print(JSON.stringify(frame));
    if (frame.type === 'snapshot') {
      const resync = positions.has(room);
      positions.set(room, { epoch: String(frame.epoch), seq: Number(frame.seq) });
      if (!values.json) {
        const label = resync ? style.yellow('RESYNC') + ' snapshot' : 'snapshot';
        print(
          `${time()} ${style.cyan(room)} ${label} at #${String(frame.seq)} — ${describeState(frame.state as RoomState)}`,
        );
      }
    } else if (frame.type === 'subscribed') {
      if (frame.recovered && !values.json)
        print(
          `${time()} ${style.cyan(room)} ${style.green('resumed')} at #${String(frame.seq)}, nothing missed`,
        );
    } else if (frame.type === 'event') {
      positions.set(room, { epoch: String(frame.epoch), seq: Number(frame.seq) });
      if (!values.json) {
        const description = describeEvent(
          frame as { event: string; payload: Record<string, unknown> },
        );
        print(
          `${time()} ${style.cyan(room)} ${style.dim(`#${String(frame.seq)}`)} ${style.bold(String(frame.event))} ${description}`,
        );
      }
      if (++seen >= limit) finished(0);
    } else if (frame.type === 'error' && !values.json) {
      print(
        `${time()} ${style.red(`error ${String(frame.code)}`)} ${room ? `${room}: ` : ''}${String(frame.message)}`,
      );
    }
  }

  async function discoverRooms(token: string) {
    try {
      const response = await fetch(`${base}/rooms`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) return;
      const { rooms: list } = (await response.json()) as { rooms: Array<{ roomId: string }> };
      for (const { roomId } of list) {
        if (rooms.has(roomId)) continue;
        rooms.add(roomId);
        subscribe(roomId);
      }
    } catch {
      // the connection loop reports the outage
    }
  }

  async function connect() {
    const token = await makeToken();
    const ws = new WebSocket(
      `${base.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token ?? '')}`,
    );
    socket = ws;
    let poll: NodeJS.Timeout | undefined;
    ws.on('open', () => {
      attempt = 0;
      if (!values.json) process.stderr.write(style.dim(`connected to ${base}\n`));
      for (const room of rooms) subscribe(room);
      if (values.all) {
        void discoverRooms(token!);
        poll = setInterval(() => void discoverRooms(token!), 2000);
      }
    });
    ws.on('message', (data) => onFrame(JSON.parse(String(data)) as Record<string, unknown>));
    ws.on('error', () => undefined); // 'close' follows and reconnects
    ws.on('close', (code) => {
      if (poll) clearInterval(poll);
      if (socket !== ws) return;
      if (code === 1008 && !secret && !values.token) {
        console.error('roomcast tail: the server refused the token (1008)');
        return finished(1);
      }
      // Full-jitter backoff from 0.5 s to 10 s; 1012 (restart) and 4008 (slow) retry at once.
      const delay =
        code === 1012 || code === 4008 ? 0 : Math.random() * Math.min(10_000, 500 * 2 ** attempt++);
      if (!values.json)
        process.stderr.write(
          style.yellow(`disconnected (${code}); reconnecting in ${Math.round(delay)} ms\n`),
        );
      setTimeout(() => void connect(), delay);
    });
  }

  process.once('SIGINT', () => finished(0));
  await connect();
  const code = await done;
  const last = socket;
  socket = undefined;
  last?.terminate();
  return code;
}
