/**
 * A static HTTP server for test pages (node:http, port 0): HTML pages and in-memory bundles.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';

/** One served file. */
export interface StaticFile {
  type: string;
  body: string;
}

/** A running static server. */
export interface StaticServer {
  /** http://127.0.0.1:<port> — an origin the roomcast dev policy allows. */
  url: string;
  close(): Promise<void>;
}

/** Serves `files` by exact path; anything else is a 404. */
export async function startStaticServer(files: Record<string, StaticFile>): Promise<StaticServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = Object.hasOwn(files, path) ? files[path] : undefined;
    if (!file) return void response.writeHead(404).end('not found');
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
    response.end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An HTML page that runs one script. */
export function page(script: string): StaticFile {
  return {
    type: 'text/html; charset=utf-8',
    body: `<!doctype html><html><head><meta charset="utf-8"><title>roomcast test</title><link rel="icon" href="data:,"></head><body><div id="root"></div><script src="${script}"></script></body></html>`,
  };
}

/** Bundles a browser entry with esbuild, in memory, as an IIFE (React in production mode). */
export async function bundleScript(entry: string): Promise<StaticFile> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
  return { type: 'text/javascript; charset=utf-8', body: file.text };
}
