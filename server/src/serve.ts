/**
 * `roomcast serve` (and `npm start`): config from the environment, dev secrets generated and
 * printed once, the app built and listening, SIGTERM / SIGINT close it.
 */
import { buildApp } from './app.ts';
import { ConfigError, configFromEnv, withDevSecrets } from './config.ts';
import type { GeneratedSecrets } from './config.ts';
import { createSubscriberToken } from './auth/tokens.ts';

/** Starts the standalone server; resolves once listening. Exits the process on a config error. */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let setup;
  try {
    setup = withDevSecrets(configFromEnv(env));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`roomcast: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const { config, generated } = setup;
  const app = await buildApp({ config });
  const address = await app.listen({ port: config.port, host: config.host });
  const base = address.replace('[::1]', 'localhost');
  if (!config.production) {
    const moderatorToken = await createSubscriberToken({
      secret: config.tokenSecrets[0],
      rooms: ['*'],
      ttl: '24h',
      sub: 'dev-moderator',
    });
    printDevBanner(base, generated, moderatorToken);
  }

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** What dev mode prints once: generated secrets, a moderator token and commands that work. */
function printDevBanner(base: string, generated: GeneratedSecrets, moderatorToken: string) {
  const lines = ['', `roomcast is listening on ${base} (in-memory engine, development mode)`];
  if (generated.huddle01ApiKey) {
    lines.push(
      `  HUDDLE01_API_KEY was not set; generated for this run: ${generated.huddle01ApiKey}`,
    );
  }
  if (generated.tokenSecret) {
    lines.push(
      `  ROOMCAST_TOKEN_SECRET was not set; generated for this run: ${generated.tokenSecret}`,
    );
  }
  const key = generated.huddle01ApiKey ? ` --key ${generated.huddle01ApiKey}` : '';
  lines.push(
    `  moderator token (every room, 24 h): ${moderatorToken}`,
    '  try it, in another terminal:',
    `    npx roomcast send peer:joined --room demo --url ${base}${key}`,
    `  watch a room:  curl -N "${base}/rooms/demo/events?token=${moderatorToken}"`,
    '',
  );
  process.stdout.write(lines.join('\n') + '\n');
}
