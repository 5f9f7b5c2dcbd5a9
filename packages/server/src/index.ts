/**
 * `@durable-session/server`: durable chat sessions on the server.
 *
 * - {@link createSessionServer}: the Durable Streams HTTP surface (`/v1/stream/<sessionId>`)
 *   as a Web-standard `(Request) => Promise<Response>`, plus the agent API (`host`).
 * - {@link toNodeHandler} (`server.nodeHandler`): the same surface as a node-native
 *   `(req, res, next?)` handler for node:http, Express, Fastify and Koa.
 * - {@link listen}: serve it, and the WebSocket endpoint (`server.upgrade`), on node:http.
 * - `host.onPrompt(handler)` / `host.session(id).startTurn()`: agents write turns; a `cancel`
 *   aborts the turn's `AbortSignal`, `steer`s arrive on `turn.steers`.
 * - {@link SessionStore}: the storage seam; {@link memoryStore} is the embedded default.
 * - {@link demoAgent}: a small built-in agent for demos and tests.
 */
export { createSessionServer } from './server';
export type { SessionServer, SessionServerOptions } from './server';
export { listen } from './listen';
export type { ListenOptions, ListeningServer } from './listen';
export { toNodeHandler } from './to-node-handler';
export type { Servable, ToNodeHandlerOptions, UpgradeHandler } from './to-node-handler';
export type { NodeHandler, NodeHandlerOptions } from './protocol/node-handler';
export { createWebSocketEndpoint } from './ws/endpoint';
export type { WebSocketEndpoint, WebSocketOptions } from './ws/endpoint';

export { createSessionHost } from './host';
export type { PromptContext, PromptHandler, SessionHost, SessionHostOptions } from './host';
export type { SessionEntry, SessionHandle, SessionRead, StartTurnOptions } from './session-handle';
export type { TurnWriter } from './turn';
export type { AskOptions } from './turn-questions';
export { answerProducer } from './answers';
export { PresenceRegistry, PRESENCE_BEAT_MS, PRESENCE_TTL_MS, type PresenceEntry, type PresenceBeat } from './presence';
export { demoAgent } from './demo-agent';
export { durableResponse, FETCH_CHUNK_EVENT, type DurableResponseOptions, type Upstream, type UpstreamBody, type UpstreamContext } from './durable-response';
/** The durable response's header names, shared with the client (`createDurableFetch`). */
export { DURABLE_FETCH_HEADERS } from '@durable-session/core';
export type { DemoAgentOptions } from './demo-agent';

export { createProtocolHandler } from './protocol/handler';
export type { ProtocolHandlerOptions, WebHandler } from './protocol/handler';
export type { AuthGrant, Authorize, AuthorizeContext, AuthorizedEvent, SessionAction, SessionRole } from './protocol/config';
export type { CorsOrigin } from './protocol/headers';

export { ENTRY_OVERHEAD_BYTES, memoryStore } from './memory-store';
export { hasExpired, type Expiry } from './expiry';
export { openStore, parseStoreSetting, StoreLoadError } from './store-loader';
export type { StoreSetting } from './store-loader';
export type { MemoryStoreOptions } from './memory-store';
export type * from './store';
export { checkProducer } from './producer';
export type { ProducerState, ProducerVerdict } from './producer';
export { formatOffset, isInstance, newInstance, parseOffset, positionIn, ZERO_INSTANCE, ZERO_OFFSET } from './offsets';
export { mediaType, modeOf } from './content-type';
export type { StreamMode } from './content-type';

export { SessionServerError, statusOfCode } from './errors';
export type { SessionServerErrorCode } from './errors';
export { actionOfEvent, isSdkEvent, problemWithEvent, problemWithSessionEvent } from './validate-events';
export type { EventAction } from './validate-events';
