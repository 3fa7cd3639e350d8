/**
 * `roomcast publish app:<name> --room <id> --data '<json>'`: puts an app event into a room's
 * channel through `POST /rooms/:roomId/publish` and prints the answer.
 */
import { parseArgs } from 'node:util';
import { isAppEventName } from '@roomcast/shared';

export const PUBLISH_HELP = `Usage: roomcast publish app:<name> --room <id> [options]

Publishes an app event (your app's own event, e.g. app:hand-raised) into a room's channel:
subscribers get it as an ordinary event with a seq; the room state does not change.

Options:
  --room <id>              room id (required)
  --data <json>            the payload, JSON (default: null)
  --idempotency-key <key>  repeat-safe: the same key answers the first result
  --url <url>              server base URL (default: $ROOMCAST_URL or http://127.0.0.1:$PORT, port 3000)
  --key <key>              publish key (default: first of $ROOMCAST_PUBLISH_KEY)
  --json                   print only the answer body as JSON
  -h, --help               this text`;

/** Runs `publish`; resolves to the process exit code. */
export async function publishCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        room: { type: 'string' },
        data: { type: 'string' },
        'idempotency-key': { type: 'string' },
        url: { type: 'string' },
        key: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    console.error(`roomcast publish: ${(error as Error).message} (see roomcast publish --help)`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(PUBLISH_HELP);
    return 0;
  }
  const event = positionals[0];
  if (!isAppEventName(event)) {
    console.error(
      'roomcast publish: name an app event, app:<name> with 1-64 of A-Z a-z 0-9 _ . : - (see roomcast publish --help)',
    );
    return 2;
  }
  if (!values.room) {
    console.error('roomcast publish: --room <id> is required (see roomcast publish --help)');
    return 2;
  }
  let payload: unknown = null;
  if (values.data !== undefined) {
    try {
      payload = JSON.parse(values.data);
    } catch (error) {
      console.error(`roomcast publish: --data is not JSON: ${(error as Error).message}`);
      return 2;
    }
  }
  const key = values.key ?? env.ROOMCAST_PUBLISH_KEY?.split(',')[0]?.trim();
  if (!key) {
    console.error('roomcast publish: no publish key: pass --key or set ROOMCAST_PUBLISH_KEY');
    return 2;
  }
  const base = (values.url ?? env.ROOMCAST_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`).replace(
    /\/+$/,
    '',
  );
  const url = `${base}/rooms/${encodeURIComponent(values.room)}/publish`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ event, payload, idempotencyKey: values['idempotency-key'] }),
    });
  } catch (error) {
    console.error(
      `roomcast publish: cannot reach ${base}: ${(error as Error).cause ?? (error as Error).message}`,
    );
    return 1;
  }
  const answer = await response.text();
  if (values.json) console.log(answer);
  else {
    console.log(`POST ${url}  ${event}`);
    console.log(`${response.status} ${response.statusText}  ${answer}`);
  }
  return response.ok ? 0 : 1;
}
