/**
 * The moderator console's routes: the page at `/` (under the plugin's prefix) and its hashed
 * assets at `/console/<name>-<hash>.<ext>`. The page is never cached (so a deploy shows at
 * once); the assets are immutable. A strict CSP: same-origin script, style, images and
 * connections only, no inline script, no framing.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import helmet from '@fastify/helmet';
import { ErrorCode } from '@roomcast/shared';
import { httpError } from '../http-errors.ts';
import { ASSET_DIR, consoleAssets } from './console-assets.ts';
import type { ConsoleAssets } from './console-assets.ts';

/** The console page's Content-Security-Policy directives. */
export const CONSOLE_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  // 'self' covers the same-origin WebSocket (ws:/wss:) in CSP Level 3 browsers.
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
  requireTrustedTypesFor: ["'script'"],
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Registers the console routes (in their own context: the CSP applies to them only). */
export async function consoleRoutes(app: FastifyInstance) {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CONSOLE_CSP },
  });

  /** The built assets, or a 503 answer (logged) when esbuild cannot build them. */
  async function assetsOr503(reply: FastifyReply): Promise<ConsoleAssets | undefined> {
    try {
      return await consoleAssets();
    } catch (error) {
      reply.log.error({ err: error }, 'console build failed');
      httpError(reply, ErrorCode.CONSOLE_UNAVAILABLE, 'the console could not be built');
      return undefined;
    }
  }

  app.get('/', async (request, reply) => {
    // Relative asset URLs need the trailing slash: `/realtime` → `/realtime/`.
    const [path = '/', query] = request.url.split('?');
    if (!path.endsWith('/')) return reply.redirect(`${path}/${query ? `?${query}` : ''}`, 308);
    const assets = await assetsOr503(reply);
    if (!assets) return reply;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(assets.html);
  });

  app.get(`/${ASSET_DIR}/:file`, async (request, reply) => {
    const { file } = request.params as { file: string };
    const assets = await assetsOr503(reply);
    if (!assets) return reply;
    const asset = assets.files.get(file);
    if (!asset) {
      return httpError(reply, ErrorCode.NOT_FOUND, `no console asset ${file}`);
    }
    return reply.type(asset.type).header('cache-control', IMMUTABLE).send(asset.body);
  });
}
