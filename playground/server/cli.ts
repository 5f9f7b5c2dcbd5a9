import { openStore, parseStoreSetting } from '@durable-session/server';
import { startPlayground, type PlaygroundOptions } from './index';

/**
 * Read the options from the environment: `PORT`, `HOST`, `PLAYGROUND_TOKENS_PER_SECOND`, and
 * `DURABLE_SESSION_STORE` (`memory`, the default; `redis://host:port[/db]`; `redis` for `REDIS_URL`;
 * `sqlite:<path>`), the CLI's `--store` setting.
 */
function optionsFromEnv(env: NodeJS.ProcessEnv): PlaygroundOptions {
  const number = (name: string, min: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}, got ${JSON.stringify(raw)}`);
    return value;
  };
  const options: PlaygroundOptions = {};
  const port = number('PORT', 0);
  const tokensPerSecond = number('PLAYGROUND_TOKENS_PER_SECOND', 0.1);
  if (port !== undefined) options.port = port;
  if (tokensPerSecond !== undefined) options.tokensPerSecond = tokensPerSecond;
  if (env.HOST) options.host = env.HOST;
  return options;
}

async function main(): Promise<void> {
  const options = optionsFromEnv(process.env);
  const store = await openStore(parseStoreSetting(process.env.DURABLE_SESSION_STORE || 'memory', process.env));
  if (store !== undefined) options.store = store;
  const playground = await startPlayground(options).catch(async (error: unknown) => {
    await store?.close();
    throw error;
  });
  process.stdout.write(`durable-session playground on ${playground.url}\n`);
  process.stdout.write(`  React ${playground.url}/   Vue ${playground.url}/vue.html   Svelte ${playground.url}/svelte.html\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    playground
      .close()
      .then(() => store?.close())
      .then(
        () => {
          // Everything is closed; should a stray handle keep the loop alive, do not hang.
          setTimeout(() => process.exit(), 2000).unref();
        },
        (error: unknown) => {
          process.stderr.write(`durable-session playground: error while stopping: ${String(error)}\n`);
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const hint = code === 'EADDRINUSE' ? ' (the port is taken: set PORT, e.g. `PORT=5174 npm start`)' : '';
  process.stderr.write(`durable-session playground: ${error instanceof Error ? error.message : String(error)}${hint}\n`);
  process.exitCode = 1;
});
