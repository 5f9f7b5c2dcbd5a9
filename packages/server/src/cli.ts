#!/usr/bin/env node
import { CliUsageError, parseCliArgs, USAGE, type CliOptions } from './cli-args';
import { onStopRequest, startFailure } from './cli-process';
import { demoAgent } from './demo-agent';
import { listen } from './listen';
import { createSessionServer, type SessionServerOptions } from './server';
import { openStore, type StoreSetting } from './store-loader';

function describe(setting: StoreSetting): string {
  if (setting.kind === 'redis') return setting.url.replace(/\/\/[^@/]*@/, '//***@'); // never print a password
  return setting.kind === 'sqlite' ? `sqlite:${setting.path}` : 'memory';
}

async function main(argv: readonly string[]): Promise<void> {
  let options: CliOptions;
  try {
    options = parseCliArgs(argv, process.env);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    process.stderr.write(`durable-session-server: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }

  const serverOptions: SessionServerOptions = {};
  const store = await openStore(options.storeSetting); // undefined for memory: the server's own
  if (store !== undefined) serverOptions.store = store;
  if (options.longPollTimeoutMs !== undefined) serverOptions.longPollTimeoutMs = options.longPollTimeoutMs;
  if (options.maxBodyBytes !== undefined) serverOptions.maxBodyBytes = options.maxBodyBytes;
  if (options.turnLeaseSeconds !== undefined) serverOptions.turnLeaseSeconds = options.turnLeaseSeconds;
  if (options.genericStreams) serverOptions.sessionStreams = false;
  const server = createSessionServer(serverOptions);
  if (options.demoAgent) {
    server.host.onPrompt(demoAgent(options.demoDelayMs === undefined ? {} : { delayMs: options.demoDelayMs }), { agentId: 'demo' });
  }
  const running = await listen(server, { port: options.port, host: options.host }).catch((error: unknown) => { // HTTP and the WebSocket
    throw new Error(startFailure(error, options.port), { cause: error });
  });

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await running.close();
      await server.close();
      await store?.close(); // the server closes only a store it created
    })().then(
      () => {
        process.exitCode = 0;
        // Everything is closed; should a stray handle keep the loop alive, do not hang.
        setTimeout(() => process.exit(), 2000).unref();
      },
      (error: unknown) => {
        process.stderr.write(`durable-session-server: error while stopping: ${String(error)}\n`);
        process.exitCode = 1;
      },
    );
  };
  onStopRequest(stop);
  process.stdout.write(`durable-session-server listening on ${running.url}\nstore: ${describe(options.storeSetting)}\nnode: ${server.host.nodeId}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`durable-session-server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
