import { createSessionHost, type SessionHost } from './host';
import { memoryStore } from './memory-store';
import { reportToConsole } from './report';
import type { Authorize } from './protocol/config';
import { createProtocolHandler, type ProtocolHandlerOptions } from './protocol/handler';
import type { SessionStore } from './store';

/**
 * Options of {@link createSessionServer}. Every option is optional.
 * @example
 * createSessionServer({ store: memoryStore(), maxBodyBytes: 256 * 1024, authorize: (req) => req.headers.has('authorization') });
 */
export interface SessionServerOptions extends Omit<ProtocolHandlerOptions, 'store' | 'onSessionStream'> {
  /** Where sessions live. Default: a new {@link memoryStore} (closed by `close()`). */
  store?: SessionStore;
  /** Refuse requests with 401/403. See {@link Authorize}. */
  authorize?: Authorize;
  /** How long `close()` waits for running agents. Default 5000 ms. */
  closeTimeoutMs?: number;
}

/**
 * A session server: the Web-standard HTTP `handler` and the agent-side `host`.
 * @example
 * const server = createSessionServer();
 * server.host.onPrompt(demoAgent());
 * const running = await listen(server.handler, { port: 0 });
 */
export interface SessionServer {
  /** `(Request) => Promise<Response>`: mount it in node:http ({@link listen}), Express, Hono, Next.js… */
  readonly handler: (request: Request) => Promise<Response>;
  /** The agent API: `host.session(id).startTurn()`, `host.onPrompt(handler)`. */
  readonly host: SessionHost;
  readonly store: SessionStore;
  /** Stop the host (running turns end), then close the store if the server created it. Idempotent. */
  close(): Promise<void>;
}

/**
 * Create a session server: the Durable Streams protocol at `/v1/stream/<sessionId>` plus
 * the agent API, over one store.
 * @example
 * import { createSessionServer, demoAgent, listen } from '@durable-session/server';
 * const server = createSessionServer();
 * server.host.onPrompt(demoAgent());
 * const running = await listen(server.handler, { port: 4437 });
 * // later: await running.close(); await server.close();
 */
export function createSessionServer(options: SessionServerOptions = {}): SessionServer {
  const ownsStore = options.store === undefined;
  const store = options.store ?? memoryStore();
  const onError = options.onError ?? reportToConsole;
  const hostOptions: Parameters<typeof createSessionHost>[0] = { store, onError };
  if (options.closeTimeoutMs !== undefined) hostOptions.closeTimeoutMs = options.closeTimeoutMs;
  const host = createSessionHost(hostOptions);
  const handler = createProtocolHandler({
    ...options,
    store,
    onError,
    // Every node's host learns about sessions created here through the store's session index
    // (idempotent: a PUT of an existing session repairs a failed announcement).
    onSessionStream: (id, stream) => host.registerSession(id, stream.instance),
  });
  let closing: Promise<void> | undefined;
  return {
    handler,
    host,
    store,
    close() {
      closing ??= (async () => {
        await host.close();
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}
