/**
 * `roomcast tail --room <id> | --all`: live events of rooms, readably (or as JSON lines),
 * through @roomcast/client on Node's `ws`: it reconnects, resumes each room from its last
 * position and reports its connection state exactly as in a browser; a resync (snapshot after a
 * gap) is shown plainly, and a refused token ends the command.
 */
import { parseCommandArgs } from './args.ts';
import WebSocket from 'ws';
import { createClient } from '@roomcast/client';
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
  let seen = 0;
  let finished: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finished = resolve));

  const time = () => style.dim(new Date().toISOString().slice(11, 23));
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const note = (line: string) => !values.json && process.stderr.write(`${line}\n`);

  // The browser client, on Node's `ws`: reconnect, resume and state exactly as in a browser.
  const client = createClient({
    url: base,
    getToken: async () => (await makeToken())!,
    transport: 'websocket',
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  });
  client.on('state', ({ state, code, reason }) => {
    if (state === 'connected') note(style.dim(`connected to ${base}`));
    else if (state === 'reconnecting')
      note(style.yellow(`disconnected (${code ?? 'network'}); reconnecting`));
    else if (state === 'failed') {
      console.error(`roomcast tail: the server refused the connection: ${code} ${reason ?? ''}`);
      finished(1);
    }
  });

  function follow(roomId: string) {
    const room = client.room(roomId);
    let opened = false;
    const position = () => Number(room.since()?.split(':').pop() ?? 0);
    const snapshot = (label: string) => {
      if (values.json) {
        const [epoch] = room.since()?.split(':') ?? [];
        const frame = { type: 'snapshot', room: roomId, epoch, seq: position(), state: room.state };
        return print(JSON.stringify(frame));
      }
      print(
        `${time()} ${style.cyan(roomId)} ${label} at #${position()} — ${describeState(room.state!)}`,
      );
    };
    room.on('status', (status) => {
      if (status !== 'live') return;
      if (!opened) snapshot('snapshot');
      else if (room.recovered && !values.json)
        print(
          `${time()} ${style.cyan(roomId)} ${style.green('resumed')} at #${position()}, nothing missed`,
        );
      opened = true;
    });
    room.on('resync', () => snapshot(`${style.yellow('RESYNC')} snapshot`));
    room.on('*', ({ event, payload, meta }) => {
      if (values.json) {
        print(JSON.stringify({ type: 'event', ...meta, event, payload }));
      } else {
        const description = describeEvent({ event, payload } as Parameters<
          typeof describeEvent
        >[0]);
        print(
          `${time()} ${style.cyan(roomId)} ${style.dim(`#${meta.seq}`)} ${style.bold(event)} ${description}`,
        );
      }
      if (++seen >= limit) finished(0);
    });
    room.on('error', ({ code, message }) =>
      note(`${time()} ${style.red(`error ${code}`)} ${roomId}: ${message}`),
    );
  }

  /**
   * `--all`: the room list's first page, polled; each new room is followed. New rooms lead the
   * list (newest activity first), and a connection holds 100 rooms by default: one page of 100.
   */
  async function discoverRooms() {
    try {
      const response = await fetch(`${base}/rooms?limit=100`, {
        headers: { authorization: `Bearer ${await makeToken()}` },
      });
      if (!response.ok) return;
      const { rooms: list } = (await response.json()) as { rooms: Array<{ roomId: string }> };
      for (const { roomId } of list) {
        if (rooms.has(roomId)) continue;
        rooms.add(roomId);
        follow(roomId);
      }
    } catch {
      // the client reports the outage
    }
  }

  for (const room of rooms) follow(room);
  const poll = values.all ? setInterval(() => void discoverRooms(), 2000) : undefined;
  if (values.all) void discoverRooms();

  process.once('SIGINT', () => finished(0));
  const code = await done;
  clearInterval(poll);
  client.close();
  return code;
}
