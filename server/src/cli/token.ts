/**
 * `roomcast token --rooms a,b --ttl 1h [--sub id]`: prints a subscriber token signed with
 * ROOMCAST_TOKEN_SECRET (or --secret).
 */
import { parseCommandArgs } from './args.ts';
import { DEFAULT_MAX_TOKEN_TTL, createSubscriberToken, tokenTtlSeconds } from '../auth/tokens.ts';
import { formatDuration, parseDuration } from '../units.ts';

export const TOKEN_HELP = `Usage: roomcast token --rooms <a,b|*> [options]

Prints a subscriber token (JWT HS256) for WebSocket / SSE / REST.

Options:
  --rooms <list>   comma-separated room ids, or * for every room (moderator)
  --ttl <time>     lifetime: seconds or 15m, 1h, 24h (default 1h; at most
                   $ROOMCAST_MAX_TOKEN_TTL, 24h by default, which servers accept)
  --sub <id>       subject: your user id
  --secret <s>     signing secret (default: first of $ROOMCAST_TOKEN_SECRET)
  -h, --help       this text`;

/** Runs `token`; resolves to the exit code. */
export async function tokenCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseCommandArgs(
    'token',
    argv,
    {
      rooms: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      sub: { type: 'string' },
      secret: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    false,
  );
  if (values.help) {
    console.log(TOKEN_HELP);
    return 0;
  }
  const secret = values.secret ?? env.ROOMCAST_TOKEN_SECRET?.split(',')[0]?.trim();
  if (!secret) {
    console.error(
      'roomcast token: no secret: pass --secret or set ROOMCAST_TOKEN_SECRET (the server prints it in dev)',
    );
    return 2;
  }
  const rooms = (values.rooms ?? '')
    .split(',')
    .map((room) => room.trim())
    .filter(Boolean);
  if (rooms.length === 0) {
    console.error(`roomcast token: --rooms is required\n\n${TOKEN_HELP}`);
    return 2;
  }
  let ttlSeconds: number;
  try {
    ttlSeconds = tokenTtlSeconds(values.ttl);
  } catch {
    console.error(
      `roomcast token: --ttl must be seconds or a duration like 15m, 1h, and at least 1s (see roomcast token --help)`,
    );
    return 2;
  }
  const maxMs = parseDuration(env.ROOMCAST_MAX_TOKEN_TTL ?? '') ?? DEFAULT_MAX_TOKEN_TTL;
  if (ttlSeconds * 1000 > maxMs) {
    console.error(
      `roomcast token: --ttl ${values.ttl} is longer than servers accept (ROOMCAST_MAX_TOKEN_TTL, ${formatDuration(maxMs)})`,
    );
    return 2;
  }
  try {
    console.log(await createSubscriberToken({ secret, rooms, ttl: ttlSeconds, sub: values.sub }));
    return 0;
  } catch (error) {
    console.error(`roomcast token: ${(error as Error).message}`);
    return 2;
  }
}
