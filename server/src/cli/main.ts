/** The `roomcast` command: serve, send, publish, token, tail, simulate, asyncapi. */
import { readFileSync } from 'node:fs';
import { publishCommand } from './publish.ts';
import { sendCommand } from './send.ts';
import { tokenCommand } from './token.ts';
import { tailCommand } from './tail.ts';
import { simulateCommand } from './simulate.ts';
import { loadDotEnv } from '../config-sources.ts';
import { restoreDevSecrets } from '../dev-secrets.ts';
import { UsageError } from './args.ts';

const HELP = `Usage: roomcast <command> [options]

Commands:
  serve    run the server (what npm start runs); flags, env or a config file
  send     post a signed test webhook to a server and print the answer
  publish  put an app event (app:<name>) into a room's channel
  token    print a subscriber token for some rooms (or * for all)
  tail     print live events of rooms; resumes after disconnects
  simulate play realistic meetings as signed webhooks, with progress
  asyncapi print the AsyncAPI 3 document of the channels (JSON)

Run 'roomcast <command> --help' for a command's options.`;

const [command, ...rest] = process.argv.slice(2);
if (['send', 'publish', 'tail', 'simulate', 'token'].includes(command ?? '')) {
  // The same secrets the server in this folder uses: `.env`, then what a dev server kept.
  loadDotEnv();
  restoreDevSecrets(process.env);
}
try {
  await run();
} catch (error) {
  // One line, never a stack trace: a usage mistake (2) or what went wrong (1).
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exitCode = 2;
  } else {
    console.error(`roomcast ${command}: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  }
}

async function run() {
  switch (command) {
    case 'serve': {
      const { serve } = await import('../serve.ts');
      await serve(rest);
      break;
    }
    case 'send':
      process.exitCode = await sendCommand(rest, process.env);
      break;
    case 'publish':
      process.exitCode = await publishCommand(rest, process.env);
      break;
    case 'tail':
      process.exitCode = await tailCommand(rest, process.env);
      break;
    case 'simulate':
      process.exitCode = await simulateCommand(rest, process.env);
      break;
    case 'asyncapi': {
      const { asyncApiDocument } = await import('../asyncapi.ts');
      console.log(JSON.stringify(asyncApiDocument(), null, 2));
      break;
    }
    case 'token':
      process.exitCode = await tokenCommand(rest, process.env);
      break;
    case '--version':
    case '-v': {
      const pkg = JSON.parse(
        readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
      ) as { version: string };
      console.log(pkg.version);
      break;
    }
    case undefined:
    case '--help':
    case '-h':
      console.log(HELP);
      break;
    default:
      console.error(`roomcast: unknown command ${command}\n\n${HELP}`);
      process.exitCode = 2;
  }
}
