import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HandlerConfig } from './config';
import { fromNodeRequest, urlOf, writeNodeResponse } from './node';
import { errorResponse } from './responses';
import { serveProtocol } from './serve';

/**
 * A node:http request handler, as node:http, Express, Connect, Fastify (`reply.raw`) and Koa
 * (`ctx.req`, `ctx.res`) call it. `next`, when given, is called for requests outside the
 * handler's `basePath` (Express passes them on); without it they are answered 404.
 * @example
 * const handler: NodeHandler = toNodeHandler(server);
 * createServer(handler).listen(4437);
 */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * Options of a node-native handler.
 * @example
 * toNodeHandler(server, { writeTimeoutMs: 10_000 });
 */
export interface NodeHandlerOptions {
  /**
   * How long a response may wait for a client that does not read (the socket's buffer full)
   * before the connection is cut, so no reader is buffered for without bound. Default 30 s.
   */
  writeTimeoutMs?: number;
}

/** The node-native handlers over one protocol config. */
export function nodeHandlerFactory(config: HandlerConfig): (options: NodeHandlerOptions) => NodeHandler {
  const prefix = `${config.basePath.replace(/\/+$/, '')}/`;
  return (options) => {
    const writeTimeoutMs = options.writeTimeoutMs ?? 30_000;
    return (req, res, next) => {
      const url = urlOf(req);
      if (url === undefined) return answer(res, errorResponse('bad-request', 'the request target must be a plain path'), config);
      if (next !== undefined && !url.pathname.startsWith(prefix)) return next();
      serveProtocol(fromNodeRequest(req, res, url), config)
        .then((response) => writeNodeResponse(res, response, req.method === 'HEAD', writeTimeoutMs))
        .catch((error: unknown) => {
          config.onError(error);
          if (res.headersSent) res.destroy();
          else answer(res, errorResponse('internal', 'internal server error'), config);
        });
    };
  };
}

function answer(res: ServerResponse, response: ReturnType<typeof errorResponse>, config: HandlerConfig): void {
  writeNodeResponse(res, response, false, 0)?.catch(config.onError);
}
