/**
 * @durable-session/core: the browser client of durable sessions.
 *
 * Start with {@link createDurableSession} (session.ts), an adapter to a backend
 * ({@link httpAdapter} for the Durable Streams protocol, {@link memoryAdapter} in process),
 * and the fold of events into turns ({@link reduceSession}).
 */
export { createDurableSession, CLIENT_ID_KEY } from './session';
export { reduceSession, initialSessionState } from './reducer';
export { httpAdapter, type HttpAdapterOptions } from './adapters/http';
export type { HeadersOption } from './http-request';
export { memoryAdapter, type MemoryAdapter } from './adapters/memory';
export { DB_NAME } from './persistence';
export { waitFor } from './wait';
export { createDurableFetch, FETCH_DB_NAME, type DurableFetchOptions, type FetchChunkEvent } from './durable-fetch';
export { DURABLE_FETCH_HEADERS, STREAM_HEADERS } from './protocol';
export * from './frame';
export {
  lazySession,
  isDurableSession,
  sessionMethods,
  shallowEqual,
  type LazySession,
  type LazySessionOptions,
  type SessionMethods,
  type DurableSessionSource,
} from './lazy';
export * from './errors';
export * from './events';
export * from './types';
export * from './ws-protocol';
export { snapshotPaging } from './older-turns';
export { pageOf, stateOfPage, mergeOlder, MAX_PAGE_TURNS, type SnapshotPage, type SnapshotRequest } from './snapshot-window';
