import { DurableSessionError } from '../errors';
import type { AppEvent, SessionEvent } from '../events';
import type { ReadBatch, ReconnectOptions, SessionAdapter } from '../types';
import type { WsEventsFrame } from '../ws-protocol';
import { SocketConnection, type WebSocketConstructor } from './ws-connection';

/**
 * Options of {@link websocketAdapter}.
 * @example
 * import { WebSocket } from 'ws'; // Node 20; browsers have their own
 * const options: WebSocketAdapterOptions = { url: 'ws://127.0.0.1:4437/v1/socket', WebSocket };
 */
export interface WebSocketAdapterOptions {
  /** The server's socket URL (`ws://` or `wss://`; the server serves it at `/v1/socket`). */
  url: string;
  /** The `WebSocket` class. Default: the global one (browsers, Node 22+); in Node 20 pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** How often to ping; a socket without any frame for twice this long is treated as dead. Default 15 s. */
  pingIntervalMs?: number;
  /** How long an unused socket stays open. Default 1 s. */
  lingerMs?: number;
  /** Appends waiting for an answer at most; more are refused with `bad-input`. Default 1000. */
  maxPendingAppends?: number;
  /** Batches one read may hold before the session takes them; past it, the read fails (`network`) and resumes. Default 10 000. */
  maxQueuedBatches?: number;
  /** Reconnect backoff of the socket (defaults as the session's). */
  reconnect?: ReconnectOptions;
}

/**
 * A {@link SessionAdapter} over a WebSocket, with a count of the sockets it opened.
 * @example
 * const adapter: WebSocketAdapter<SessionEvent> = websocketAdapter({ url, WebSocket });
 * console.log(adapter.sockets); // 1 after the first read, +1 per reconnect
 */
export interface WebSocketAdapter<E> extends SessionAdapter<E> {
  /** Sockets opened so far by the connection this adapter shares (diagnostics, tests). */
  readonly sockets: number;
}

/** Connections shared by every adapter of a tab with the same URL, WebSocket class and settings. */
const shared = new Map<string, { impl: WebSocketConstructor; connection: SocketConnection }[]>();

function connectionFor(options: WebSocketAdapterOptions): SocketConnection {
  const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (impl === undefined) throw new DurableSessionError('bad-input', 'no WebSocket class: pass one (e.g. from the ws package)');
  const settings = {
    url: options.url,
    pingIntervalMs: options.pingIntervalMs ?? 15_000,
    lingerMs: options.lingerMs ?? 1000,
    maxPending: options.maxPendingAppends ?? 1000,
    reconnect: options.reconnect,
  };
  const key = JSON.stringify(settings);
  const list = shared.get(key) ?? [];
  const found = list.find((c) => c.impl === impl);
  if (found !== undefined) return found.connection;
  const connection = new SocketConnection({ ...settings, WebSocket: impl });
  shared.set(key, [...list, { impl, connection }]);
  return connection;
}

/**
 * A {@link SessionAdapter} over one WebSocket (`docs/websocket-protocol.md`) shared by every
 * session of the tab that uses the same URL (with tab coordination, the leader tab's socket
 * serves the browser). Each read subscribes from its own offset (catch-up, then live); appends
 * are pipelined, kept across reconnects and sent again with the same producer fields, so they
 * land exactly once. When the socket drops, reads fail with `network` and the session resumes
 * from its offset; the socket reconnects with backoff while appends wait.
 *
 * Errors are those of {@link httpAdapter}: `gone` (also a missing stream or an offset beyond its
 * tail when reading from an offset other than `-1`), `unauthorized`, `not-found`, `conflict`,
 * `http` (with `status`), `network`. A missing session is created on a read from `-1` and on an append.
 * @example
 * import { createDurableSession } from '@durable-session/core';
 * import { websocketAdapter } from '@durable-session/core/websocket';
 * const adapter = websocketAdapter({ url: 'wss://api.example.com/v1/socket' });
 * const session = createDurableSession({ sessionId: 'chat-1', adapter });
 */
export function websocketAdapter<E = SessionEvent | AppEvent>(options: WebSocketAdapterOptions): WebSocketAdapter<E> {
  const connection = connectionFor(options);
  const maxQueued = options.maxQueuedBatches ?? 10_000;
  return {
    get sockets() {
      return connection.opened;
    },
    async *read(id, offset, { live, signal }): AsyncGenerator<ReadBatch<E>, void, undefined> {
      for (let created = false; ; created = true) {
        try {
          yield* subscription<E>(connection, id, offset, live, signal, maxQueued);
          return;
        } catch (e) {
          const err = e as DurableSessionError;
          if (err.code === 'not-found' && offset === '-1' && !created) {
            await connection.request({ kind: 'create', session: id }, signal);
            continue;
          }
          // A missing stream, or one that does not reach `offset`: what was read is gone.
          if (offset !== '-1' && (err.status === 404 || err.status === 400)) throw new DurableSessionError('gone', err.message, { status: err.status });
          throw err;
        }
      }
    },
    async append(id, event, { producerId, epoch, seq, signal }) {
      const body = { kind: 'append' as const, session: id, event, producer: { id: producerId, epoch, seq } };
      try {
        await connection.request(body, signal);
      } catch (e) {
        if ((e as DurableSessionError).code !== 'not-found') throw e;
        await connection.request({ kind: 'create', session: id }, signal);
        await connection.request(body, signal);
      }
    },
    async presence(id, beat, { signal }) {
      const frame = { kind: 'presence' as const, session: id, clientId: beat.clientId, tabId: beat.tabId, ...(beat.leave ? { leave: true } : {}) };
      const answer = await connection.request(frame, signal);
      if (answer.kind !== 'presence') throw new DurableSessionError('protocol', 'the server answered a presence beat with an ack');
      return { clients: answer.clients, beatMs: answer.beatMs };
    },
  };
}

/** One subscription as an async iterable of batches; unsubscribes when the consumer stops. */
async function* subscription<E>(
  connection: SocketConnection,
  id: string,
  offset: string,
  live: boolean,
  signal: AbortSignal,
  maxQueued: number,
): AsyncGenerator<ReadBatch<E>, void, undefined> {
  const queue: (WsEventsFrame | DurableSessionError)[] = [];
  let wake: () => void = () => {};
  const push = (item: WsEventsFrame | DurableSessionError): void => {
    queue.push(item);
    wake();
  };
  const unsubscribe = connection.subscribe(id, offset, live, {
    batch(frame) {
      if (queue.length < maxQueued) return push(frame);
      unsubscribe();
      push(new DurableSessionError('network', `more than ${maxQueued} batches waited to be applied`));
    },
    error: push,
  });
  const onAbort = (): void => wake();
  signal.addEventListener('abort', onAbort);
  try {
    for (;;) {
      while (queue.length === 0 && !signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
      const item = queue.shift();
      if (signal.aborted || item === undefined) return;
      if (DurableSessionError.isInstance(item)) throw item;
      yield { events: item.events as E[], offset: item.offset, upToDate: item.upToDate, closed: item.closed };
      if (item.closed || (!live && item.upToDate)) return;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    unsubscribe();
  }
}
