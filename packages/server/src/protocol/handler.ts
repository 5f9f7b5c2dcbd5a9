import { SessionServerError } from '../errors';
import { reportToConsole } from '../report';
import type { SessionStore, StreamInfo } from '../store';
import { handleAppend } from './append';
import type { Authorize, HandlerConfig } from './config';
import { handleCreate } from './create';
import { addCommonHeaders, type CorsOrigin } from './headers';
import { handleDelete, handleHead } from './meta';
import { handleRead } from './read';
import { emptyResponse, errorResponse, responseForError } from './responses';
import { streamIdOf } from './routes';

/**
 * Options of the Durable Streams HTTP handler (see `createSessionServer`).
 * @example
 * createProtocolHandler({ store: memoryStore(), maxBodyBytes: 256 * 1024 });
 */
export interface ProtocolHandlerOptions {
  store: SessionStore;
  /** Path prefix of stream URLs. Default `/v1/stream` (streams live at `/v1/stream/<sessionId>`). */
  basePath?: string;
  /** Refuse requests (401/403). Called once per request, after the body was read and parsed. */
  authorize?: Authorize;
  /** Largest accepted request body in bytes; larger ones get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest read response body in bytes (at least one entry is always returned). Default 1 MiB. */
  maxReadBytes?: number;
  /** How long a long-poll waits for data before answering 204. Default 20 s. */
  longPollTimeoutMs?: number;
  /** SSE connections are closed after this long so clients reconnect (CDN collapsing). Default 60 s. */
  sseMaxDurationMs?: number;
  /** Interval of SSE keep-alive comments on idle connections. Default 15 s. */
  sseKeepAliveMs?: number;
  /** Browser origins allowed by CORS. Default `'*'`. */
  cors?: CorsOrigin;
  /** Refuse SDK events (`prompt`, `cancel`, …) missing required fields with 400. Default `true`. */
  validateEvents?: boolean;
  /**
   * Called before answering a PUT that created (201) or found (200) a JSON-mode stream; it
   * must be idempotent. When it rejects, the PUT answers 500 (the stream stays; a retried
   * PUT calls it again).
   */
  onSessionStream?: (id: string, stream: StreamInfo) => Promise<void>;
  /** Unexpected errors (answered 500) and background failures. Default `console.error`. */
  onError?: (error: unknown) => void;
}

/**
 * The Web-standard `(Request) => Promise<Response>` serving the Durable Streams protocol
 * on `basePath`. Never throws: every failure becomes an error response with a JSON body
 * `{ "error": { "code", "message" } }`.
 * @example
 * const handler = createProtocolHandler({ store: memoryStore() });
 * const res = await handler(new Request('http://localhost/v1/stream/chat-1', { method: 'PUT', headers: { 'content-type': 'application/json' } }));
 */
export function createProtocolHandler(options: ProtocolHandlerOptions): (request: Request) => Promise<Response> {
  const config: HandlerConfig = {
    store: options.store,
    basePath: options.basePath ?? '/v1/stream',
    authorize: options.authorize,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    maxReadBytes: options.maxReadBytes ?? 1024 * 1024,
    longPollTimeoutMs: options.longPollTimeoutMs ?? 20_000,
    sseMaxDurationMs: options.sseMaxDurationMs ?? 60_000,
    sseKeepAliveMs: options.sseKeepAliveMs ?? 15_000,
    cors: options.cors ?? '*',
    validateEvents: options.validateEvents ?? true,
    onSessionStream: options.onSessionStream,
    onError: options.onError ?? reportToConsole,
  };
  return async (request) => {
    let response: Response;
    try {
      response = await route(request, config);
    } catch (error) {
      if (!SessionServerError.isInstance(error) || error.status >= 500) config.onError(error);
      response = responseForError(error);
    }
    addCommonHeaders(response.headers, request, config.cors, request.method === 'OPTIONS');
    return response;
  };
}

async function route(request: Request, config: HandlerConfig): Promise<Response> {
  if (request.method === 'OPTIONS') return emptyResponse(204);
  const id = streamIdOf(new URL(request.url).pathname, config.basePath);
  if (id === undefined) return errorResponse('not-found', 'not a session URL');
  switch (request.method) {
    case 'PUT':
      return handleCreate(request, id, config);
    case 'POST':
      return handleAppend(request, id, config);
    case 'GET':
      return handleRead(request, id, config);
    case 'HEAD':
      return handleHead(request, id, config);
    case 'DELETE':
      return handleDelete(request, id, config);
    default:
      return errorResponse('method-not-allowed', `method ${request.method} is not allowed`, {
        allow: 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
      });
  }
}
