/**
 * `roomcast serve` (and `npm start`): config from flags, env and file, dev secrets generated once
 * and kept (dev-secrets.ts), the app built and listening, SIGTERM / SIGINT close it.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { ConfigError, reviseConfig, withDevSecrets } from './config.ts';
import { loadDotEnv, loadServeConfig } from './config-sources.ts';
import type { GeneratedSecrets, RoomcastConfig } from './config.ts';
import { createSubscriberToken } from './auth/tokens.ts';
import { consoleAssets } from './console/console-assets.ts';
import { displayPath, ensureDevSecrets } from './dev-secrets.ts';
import type { DevSecretsResult } from './dev-secrets.ts';

/**
 * Connections the kernel queues for accept (capped by `net.core.somaxconn`). Node's default, 511,
 * overflows when a restarted node's subscribers all arrive here within a second: the kernel then
 * drops their SYNs and each client waits out SYN retransmits (1 s, 3 s, 7 s…) before it is even
 * accepted (docs/deployment.md, "Rolling deploys").
 */
export const LISTEN_BACKLOG = 8192;

/**
 * Starts the standalone server from flags, the environment (and `.env`) and an optional config
 * file; resolves once listening. Prints help, or exits 78 naming the bad setting.
 */
export async function serve(
  argv: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  let setup;
  let devSecrets: DevSecretsResult = { restored: [], generated: [] };
  try {
    loadDotEnv();
    const loaded = loadServeConfig(argv, env);
    if (loaded.help) {
      console.log(loaded.text);
      return;
    }
    // Only for what neither flags, env nor `.env` set; re-read so the kept secrets take part.
    const unset = (name: 'HUDDLE01_API_KEY' | 'ROOMCAST_TOKEN_SECRET', has: boolean) =>
      !has && !env[name];
    if (
      unset('HUDDLE01_API_KEY', loaded.config.huddle01ApiKeys.length > 0) ||
      unset('ROOMCAST_TOKEN_SECRET', loaded.config.tokenSecrets.length > 0)
    ) {
      devSecrets = ensureDevSecrets(env);
    }
    const reloaded = devSecrets.file ? loadServeConfig(argv, env) : loaded;
    if (reloaded.help) return;
    setup = withDevSecrets(withoutReconcileOnDevKey(reloaded.config, devSecrets));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`roomcast: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const { config, generated } = setup;
  // JSON lines by default (for log shippers); readable lines when a person watches a terminal.
  const pretty =
    config.logFormat === 'pretty' || (config.logFormat === 'auto' && Boolean(process.stdout.isTTY));
  const app = await buildApp({
    config,
    // Readable lines: one per webhook (its outcome), not three with the request's own two.
    requestLogging: !pretty,
    logger: pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : true,
  });
  let address: string;
  try {
    address = await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw error;
    const why = {
      EADDRINUSE: 'is in use (another roomcast?)',
      EACCES: 'needs privileges this process lacks',
      EADDRNOTAVAIL: 'is not an address of this machine',
    }[code];
    console.error(
      `roomcast: cannot listen on ${config.host}:${config.port}: it ${why}; choose another with PORT / --port or HOST / --host`,
    );
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  const base = address.replace('[::1]', 'localhost');
  // Built now rather than on the first visit: a broken build shows in the startup log.
  const consoleReady = config.console && (await warmConsole(app));
  if (!config.production) {
    const moderatorToken = await createSubscriberToken({
      secret: config.tokenSecrets[0],
      rooms: ['*'],
      ttl: '24h',
      sub: 'dev-moderator',
    });
    printDevBanner({
      base,
      generated,
      devSecrets,
      config,
      moderatorToken,
      engine: config.redisUrl ? 'Redis engine' : 'in-memory engine',
      consoleReady,
    });
  }

  installGracefulShutdown(app, config.shutdownTimeout);
}

/**
 * SIGTERM / SIGINT: readiness fails at once and new subscribers are refused (drain), then the
 * app closes: WS with 1012, SSE with a retry hint, in-flight webhooks answered, engine closed.
 * Bounded by `timeoutMs`: past it the process exits anyway, open sockets or not.
 */
export function installGracefulShutdown(app: FastifyInstance, timeoutMs: number): void {
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    const started = Date.now();
    app.log.info({ signal }, 'draining, then shutting down');
    app.roomcast.drain();
    const force = setTimeout(() => {
      app.log.error({ timeoutMs }, 'shutdown timed out; exiting anyway');
      process.exit(1);
    }, timeoutMs);
    force.unref();
    app.close().then(
      () => {
        app.log.info({ ms: Date.now() - started }, 'shut down');
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Builds the console's assets; false (logged) when they cannot be built. */
async function warmConsole(app: FastifyInstance): Promise<boolean> {
  try {
    const { buildMs } = await consoleAssets();
    app.log.debug({ buildMs }, 'console built');
    return true;
  } catch (error) {
    app.log.error({ err: error }, 'console build failed; / answers 503');
    return false;
  }
}

/**
 * A Huddle01 key that roomcast made up cannot call Huddle01's API: reconcile stays off with it
 * (as `withDevSecrets` does for a key generated in memory).
 */
function withoutReconcileOnDevKey(
  config: RoomcastConfig,
  devSecrets: DevSecretsResult,
): RoomcastConfig {
  const devKey = [...devSecrets.restored, ...devSecrets.generated].includes('HUDDLE01_API_KEY');
  if (!devKey || !config.reconcileInterval) return config;
  devSecrets.reconcileOff = true;
  return reviseConfig(config, { reconcileInterval: 0 });
}

/** What the dev banner is made of. */
interface DevBanner {
  base: string;
  generated: GeneratedSecrets;
  devSecrets: DevSecretsResult;
  config: RoomcastConfig;
  moderatorToken: string;
  engine: string;
  consoleReady: boolean;
}

/** Single-quotes a value for a POSIX shell. */
const shellQuote = (value: string) =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * What dev mode prints once: where the secrets came from, a moderator token, one `export` line
 * and commands that work when pasted into another terminal in the same folder.
 */
function printDevBanner(banner: DevBanner) {
  const { base, generated, devSecrets, config, moderatorToken } = banner;
  const lines = ['', `roomcast is listening on ${base} (${banner.engine}, development mode)`];
  if (banner.consoleReady) {
    // The token rides in the fragment, which browsers never send to the server.
    lines.push(`  moderator console: ${base}/#token=${moderatorToken}`);
  }
  const kept = devSecrets.file ? displayPath(devSecrets.file) : '';
  for (const name of devSecrets.generated) {
    lines.push(`  ${name} was not set; generated and kept in ${kept} (git-ignored)`);
  }
  for (const name of devSecrets.restored) lines.push(`  ${name} from ${kept}`);
  if (generated.huddle01ApiKey) {
    lines.push(`  HUDDLE01_API_KEY was not set; generated for this run only`);
  }
  if (generated.tokenSecret) {
    lines.push(`  ROOMCAST_TOKEN_SECRET was not set; generated for this run only`);
  }
  if (generated.reconcileOff || devSecrets.reconcileOff) {
    lines.push(
      "  ROOMCAST_RECONCILE_INTERVAL ignored: Huddle01's API needs your real HUDDLE01_API_KEY",
    );
  }
  // The CLI reads `.env` and the kept secrets itself; the export line serves other folders,
  // other tools (curl, your app) and secrets that exist for this run only.
  const exports = [
    `ROOMCAST_URL=${base}`,
    `HUDDLE01_API_KEY=${shellQuote(config.huddle01ApiKeys[0] ?? '')}`,
    `ROOMCAST_TOKEN_SECRET=${shellQuote(config.tokenSecrets[0] ?? '')}`,
    `ROOMCAST_TOKEN=${moderatorToken}`,
  ];
  lines.push(
    `  moderator token (every room, 24 h): ${moderatorToken}`,
    '',
    devSecrets.file
      ? '  try it, in another terminal (from another folder, paste the export line first):'
      : '  try it, in another terminal (paste the export line first):',
    `    export ${exports.join(' ')}`,
    `    npx roomcast send peer:joined --room demo --url ${base}`,
    `    npx roomcast tail --room demo --url ${base}`,
    `    npx roomcast simulate --rooms 3 --url ${base}`,
    `    curl -N -H "Authorization: Bearer $ROOMCAST_TOKEN" ${base}/rooms/demo/events`,
    '',
  );
  process.stdout.write(lines.join('\n') + '\n');
}
