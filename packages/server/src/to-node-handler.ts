import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { nodeFactoryOf } from './protocol/handler';
import type { NodeHandler, NodeHandlerOptions } from './protocol/node-handler';
import { reportToConsole } from './report';
import { bridgeWebHandler } from './web-bridge';

/**
 * A node:http `upgrade` listener that returns `true` when it took the socket
 * (`SessionServer.upgrade`).
 * @example
 * const upgrade: UpgradeHandler = (request, socket, head) => server.upgrade(request, socket, head);
 */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/**
 * What {@link toNodeHandler} and `listen` serve: a session server (its HTTP handler and its
 * WebSocket `upgrade`), or a Web-standard handler.
 * @example
 * await listen(createSessionServer(), { port: 0 });
 */
export type Servable = ((request: Request) => Promise<Response>) | { handler: (request: Request) => Promise<Response>; upgrade?: UpgradeHandler };

/**
 * Options of {@link toNodeHandler}.
 * @example
 * toNodeHandler(server, { writeTimeoutMs: 10_000, onError: log });
 */
export interface ToNodeHandlerOptions extends NodeHandlerOptions {
  /** Failures of a Web handler that is not a session server's (a session server reports to its own `onError`). Default `console.error`. */
  onError?: (error: unknown) => void;
}

/**
 * The node-native request handler of a session server: `(req, res, next?) => void` serving
 * node:http's `IncomingMessage`/`ServerResponse` directly (no Web `Request`/`Response` per
 * call), for node:http, Express, Connect, Fastify and Koa. `next`, when given, receives the
 * requests outside the server's `basePath`. Any other Web-standard handler is bridged.
 * @example
 * import express from 'express';
 * const app = express();
 * app.use(toNodeHandler(server)); // before express.json(), or anywhere (it reads req.body then)
 * app.listen(3000).on('upgrade', server.upgrade);
 */
export function toNodeHandler(servable: Servable, options: ToNodeHandlerOptions = {}): NodeHandler {
  const handler = typeof servable === 'function' ? servable : servable.handler;
  const factory = nodeFactoryOf(handler);
  if (factory !== undefined) return factory(options);
  return bridgeWebHandler(handler, options.writeTimeoutMs ?? 30_000, options.onError ?? reportToConsole);
}
