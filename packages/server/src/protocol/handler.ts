import type { IncomingMessage, ServerResponse } from 'node:http';
import { PresenceRegistry } from '../presence';
import { reportToConsole } from '../report';
import type { SessionStore, StreamInfo } from '../store';
import type { Authorize, HandlerConfig } from './config';
import type { CorsOrigin } from './headers';
import { nodeHandlerFactory, type NodeHandler, type NodeHandlerOptions } from './node-handler';
import { serveProtocol } from './serve';
import { RecentDataEvents } from './sse';
import { fromWebRequest, toWebResponse } from './web';

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
  /** Most entries in one read response (a catch-up GET, a long-poll, one SSE data event). Default 10,000 (a response of tiny events then holds the event loop for a few ms; `maxReadBytes` bounds larger ones). */
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
 * The Web-standard handler: `(Request) => Promise<Response>`.
 * @example
 * const handler: WebHandler = createProtocolHandler({ store: memoryStore() });
 */
export type WebHandler = (request: Request) => Promise<Response>;

/**
 * The Web-standard `(Request) => Promise<Response>` serving the Durable Streams protocol
 * on `basePath`. Never throws: every failure becomes an error response with a JSON body
 * `{ "error": { "code", "message" } }`. For node:http, Express, Fastify and Koa use the
 * node-native handler instead (`toNodeHandler`): it serves `IncomingMessage`/`ServerResponse`
 * without building a `Request` per call. Called by Express or Connect as `(req, res, next)`,
 * this handler hands the call to that node-native handler itself.
 * @example
 * const handler = createProtocolHandler({ store: memoryStore() });
 * const res = await handler(new Request('http://localhost/v1/stream/chat-1', { method: 'PUT', headers: { 'content-type': 'application/json' } }));
 */
export function createProtocolHandler(options: ProtocolHandlerOptions): WebHandler {
  const config = resolveConfig(options);
  const node = nodeHandlerFactory(config);
  const fallback = node({});
  const handler = (request: Request, ...rest: [ServerResponse?, ((error?: unknown) => void)?]): Promise<Response> => {
    const [res, next] = rest;
    if (res !== undefined && !(request instanceof Request)) {
      fallback(request as unknown as IncomingMessage, res, next); // node:http's (req, res, next), e.g. app.all(path, server.handler)
      return Promise.resolve(undefined as unknown as Response); // node:http callers ignore what is returned
    }
    return serveProtocol(fromWebRequest(request), config).then(toWebResponse);
  };
  nodeFactories.set(handler, node);
  return handler;
}

/** Each protocol handler's node-native twin, over the same config (`toNodeHandler`, `listen`). */
const nodeFactories = new WeakMap<WebHandler, (options: NodeHandlerOptions) => NodeHandler>();

/** The node-native handler factory of a handler made by {@link createProtocolHandler}, if it is one. */
export function nodeFactoryOf(handler: WebHandler): ((options: NodeHandlerOptions) => NodeHandler) | undefined {
  return nodeFactories.get(handler);
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
    maxReadEntries: options.maxReadEntries ?? 10_000,
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
    recentDataEvents: new RecentDataEvents(),
    presence: options.presence ?? new PresenceRegistry(),
  };
}

