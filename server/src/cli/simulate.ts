/**
 * `roomcast simulate --rooms 3 --peers 20 --duration 60s`: plays realistic meetings as signed
 * webhooks against a server, on the script's clock, with a live progress line.
 */
import { ErrorCode } from '@roomcast/shared';
import { parseCommandArgs } from './args.ts';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { signRawWebhook } from '../webhooks/sign-webhook.ts';
import { parseDuration } from '../units.ts';
import { meetingScript } from './meeting-script.ts';
import { randomWebhookId } from './sample-payloads.ts';
import { createProgressLine } from './terminal.ts';

export const SIMULATE_HELP = `Usage: roomcast simulate [options]

Plays realistic meetings (starts, joins with varied roles, browsers and devices, tracks,
recordings, leaves, ends) as signed webhooks, for demos and load.

Options:
  --rooms <n>        rooms (default 3)
  --peers <n>        peers per room (default 20)
  --duration <time>  how long the meetings last: 30s, 5m (default 60s)
  --seed <n>         random seed, to replay a run (default: random)
  --prefix <text>    room id prefix (default sim)
  --concurrency <n>  webhooks in flight at most (default 8)
  --url <url>        server base URL (default: $ROOMCAST_URL or http://127.0.0.1:$PORT, port 3000)
  --key <key>        API key that signs (default: first of $HUDDLE01_API_KEY)
  --record <file>    write each webhook and its answer as a JSON line
                     ({id, event, payload, status, answer}; status 0 = unreachable), for audits
  -h, --help         this text`;

/** Runs `simulate`; resolves to the exit code (1 when any webhook was not answered 2xx). */
export async function simulateCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseCommandArgs(
    'simulate',
    argv,
    {
      rooms: { type: 'string', default: '3' },
      peers: { type: 'string', default: '20' },
      duration: { type: 'string', default: '60s' },
      seed: { type: 'string' },
      prefix: { type: 'string', default: 'sim' },
      concurrency: { type: 'string', default: '8' },
      url: { type: 'string' },
      key: { type: 'string' },
      record: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    false,
  );
  if (values.help) {
    console.log(SIMULATE_HELP);
    return 0;
  }
  const rooms = Number(values.rooms);
  const peers = Number(values.peers);
  const durationMs = parseDuration(values.duration);
  const concurrency = Number(values.concurrency);
  const key = values.key ?? env.HUDDLE01_API_KEY?.split(',')[0]?.trim();
  const invalid = [
    !(Number.isInteger(rooms) && rooms > 0) && '--rooms must be a positive integer',
    !(Number.isInteger(peers) && peers >= 0) && '--peers must be a whole number',
    !(durationMs !== undefined && durationMs > 0) && '--duration must look like 30s or 5m',
    !(Number.isInteger(concurrency) && concurrency > 0) &&
      '--concurrency must be a positive integer',
    !key && 'no API key: pass --key or set HUDDLE01_API_KEY',
  ].filter(Boolean);
  if (invalid.length > 0) {
    console.error(`roomcast simulate: ${invalid.join('; ')}`);
    return 2;
  }
  const base = (values.url ?? env.ROOMCAST_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`).replace(
    /\/+$/,
    '',
  );
  const seed = values.seed === undefined ? Math.floor(Math.random() * 1e9) : Number(values.seed);
  const start = Date.now();
  const script = meetingScript({
    rooms,
    peers,
    durationMs: durationMs!,
    startAt: start,
    seed,
    prefix: values.prefix,
  });
  const record = values.record === undefined ? undefined : createWriteStream(values.record);
  const progress = createProgressLine();
  const answers = new Map<number, number>();
  let sent = 0;
  let failed = 0;
  /** The first 401: a wrong key refuses every webhook alike, so the run stops there. */
  let refused: string | undefined;
  let inFlight = 0;
  const status = () => {
    const elapsed = Math.min((Date.now() - start) / 1000, durationMs! / 1000).toFixed(0);
    const codes = [...answers].map(([code, n]) => `${code}: ${n}`).join(', ');
    return `simulate ${elapsed}s/${durationMs! / 1000}s  webhooks ${sent}/${script.length}  (${codes || 'none yet'})  rooms ${rooms}, ${peers} peers each, seed ${seed}`;
  };

  async function post(index: number) {
    const { event, payload } = script[index]!;
    const id = randomWebhookId();
    const text = JSON.stringify({ id, event, payload });
    try {
      const response = await fetch(`${base}/webhooks/huddle01`, {
        method: 'POST',
        headers: {
          'content-type': 'text/plain',
          'huddle01-signature': signRawWebhook(text, id, key!),
        },
        body: text,
      });
      const answer = await response.text();
      if (response.status === 401) refused ??= answer;
      answers.set(response.status, (answers.get(response.status) ?? 0) + 1);
      if (response.status >= 300) failed++;
      record?.write(
        `${JSON.stringify({ id, event, payload, status: response.status, answer: parseAnswer(answer) })}\n`,
      );
    } catch {
      answers.set(0, (answers.get(0) ?? 0) + 1);
      failed++;
      record?.write(`${JSON.stringify({ id, event, payload, status: 0, answer: null })}\n`);
    }
    sent++;
    progress.update(status());
  }

  const ticker = setInterval(() => progress.update(status()), 1000);
  const pending = new Set<Promise<void>>();
  for (let index = 0; index < script.length && refused === undefined; index++) {
    const wait = start + script[index]!.at - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight >= concurrency) await Promise.race(pending);
    if (refused !== undefined) break;
    inFlight++;
    const task = post(index).finally(() => {
      inFlight--;
      pending.delete(task);
    });
    pending.add(task);
  }
  await Promise.all(pending);
  clearInterval(ticker);
  if (record) {
    record.end();
    await once(record, 'close');
  }
  progress.done(status());
  if (refused !== undefined) {
    const code = /"code":"([A-Z_]+)"/.exec(refused)?.[1] ?? ErrorCode.UNAUTHORIZED;
    console.error(
      `roomcast simulate: stopped at the first 401 (${code}): is --key (or HUDDLE01_API_KEY) the server's key?`,
    );
    return 1;
  }
  if (failed > 0)
    console.error(`roomcast simulate: ${failed} webhook(s) not answered 2xx (0 = unreachable)`);
  return failed > 0 ? 1 : 0;
}

/** The answer body as JSON when it is JSON, else the text. */
function parseAnswer(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
