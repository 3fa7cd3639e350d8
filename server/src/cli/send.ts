/**
 * `roomcast send <event> --room <id>`: a realistic webhook, signed exactly as Huddle01 signs,
 * posted to a roomcast server; the answer is printed.
 */
import { parseCommandArgs } from './args.ts';
import { readFileSync } from 'node:fs';
import { EVENT_NAMES, isWebhookEventName } from '@roomcast/shared';
import { signRawWebhook } from '../webhooks/sign-webhook.ts';
import { randomPeerId, randomWebhookId, samplePayload } from './sample-payloads.ts';

/** What Huddle01 sends (roomcast's own reconcile:media is not a webhook). */
const WEBHOOK_EVENTS = EVENT_NAMES.filter(isWebhookEventName);

export const SEND_HELP = `Usage: roomcast send <event> --room <id> [options]

Posts a signed Huddle01 webhook to a roomcast server and prints the answer.

Events: ${WEBHOOK_EVENTS.join(', ')}

Options:
  --room <id>      room id (required unless --file gives the payload)
  --peer <id>      peer id for peer:* events (default: a random peerId--…)
  --session <id>   session id (default: session-<room>)
  --track <label>  track label for peer:track* events (default: audio)
  --file <path>    payload JSON (the "payload" object, or a whole {id, event, payload} body)
  --id <id>        webhook id (default: random; repeat one to see dedup)
  --url <url>      server base URL (default: $ROOMCAST_URL or http://127.0.0.1:$PORT, port 3000)
  --key <key>      API key that signs (default: first of $HUDDLE01_API_KEY)
  --json           print only the answer body as JSON
  -h, --help       this text`;

/** Runs `send`; resolves to the process exit code. */
export async function sendCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'send',
    argv,
    {
      room: { type: 'string' },
      peer: { type: 'string' },
      session: { type: 'string' },
      track: { type: 'string' },
      file: { type: 'string' },
      id: { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    true,
  );
  if (values.help) {
    console.log(SEND_HELP);
    return 0;
  }
  const event = positionals[0];
  if (!isWebhookEventName(event)) {
    console.error(`roomcast send: name an event: ${WEBHOOK_EVENTS.join(', ')}\n\n${SEND_HELP}`);
    return 2;
  }
  const key = values.key ?? env.HUDDLE01_API_KEY?.split(',')[0]?.trim();
  if (!key) {
    console.error(
      'roomcast send: no API key: pass --key or set HUDDLE01_API_KEY (the server prints it at startup)',
    );
    return 2;
  }
  let body: { id: string; event: string; payload: unknown };
  let peerId: string | undefined;
  if (values.file) {
    const parsed = JSON.parse(readFileSync(values.file, 'utf8')) as Record<string, unknown>;
    body =
      'payload' in parsed
        ? {
            id: values.id ?? String(parsed.id ?? randomWebhookId()),
            event: String(parsed.event ?? event),
            payload: parsed.payload,
          }
        : { id: values.id ?? randomWebhookId(), event, payload: parsed };
  } else {
    if (!values.room) {
      console.error('roomcast send: --room <id> is required');
      return 2;
    }
    peerId = values.peer ?? randomPeerId();
    const payload = samplePayload(event, {
      roomId: values.room,
      peerId,
      sessionId: values.session,
      track: values.track,
    });
    body = { id: values.id ?? randomWebhookId(), event, payload };
  }
  const base = (values.url ?? env.ROOMCAST_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`).replace(
    /\/+$/,
    '',
  );
  const text = JSON.stringify(body);
  let response: Response;
  try {
    response = await fetch(`${base}/webhooks/huddle01`, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain',
        'huddle01-signature': signRawWebhook(text, body.id, key),
      },
      body: text,
    });
  } catch (error) {
    console.error(
      `roomcast send: cannot reach ${base}: ${(error as Error).cause ?? (error as Error).message}`,
    );
    return 1;
  }
  const answer = await response.text();
  if (values.json) console.log(answer);
  else {
    // The peer id too, for the next command (e.g. --peer <it> for a track event).
    const peer = peerId !== undefined && event.startsWith('peer:') ? `  peer=${peerId}` : '';
    console.log(`POST ${base}/webhooks/huddle01  ${event}  id=${body.id}${peer}`);
    console.log(`${response.status} ${response.statusText}  ${answer}`);
  }
  return response.ok ? 0 : 1;
}
