/** Entry point of `npm start`: the standalone server on the environment's config. */
import { serve } from './serve.ts';

await serve(process.argv.slice(2));
