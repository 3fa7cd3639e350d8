/**
 * The servers the suite can start, by name. Each is imported lazily so a process loads only the
 * server it hosts (Socket.IO's modules do not sit in roomcast's heap, and the reverse).
 */
import type { RunningServer, ServerParams } from './running-server.ts';

export type { RunningServer, ServerParams } from './running-server.ts';

/** Every server kind, and how to start it. */
export const SERVER_KINDS = {
  /**
   * roomcast itself: `buildApp`, logger off (serves ingest, WS and SSE), on the memory engine or,
   * with `redisUrl`, on the Redis engine.
   */
  roomcast: async (params: ServerParams) =>
    (await import('./roomcast-server.ts')).startRoomcast(params),
  /** fastify route verifying with the Huddle01 SDK's `WebhookReceiver.receive()`. */
  'sdk-ingest': async () => (await import('./ingest-servers.ts')).startSdkIngest(),
  /** The ingest floor plus roomcast's signature and freshness checks only (a reference). */
  'verify-ingest': async () => (await import('./ingest-servers.ts')).startVerifyIngest(),
  /** fastify POST route that only answers (the ingest floor). */
  'bare-ingest': async () => (await import('./ingest-servers.ts')).startBareIngest(),
  /** `ws` server broadcasting with a plain send loop (the WebSocket fan-out floor). */
  'bare-ws': async () => (await import('./bare-ws-server.ts')).startBareWs(),
  /** Socket.IO 4 with rooms (`io.to(room).emit`). */
  socketio: async () => (await import('./socketio-server.ts')).startSocketIo(),
  /** Socket.IO 4 with connection-state recovery (missed packets replayed on reconnect). */
  'socketio-csr': async () =>
    (await import('./socketio-server.ts')).startSocketIo({ recovery: true }),
  /** node:http SSE server writing one string to every response (the SSE fan-out floor). */
  'bare-sse': async () => (await import('./bare-sse-server.ts')).startBareSse(),
} satisfies Record<string, (params: ServerParams) => Promise<RunningServer>>;

/** Name of a server kind. */
export type ServerKind = keyof typeof SERVER_KINDS;

/** Narrows a string to a server kind. */
export function isServerKind(name: string): name is ServerKind {
  return Object.hasOwn(SERVER_KINDS, name);
}
