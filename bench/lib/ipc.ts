/**
 * Parent ⇄ child messaging over Node's IPC channel. Every benchmark process (server under test,
 * load generator, subscribers) is a child of the runner; the runner drives it with requests
 * (`{cmd, args}` → result) so that measurement windows line up across processes.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

interface RequestMessage {
  kind: 'request';
  id: number;
  cmd: string;
  args: unknown;
}

interface ResponseMessage {
  kind: 'response';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

interface ReadyMessage {
  kind: 'ready';
  info: unknown;
}

type ChildMessage = ResponseMessage | ReadyMessage;

/** A request handler inside a child: receives the args, returns (a promise of) the result. */
export type Handler = (args: never) => unknown;

/**
 * Child side: answers the runner's requests with `handlers` and announces `info` as ready.
 * A `close` handler, when given, runs before the process exits on the `exit` command.
 */
export function serveRequests(handlers: Record<string, Handler>, info: unknown = {}): void {
  if (!process.send) throw new Error('this script is meant to be started by bench/run.ts');
  const reply = (message: ResponseMessage) => process.send!(message);
  process.on('message', (message: RequestMessage) => {
    if (message?.kind !== 'request') return;
    const { id, cmd, args } = message;
    if (cmd === 'exit') {
      reply({ kind: 'response', id, ok: true });
      // Leave time for the answer to go out; --cpu-prof writes its file on this exit.
      setTimeout(() => process.exit(0), 20);
      return;
    }
    const handler = handlers[cmd];
    if (!handler) {
      reply({ kind: 'response', id, ok: false, error: `unknown command ${cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(args as never))
      .then(
        (result) => reply({ kind: 'response', id, ok: true, result }),
        (error: unknown) =>
          reply({
            kind: 'response',
            id,
            ok: false,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
      );
  });
  // The runner going away must not leave orphans holding thousands of sockets.
  process.on('disconnect', () => process.exit(0));
  process.send({ kind: 'ready', info } satisfies ReadyMessage);
}

/** Options of `startChild`. */
export interface StartChildOptions {
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeFlags?: readonly string[];
  /** Arguments given to the script. */
  args?: readonly string[];
  /** Label used in error messages. */
  label?: string;
}

/** The runner's handle on one child process. */
export interface BenchChild<Info> {
  readonly label: string;
  readonly pid: number | undefined;
  /** What the child announced when ready (e.g. its port). */
  readonly info: Info;
  /** Settles when the process has exited (after `stop`, a signal, or a crash). */
  readonly exited: Promise<void>;
  /** Sends a command and waits for its result. */
  request<T>(cmd: string, args?: unknown): Promise<T>;
  /** Asks the child to exit, and kills it (this pid only) if it does not within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Forks `script` (a .ts file) under tsx with `--expose-gc`, waits for its ready message and
 * returns a handle. Fails if the child exits before it is ready.
 */
export async function startChild<Info>(
  script: URL,
  { nodeFlags = [], args = [], label = script.pathname }: StartChildOptions = {},
): Promise<BenchChild<Info>> {
  const child: ChildProcess = fork(script, [...args], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      for (const { reject } of pending.values()) {
        reject(new Error(`${label} exited (code ${code}, signal ${signal})`));
      }
      pending.clear();
      resolve();
    }),
  );

  const info = await new Promise<Info>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${label} exited before ready (code ${code})`)));
    child.on('message', (message: ChildMessage) => {
      if (message.kind === 'ready') resolve(message.info as Info);
      else if (message.kind === 'response') {
        const waiter = pending.get(message.id);
        if (!waiter) return;
        pending.delete(message.id);
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new Error(`${label}: ${message.error ?? 'failed'}`));
      }
    });
  });

  return {
    label,
    pid: child.pid,
    info,
    exited: exit,
    request<T>(cmd: string, requestArgs?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`${label} has exited`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ kind: 'request', id, cmd, args: requestArgs } satisfies RequestMessage);
      });
    },
    async stop(graceMs = 5000) {
      if (exited) return;
      const id = nextId++;
      child.send({ kind: 'request', id, cmd: 'exit', args: undefined } satisfies RequestMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
