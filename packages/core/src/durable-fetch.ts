import { openDB, type IDBPDatabase } from 'idb';
import type { HeadersOption } from './adapters/http';
import { parseSse } from './adapters/sse';
import { createBackoff } from './retry';
import { DurableSessionError } from './errors';
import type { ReconnectOptions } from './types';
import { randomId, toError } from './util';

/**
 * Headers of a durable response (written by `durableResponse` of `@durable-session/server`):
 * the session id, the turn id, an offset at or before the turn's start, the session's stream
 * URL and, optionally, the URL whose `GET` re-attaches to the answer.
 * @example
 * const turnId = response.headers.get(DURABLE_FETCH_HEADERS.turn);
 */
export const DURABLE_FETCH_HEADERS = {
  session: 'durable-session-id',
  turn: 'durable-session-turn',
  offset: 'durable-session-offset',
  stream: 'durable-session-stream',
  resume: 'durable-session-resume',
} as const;

/**
 * The session event carrying one chunk of a durable response: its raw text.
 * @example
 * const e: FetchChunkEvent = { type: 'fetch.chunk', turnId: 't1', agentId: 'fetch', text: 'data: {"type":"start"}\n\n' };
 */
export interface FetchChunkEvent {
  type: 'fetch.chunk';
  turnId: string;
  agentId: string;
  text: string;
}

/**
 * The IndexedDB database where `durableFetch` keeps in-flight answers (for re-attaching after a reload).
 * @example
 * indexedDB.deleteDatabase(FETCH_DB_NAME); // e.g. on logout
 */
export const FETCH_DB_NAME = 'durable-session-fetch';

/**
 * Options of {@link createDurableFetch}.
 * @example
 * const options: DurableFetchOptions = { reconnect: { maxDelayMs: 5_000, maxAttempts: 30 } };
 */
export interface DurableFetchOptions {
  /** The `fetch` underneath. Default: the global `fetch`, looked up at call time. */
  fetch?: typeof fetch;
  /** Extra headers for the session requests (resume reads, `cancel`), e.g. an auth token. */
  headers?: HeadersOption;
  /** Identifies this client in `cancel` events. Default: a random id. */
  clientId?: string;
  /** Backoff between resume attempts; `maxAttempts` (default 20) failures in a row without progress end the body with the last error. */
  reconnect?: ReconnectOptions & { maxAttempts?: number };
  /** Where in-flight answers are kept: `'indexeddb'` (default where available) or `'memory'`. */
  persistence?: 'indexeddb' | 'memory';
  /** Failures nobody awaits: a `cancel` that could not be delivered, IndexedDB falling back to memory. Default `console.error`. */
  onError?: (error: DurableSessionError) => void;
}

/** A durable answer, as kept in IndexedDB under its absolute `resumeUrl`. */
interface Answer {
  sessionId: string;
  turnId: string;
  offset: string;
  streamUrl: string;
  resumeUrl: string | undefined;
  status: number;
  statusText: string;
  headers: [string, string][];
}
type Ev = { type?: unknown; turnId?: unknown; text?: unknown; reason?: unknown; error?: unknown } | null;

const STORE = 'answers';
// Pure annotations: importing the package without durableFetch must keep none of this.
const memory = /* @__PURE__ */ new Map<string, Answer>();
const encoder = /* @__PURE__ */ new TextEncoder();
const ENDED = {};

/**
 * Create a drop-in replacement for `fetch` (same signature) for endpoints wrapped with
 * `durableResponse` on the server. Other responses pass through untouched (with a signal, their
 * body is relayed so that the abort listener goes when it ends).
 *
 * - **Resume**: the body of a durable response survives drops: when the connection fails it
 *   reads the session (Durable Streams `live=sse`) from the answer's offset and continues
 *   byte for byte, so an SSE parser reading it never notices.
 * - **Stop**: `init.signal` aborting writes a `cancel` event for the turn into the session
 *   (the server aborts the upstream LLM call) and errors the body with the abort reason,
 *   as `fetch` does. Aborting before the headers arrived still cancels the turn once they do.
 *   Cancelling the body (`body.cancel()`) only stops reading: the answer goes on.
 * - **Re-attach**: when the server sent a resume URL, the answer is kept in IndexedDB (memory
 *   without it) until it ends; a `GET` of that URL (`useChat({ resume: true })` after a
 *   reload) is answered from the session without touching the route: the whole answer so far,
 *   then live, or `204` when it already ended.
 *
 * Failures of the body are {@link DurableSessionError}s (`network` after `maxAttempts`,
 * `gone`, `not-found`, `unauthorized`, `protocol`; `http` with status 502 when the server's
 * upstream failed).
 * @example
 * const durableFetch = createDurableFetch();
 * const { messages, sendMessage, stop } = useChat({
 *   resume: true,
 *   transport: new DefaultChatTransport({ api: '/api/chat', fetch: durableFetch }),
 * });
 */
export function createDurableFetch(options: DurableFetchOptions = {}): typeof fetch {
  const { reconnect = {}, clientId = randomId() } = options;
  const maxAttempts = reconnect.maxAttempts ?? 20;
  const report = options.onError ?? ((e: DurableSessionError) => console.error('[durable-session]', e));
  const base: typeof fetch = (input, init) => (options.fetch ?? fetch)(input, init);

  let db: Promise<IDBPDatabase | undefined> | undefined;
  const idb = async <T>(op: (d: IDBPDatabase) => Promise<T>, mem: () => T): Promise<T> => {
    db ??=
      options.persistence === 'memory' || typeof indexedDB === 'undefined'
        ? Promise.resolve(undefined)
        : openDB(FETCH_DB_NAME, 1, { upgrade: (d) => void d.createObjectStore(STORE) }).catch((e: unknown) => {
            report(new DurableSessionError('persistence', 'IndexedDB is unavailable: in-flight answers are kept in memory', { cause: e }));
            return undefined;
          });
    const d = await db;
    if (d)
      try {
        return await op(d);
      } catch (e) {
        report(new DurableSessionError('persistence', 'IndexedDB failed: using memory', { cause: e }));
      }
    return mem();
  };
  const save = (a: Answer): Promise<void> =>
    idb(
      async (d) => void (await d.put(STORE, a, a.resumeUrl)),
      () => void memory.set(a.resumeUrl!, a),
    );
  const load = (url: string): Promise<Answer | undefined> =>
    idb(
      (d) => d.get(STORE, url) as Promise<Answer | undefined>,
      () => memory.get(url),
    ).then((a) => (typeof a?.streamUrl === 'string' && Array.isArray(a.headers) ? a : undefined));
  /** Forget `a`, unless a newer answer took its resume URL. */
  const forget = (a: Answer): Promise<void> | undefined =>
    a.resumeUrl === undefined
      ? undefined
      : idb(
          async (d) => {
            const tx = d.transaction(STORE, 'readwrite');
            if (((await tx.store.get(a.resumeUrl!)) as Answer | undefined)?.turnId === a.turnId) await tx.store.delete(a.resumeUrl!);
            await tx.done;
          },
          () => void (memory.get(a.resumeUrl!)?.turnId === a.turnId && memory.delete(a.resumeUrl!)),
        );

  /** A session request: GET (resume reads) or POST of one event. Non-2xx answers throw typed errors. */
  const request = async (url: string, signal?: AbortSignal, event?: object): Promise<Response> => {
    const headers = typeof options.headers === 'function' ? await options.headers() : options.headers;
    const init: RequestInit = { headers: event ? { ...headers, 'content-type': 'application/json' } : { ...headers } };
    if (signal) init.signal = signal;
    if (event) {
      init.method = 'POST';
      init.body = JSON.stringify(event);
    }
    let res: Response;
    try {
      res = await base(url, init);
    } catch (e) {
      throw toError(e, signal);
    }
    if (res.ok) return res;
    const s = res.status;
    void res.body?.cancel().catch(() => {}); // the status is what matters
    throw new DurableSessionError(
      s === 410 ? 'gone' : s === 401 || s === 403 ? 'unauthorized' : s === 404 ? 'not-found' : s === 409 ? 'conflict' : 'http',
      `${event ? 'POST' : 'GET'} ${url} answered ${s}`,
      { status: s },
    );
  };

  /** Write a `cancel` for the turn; retried (bounded) on retryable failures, then reported. */
  const cancel = async (a: Answer): Promise<void> => {
    const backoff = createBackoff(reconnect);
    for (let attempt = 1; ; attempt++) {
      try {
        await request(a.streamUrl, undefined, { type: 'cancel', turnId: a.turnId, clientId });
        return;
      } catch (e) {
        const error = toError(e);
        if (!error.retryable || attempt >= 5) return report(error);
        await pause(backoff.next());
      }
    }
  };

  /**
   * The body of a durable answer: `first` (the direct response body, or chunks already read),
   * then, after a drop, the turn's chunks read from the session from `from`, skipping the
   * `pos` bytes already delivered after `from`.
   */
  const durableBody = (
    a: Answer,
    from: string,
    first: ReadableStream<Uint8Array> | Uint8Array[],
    signal: AbortSignal | undefined,
    release?: () => void,
  ): ReadableStream<Uint8Array> => {
    let pos = 0;
    let ctl!: ReadableStreamDefaultController<Uint8Array>;
    const stop = new AbortController();
    const onAbort = (): void => {
      if (stop.signal.aborted) return;
      void cancel(a);
      finish(signal!.reason, false);
    };
    const finish = (error: unknown, keep: boolean): void => {
      if (stop.signal.aborted) return;
      stop.abort();
      signal?.removeEventListener('abort', onAbort);
      if (!keep) void forget(a);
      try {
        if (error === undefined) ctl.close();
        else ctl.error(error);
      } catch {
        // the reader cancelled the body meanwhile: nobody to tell
      }
    };
    const push = (b: Uint8Array): void => {
      if (!stop.signal.aborted && b.byteLength > 0) ctl.enqueue(b);
    };
    const run = async (): Promise<void> => {
      if (Array.isArray(first)) first.forEach(push);
      else {
        const reader = first.getReader();
        stop.signal.addEventListener('abort', () => {
          release?.(); // abort the request itself: some fetch implementations mishandle a bare cancel
          void reader.cancel().catch(() => {});
        });
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return finish(undefined, false);
            pos += value.byteLength;
            push(value);
          }
        } catch {
          // the connection dropped: resume from the session below
        }
      }
      const backoff = createBackoff(reconnect);
      for (let failures = 0; !stop.signal.aborted; ) {
        let seen = 0; // bytes of the turn's chunks read after `from` on this connection
        let progressed = false;
        try {
          const res = await request(`${a.streamUrl}?offset=${encodeURIComponent(from)}&live=sse`, stop.signal);
          if (!res.body) throw new DurableSessionError('protocol', 'expected text/event-stream');
          for await (const { event, data } of parseSse(res.body)) {
            if (event === 'data') {
              const batch: unknown = JSON.parse(data);
              if (!Array.isArray(batch)) throw new DurableSessionError('protocol', 'expected a JSON array of events');
              for (const e of batch as Ev[]) {
                if (e?.turnId !== a.turnId) continue;
                if (e.type === 'fetch.chunk' && typeof e.text === 'string') {
                  const b = encoder.encode(e.text);
                  seen += b.byteLength;
                  if (seen > pos) push(b.subarray(b.byteLength - (seen - pos)));
                  pos = Math.max(pos, seen);
                } else if (e.type === 'turn.end') {
                  const failed = e.reason === 'error' && new DurableSessionError('http', `the answer failed: ${String(e.error ?? 'error')}`, { status: 502 });
                  return finish(failed || undefined, false);
                }
              }
            } else if (event === 'control') {
              const c = JSON.parse(data) as { streamNextOffset?: unknown; streamClosed?: unknown };
              if (typeof c.streamNextOffset !== 'string') throw new DurableSessionError('protocol', 'control event without streamNextOffset');
              from = c.streamNextOffset;
              progressed = true;
              pos -= seen;
              seen = 0;
              failures = 0;
              backoff.reset();
              if (c.streamClosed === true) throw new DurableSessionError('protocol', `session ${a.sessionId} was closed before the answer ended`);
            }
          }
          // The server ends SSE responses now and then: fine after progress, a failure without.
          if (!progressed) throw new DurableSessionError('network', 'the session read ended without progress');
        } catch (e) {
          if (stop.signal.aborted) return;
          const error = toError(e);
          const offline = globalThis.navigator?.onLine === false;
          if (!error.retryable || (!offline && ++failures >= maxAttempts)) return finish(error, error.retryable);
        }
        // Reconnect after a drop or when the server ended the SSE response; offline: when back online.
        await pause(globalThis.navigator?.onLine === false ? undefined : backoff.next(), stop.signal);
      }
    };
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        ctl = c;
      },
      cancel: () => {
        stop.abort(); // the reader is gone (it is not a stop): the answer stays re-attachable
        signal?.removeEventListener('abort', onAbort);
      },
    });
    if (signal?.aborted) onAbort();
    else {
      signal?.addEventListener('abort', onAbort, { once: true });
      void run().catch((e: unknown) => finish(toError(e), false));
    }
    return body;
  };

  const answerOf = (res: Response, url: string): Answer | undefined => {
    const h = (name: string): string | undefined => res.headers.get(name) ?? undefined;
    const [sessionId, turnId, offset, stream, resume] = Object.values(DURABLE_FETCH_HEADERS).map(h);
    if (!sessionId || !turnId || !offset || !stream || !res.body) return undefined;
    const at = res.url || url;
    return {
      sessionId,
      turnId,
      offset,
      streamUrl: new URL(stream, at).href,
      resumeUrl: resume && new URL(resume, at).href,
      status: res.status,
      statusText: res.statusText,
      headers: [...res.headers],
    };
  };
  const respond = (a: Answer, body: ReadableStream<Uint8Array>, url: string): Response => {
    const res = new Response(body, { status: a.status, statusText: a.statusText, headers: a.headers });
    Object.defineProperty(res, 'url', { value: url });
    return res;
  };

  /** Answer a GET of a resume URL from the session: 204 when the answer already ended. */
  const reattach = async (a: Answer, signal: AbortSignal | undefined): Promise<Response> => {
    let from = a.offset;
    const chunks: Uint8Array[] = [];
    try {
      for (;;) {
        const res = await request(`${a.streamUrl}?offset=${encodeURIComponent(from)}`, signal);
        const list: unknown = await res.json();
        if (!Array.isArray(list)) throw new DurableSessionError('protocol', 'expected a JSON array of events');
        for (const e of list as Ev[]) {
          if (e?.turnId !== a.turnId) continue;
          if (e.type === 'fetch.chunk' && typeof e.text === 'string') chunks.push(encoder.encode(e.text));
          else if (e.type === 'turn.end') throw ENDED;
        }
        const next = res.headers.get('stream-next-offset');
        if (!next) throw new DurableSessionError('protocol', 'missing Stream-Next-Offset');
        from = next;
        if (res.headers.has('stream-up-to-date')) break;
      }
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      const code = e === ENDED ? 'gone' : toError(e).code;
      if (code !== 'gone' && code !== 'not-found') throw toError(e);
      await forget(a);
      return new Response(null, { status: 204 });
    }
    return respond(a, durableBody(a, from, chunks, signal), a.resumeUrl!);
  };

  const wrap = (res: Response, url: string, signal: AbortSignal | undefined, inner: AbortController): Response => {
    const a = answerOf(res, url);
    if (!a) {
      // A plain response: the caller's signal aborts its body, as with fetch, until the body ends or
      // errs (then the listener goes: a long-lived signal must not keep every response alive).
      if (!signal || !res.body) return res;
      const onAbort = (): void => inner.abort(signal.reason);
      const done = (): void => signal.removeEventListener('abort', onAbort);
      signal.addEventListener('abort', onAbort, { once: true });
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      res.body.pipeTo(writable).then(done, done);
      const out = new Response(readable, res);
      Object.defineProperty(out, 'url', { value: res.url });
      return out;
    }
    if (a.resumeUrl) void save(a);
    return respond(a, durableBody(a, a.offset, res.body!, signal, () => inner.abort()), res.url || url);
  };

  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : undefined;
    let url: string;
    try {
      url = new URL(req ? req.url : String(input), globalThis.location?.href).href;
    } catch {
      return base(input, init); // let fetch report the bad URL its own way
    }
    const signal = init?.signal ?? req?.signal ?? undefined;
    if ((init?.method ?? req?.method ?? 'GET').toUpperCase() === 'GET') {
      const answer = await load(url);
      if (answer) return reattach(answer, signal);
    }
    if (signal?.aborted) return base(input, init); // rejects, as fetch does
    // Our own signal underneath: a stop before the headers must still reach the turn once they come.
    const inner = new AbortController();
    const pending = base(input, { ...init, signal: inner.signal });
    if (!signal) return wrap(await pending, url, signal, inner);
    const res = await new Promise<Response>((resolve, reject) => {
      const onAbort = (): void => {
        reject(signal.reason);
        const timer = setTimeout(() => inner.abort(signal.reason), 10_000);
        pending
          .then((r) => {
            const a = answerOf(r, url);
            if (a) void cancel(a);
          }, () => {})
          .finally(() => {
            clearTimeout(timer);
            inner.abort(signal.reason); // ends the unread body
          });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
    return wrap(res, url, signal, inner);
  };
}

/** Resolve after `ms` (never without `ms`), when the browser comes back online, or when `signal` aborts. */
function pause(ms?: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      globalThis.removeEventListener?.('online', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    globalThis.addEventListener?.('online', done);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done);
  });
}
