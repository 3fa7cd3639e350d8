/**
 * @roomcast/client/share-worker: the SharedWorker behind `createClient({ shareTabs: { worker } })`.
 * Serve this module (bundled, e.g. `dist/share-worker.min.js`, or through your bundler's
 * `new URL('@roomcast/client/share-worker', import.meta.url)`) from your origin, and name that
 * URL in every tab. It runs the one real client for the rooms of every tab connected to it and
 * sends each tab its rooms' frames (share-leader.ts). Tokens come from the tabs: the worker asks
 * one (`need-token`), which answers from its own `token` / `getToken`.
 */
import { createClient } from './client.ts';
import { createLeader } from './share-leader.ts';
import type { Leader, Message } from './share-leader.ts';

const ports = new Set<MessagePort>();
/** Token requests waiting for a tab's answer. */
const waiting: ((token: string) => void)[] = [];
let leader: Leader | undefined;

const send = (message: Message) => {
  for (const port of ports) port.postMessage(message);
};

/** A token, from the tab that connected most recently (any live tab can answer). */
function getToken(): Promise<string> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    [...ports].at(-1)?.postMessage({ t: 'need-token' } satisfies Message);
  });
}

function connect(port: MessagePort) {
  ports.add(port);
  port.onmessage = ({ data }: MessageEvent<Message>) => {
    if (data.t === 'init') {
      // The first tab's options make the client; the tabs of one origin and URL agree on them.
      leader ??= createLeader(createClient({ url: '', ...data.options, getToken }), send);
    } else if (data.t === 'token' && waiting.length > 0) {
      for (const resolve of waiting.splice(0)) resolve(data.token);
    } else {
      if (data.t === 'bye') ports.delete(port);
      leader?.hear(data);
    }
  };
}

(globalThis as unknown as { onconnect: (event: MessageEvent) => void }).onconnect = (event) =>
  connect(event.ports[0]!);
