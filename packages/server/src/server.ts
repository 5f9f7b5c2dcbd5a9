import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createSessionHost, type SessionHost } from './host';
import { memoryStore } from './memory-store';
import { reportToConsole } from './report';
import type { Authorize } from './protocol/config';
import { createProtocolHandler, type ProtocolHandlerOptions, type WebHandler } from './protocol/handler';
import type { NodeHandler } from './protocol/node-handler';
import { toNodeHandler } from './to-node-handler';
import { PresenceRegistry } from './presence';
import type { SessionStore } from './store';
import { createWebSocketEndpoint, type WebSocketEndpoint, type WebSocketOptions } from './ws/endpoint';

/**
 * Options of {@link createSessionServer}. Every option is optional.
 * @example
 * createSessionServer({ store: memoryStore(), maxBodyBytes: 256 * 1024, authorize: (req) => req.headers.has('authorization') });
 */
export interface SessionServerOptions extends Omit<ProtocolHandlerOptions, 'store' | 'onSessionStream' | 'onSessionDeleted'> {
  /** Where sessions live. Default: a new {@link memoryStore} (closed by `close()`). */
  store?: SessionStore;
  /** Refuse requests with 401/403. See {@link Authorize}. */
  authorize?: Authorize;
  /** How long `close()` waits for running agents. Default 5000 ms. */
  closeTimeoutMs?: number;
  /** The lease of a running turn, in seconds (see `SessionHostOptions.turnLeaseSeconds`). Default 6. */
  turnLeaseSeconds?: number;
  /** The WebSocket endpoint's options (`docs/websocket-protocol.md`), or `false` for none. */
  websocket?: WebSocketOptions | false;
  /** Most turns agents run at once per session on this node (see `SessionHostOptions`). Default 4. */
  maxConcurrentTurns?: number;
}

/**
 * A session server: the Web-standard HTTP `handler` and the agent-side `host`.
 * @example
 * const server = createSessionServer();
 * server.host.onPrompt(demoAgent());
 * const running = await listen(server, { port: 0 }); // HTTP and the WebSocket
 */
export interface SessionServer {
  /** The Web-standard `(Request) => Promise<Response>`: for Hono, Next.js route handlers, Bun, Deno. */
  readonly handler: WebHandler;
  /**
   * The node-native `(req, res, next?) => void` over the same config: for node:http, Express,
   * Fastify, Koa (see `toNodeHandler`); {@link listen} uses it.
   */
  readonly nodeHandler: NodeHandler;
  /** The agent API: `host.session(id).startTurn()`, `host.onPrompt(handler)`. */
  readonly host: SessionHost;
  readonly store: SessionStore;
  /**
   * The WebSocket endpoint as a node:http `upgrade` listener, over the same store, `authorize`
   * and limits as `handler`. {@link listen} uses it; elsewhere mount it on the underlying
   * node:http server (Express: `app.listen(port).on('upgrade', server.upgrade)`; Fastify:
   * `fastify.server.on('upgrade', server.upgrade)`). Returns `false`, leaving the socket alone,
   * for other paths (and always with `websocket: false`).
   */
  readonly upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /** The WebSocket endpoint (`undefined` with `websocket: false`). */
  readonly websocket: WebSocketEndpoint | undefined;
  /** The `authorize` hook the handler runs (`durableResponse` runs it too). */
  readonly authorize: Authorize | undefined;
  /** Close the sockets, stop the host (running turns end), then close the store if the server created it. Idempotent. */
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
  if (options.turnLeaseSeconds !== undefined) hostOptions.turnLeaseSeconds = options.turnLeaseSeconds;
  if (options.maxConcurrentTurns !== undefined) hostOptions.maxConcurrentTurns = options.maxConcurrentTurns;
  const host = createSessionHost(hostOptions);
  const protocol: ProtocolHandlerOptions = {
    ...options,
    store,
    onError,
    // Every node's host learns about sessions created here through the store's session index
    // (idempotent: a PUT of an existing session repairs a failed announcement).
    onSessionStream: (id, stream) => host.registerSession(id, stream.instance, stream.fork === undefined ? undefined : stream.tail),
    onSessionDeleted: (id) => host.sessionDeleted(id),
    // One count of who watches, whether tabs beat over HTTP or over the socket.
    presence: new PresenceRegistry(),
  };
  const handler = createProtocolHandler(protocol);
  const websocket = options.websocket === false ? undefined : createWebSocketEndpoint(protocol, options.websocket);
  let closing: Promise<void> | undefined;
  return {
    handler,
    nodeHandler: toNodeHandler(handler),
    host,
    store,
    websocket,
    upgrade: (request, socket, head) => websocket?.upgrade(request, socket, head) ?? false,
    authorize: options.authorize,
    close() {
      closing ??= (async () => {
        await websocket?.close();
        await host.close();
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}
