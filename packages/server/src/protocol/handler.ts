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
import { handlePresence } from './presence-route';
import { PresenceRegistry } from '../presence';

/**
 * Options of the Durable Streams HTTP handler (see `createSessionServer`).
 * @example
 * createProtocolHandler({ store: memoryStore(), maxBodyBytes: 256 * 1024 });
 */
export interface ProtocolHandlerOptions {
  store: SessionStore;
  /** Path prefix of stream URLs. Default `/v1/stream` (streams live at `/v1/stream/<sessionId>`). */
  basePath?: string;
  /**
   * Refuse requests (401/403) or bind the caller's role and identity. Called once per request,
   * before any store lookup, after the body was read (bounded) and parsed. See {@link Authorize}.
   */
  authorize?: Authorize;
  /** Largest accepted request body in bytes; larger ones get 413 `payload-too-large`. Default 1 MiB. */
  maxBodyBytes?: number;
  /** How long a request body may take to arrive; slower ones get 408 `request-timeout`. Default 30 s. */
  bodyTimeoutMs?: number;
  /** Largest read response body in bytes (at least one entry is always returned). Default 1 MiB. */
  maxReadBytes?: number;
  /** Most entries in one read response (a catch-up GET, a long-poll, one SSE data event). Default 1000. */
  maxReadEntries?: number;
  /** Most events in one append (POST or PUT body); more get 413 `too-many-events`. Default 100. */
  maxEventsPerAppend?: number;
  /** Most events a session stream holds; an append past it gets 413 `session-full`. Default 100,000. */
  maxSessionEvents?: number;
  /** Most bytes a session stream holds (the store's accounting); past it, 413 `session-full`. Default 64 MiB. */
  maxSessionBytes?: number;
  /** Most live reads (SSE and long-poll) open per session on this node; more get 429 `too-many-readers`. Default 50. */
  maxLiveReadersPerSession?: number;
  /**
   * `true` (default): every `application/json` stream is a session stream: each event must be
   * a JSON object with a string `type` (SDK types checked field by field) and roles apply
   * (only agents write agent events or close it). `false`: a generic Durable Streams server
   * (any JSON; malformed SDK events are still refused).
   */
  sessionStreams?: boolean;
  /** How long a long-poll waits for data before answering 204. Default 20 s. */
  longPollTimeoutMs?: number;
  /** SSE connections are closed after this long so clients reconnect (CDN collapsing). Default 60 s. */
  sseMaxDurationMs?: number;
  /** Interval of SSE keep-alive comments on idle connections. Default 15 s. */
  sseKeepAliveMs?: number;
  /** Browser origins allowed by CORS. Default `'*'`. */
  cors?: CorsOrigin;
  /**
   * Called before answering a PUT that created (201) or found (200) a JSON-mode stream; it
   * must be idempotent. When it rejects, the PUT answers 500 (the stream stays; a retried
   * PUT calls it again).
   */
  onSessionStream?: (id: string, stream: StreamInfo) => Promise<void>;
  /** Called after a DELETE removed a stream (its failure is reported to `onError`; the DELETE still answers 204). */
  onSessionDeleted?: (id: string) => Promise<void>;
  /** Unexpected errors (answered 500) and background failures. Default `console.error`. */
  onError?: (error: unknown) => void;
  /** Where presence beats are counted; share one between the HTTP handler and the WebSocket endpoint. Default: a new one. */
  presence?: PresenceRegistry;
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
  const config = resolveConfig(options);
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

/** The handler's options with their defaults: one config for every transport (HTTP, WebSocket). */
export function resolveConfig(options: ProtocolHandlerOptions): HandlerConfig {
  return {
    store: options.store,
    basePath: options.basePath ?? '/v1/stream',
    authorize: options.authorize,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 30_000,
    maxReadBytes: options.maxReadBytes ?? 1024 * 1024,
    maxReadEntries: options.maxReadEntries ?? 1000,
    maxEventsPerAppend: options.maxEventsPerAppend ?? 100,
    maxSessionEvents: options.maxSessionEvents ?? 100_000,
    maxSessionBytes: options.maxSessionBytes ?? 64 * 1024 * 1024,
    maxLiveReadersPerSession: options.maxLiveReadersPerSession ?? 50,
    longPollTimeoutMs: options.longPollTimeoutMs ?? 20_000,
    sseMaxDurationMs: options.sseMaxDurationMs ?? 60_000,
    sseKeepAliveMs: options.sseKeepAliveMs ?? 15_000,
    cors: options.cors ?? '*',
    sessionStreams: options.sessionStreams ?? true,
    onSessionStream: options.onSessionStream,
    onSessionDeleted: options.onSessionDeleted,
    onError: options.onError ?? reportToConsole,
    liveReaders: new Map(),
    presence: options.presence ?? new PresenceRegistry(),
  };
}

async function route(request: Request, config: HandlerConfig): Promise<Response> {
  if (request.method === 'OPTIONS') return emptyResponse(204);
  const url = new URL(request.url);
  const id = streamIdOf(url.pathname, config.basePath);
  if (id === undefined) return errorResponse('not-found', 'not a session URL');
  if (request.method === 'POST' && config.sessionStreams && url.searchParams.has('presence')) return handlePresence(request, id, config);
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
