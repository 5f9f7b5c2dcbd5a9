import { DurableSessionError } from './errors';
import { answerOf, answerStore, respond, type Answer, type AnswerStore } from './fetch-answers';
import { durableBody, type BodyHost, type LooseEvent } from './fetch-body';
import { sendRequest, type HeadersOption } from './http-request';
import { NEXT_OFFSET_HEADER, UP_TO_DATE_HEADER } from './protocol';
import { createBackoff, pause } from './retry';
import type { ReconnectOptions } from './types';
import { randomId, toError } from './util';

export { DURABLE_FETCH_HEADERS } from './protocol';
export { FETCH_DB_NAME } from './fetch-answers';

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
  const report = options.onError ?? ((error: DurableSessionError) => console.error('[durable-session]', error));
  const base: typeof fetch = (input, init) => (options.fetch ?? fetch)(input, init);
  const answers = answerStore(options.persistence, report);
  const host = bodyHost(options, base, answers, report);

  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : undefined;
    let url: string;
    try {
      url = new URL(request ? request.url : String(input), globalThis.location?.href).href;
    } catch {
      return base(input, init); // let fetch report the bad URL its own way
    }
    const signal = init?.signal ?? request?.signal ?? undefined;
    if ((init?.method ?? request?.method ?? 'GET').toUpperCase() === 'GET') {
      const answer = await answers.load(url);
      if (answer) return reattach(host, answers, answer, signal);
    }
    if (signal?.aborted) return base(input, init); // rejects, as fetch does
    // Our own signal underneath: a stop before the headers must still reach the turn once they come.
    const inner = new AbortController();
    const pending = base(input, { ...init, signal: inner.signal });
    const response = signal ? await abortable(pending, url, signal, inner, host) : await pending;
    return wrap(host, answers, response, url, signal, inner);
  };
}

/** The session side of a `durableFetch`: resume reads and `cancel` writes, with the caller's headers. */
function bodyHost(options: DurableFetchOptions, base: typeof fetch, answers: AnswerStore, report: (error: DurableSessionError) => void): BodyHost {
  const { reconnect = {}, clientId = randomId() } = options;
  const send = (url: string, signal?: AbortSignal, event?: object): Promise<Response> =>
    sendRequest(base, options.headers, url, event ? { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json' }, signal } : { method: 'GET', signal });
  /** Write a `cancel` for the turn; retried (bounded) on retryable failures, then reported. */
  const cancel = async (answer: Answer): Promise<void> => {
    const backoff = createBackoff(reconnect);
    for (let attempt = 1; ; attempt++) {
      try {
        await send(answer.streamUrl, undefined, { type: 'cancel', turnId: answer.turnId, clientId });
        return;
      } catch (error) {
        const failure = toError(error);
        if (!failure.retryable || attempt >= 5) return report(failure);
        await pause(backoff.next());
      }
    }
  };
  return {
    get: (url, signal) => send(url, signal),
    cancel: (answer) => void cancel(answer),
    forget: (answer) => void answers.forget(answer),
    reconnect,
    maxAttempts: reconnect.maxAttempts ?? 20,
  };
}

/** Answer a GET of a resume URL from the session: the answer so far, then live; 204 when it already ended. */
async function reattach(host: BodyHost, answers: AnswerStore, answer: Answer, signal: AbortSignal | undefined): Promise<Response> {
  let from = answer.offset;
  const chunks: Uint8Array[] = [];
  const encoder = new TextEncoder();
  try {
    for (;;) {
      const response = await host.get(`${answer.streamUrl}?offset=${encodeURIComponent(from)}`, signal);
      const list: unknown = await response.json();
      if (!Array.isArray(list)) throw new DurableSessionError('protocol', 'expected a JSON array of events');
      for (const entry of list as LooseEvent[]) {
        if (entry?.turnId !== answer.turnId) continue;
        if (entry.type === 'fetch.chunk' && typeof entry.text === 'string') chunks.push(encoder.encode(entry.text));
        else if (entry.type === 'turn.end') throw ENDED;
      }
      const next = response.headers.get(NEXT_OFFSET_HEADER);
      if (!next) throw new DurableSessionError('protocol', `missing ${NEXT_OFFSET_HEADER}`);
      from = next;
      if (response.headers.has(UP_TO_DATE_HEADER)) break;
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const code = error === ENDED ? 'gone' : toError(error).code;
    if (code !== 'gone' && code !== 'not-found') throw toError(error);
    await answers.forget(answer);
    return new Response(null, { status: 204 });
  }
  return respond(answer, durableBody(host, answer, from, chunks, signal), answer.resumeUrl!);
}
const ENDED = {};

/** Wait for the headers; a `signal` aborting first rejects at once and still cancels the turn once they come. */
function abortable(pending: Promise<Response>, url: string, signal: AbortSignal, inner: AbortController, host: BodyHost): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason);
      const timer = setTimeout(() => inner.abort(signal.reason), 10_000);
      pending
        .then(
          (response) => {
            const answer = answerOf(response, url);
            if (answer) host.cancel(answer);
          },
          () => {},
        )
        .finally(() => {
          clearTimeout(timer);
          inner.abort(signal.reason); // ends the unread body
        });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The response the caller gets: a durable body for a durable answer, the response itself otherwise. */
function wrap(host: BodyHost, answers: AnswerStore, response: Response, url: string, signal: AbortSignal | undefined, inner: AbortController): Response {
  const answer = answerOf(response, url);
  if (!answer) {
    // A plain response: the caller's signal aborts its body, as with fetch, until the body ends or
    // errs (then the listener goes: a long-lived signal must not keep every response alive).
    if (!signal || !response.body) return response;
    const onAbort = (): void => inner.abort(signal.reason);
    const done = (): void => signal.removeEventListener('abort', onAbort);
    signal.addEventListener('abort', onAbort, { once: true });
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    response.body.pipeTo(writable).then(done, done);
    const relayed = new Response(readable, response);
    Object.defineProperty(relayed, 'url', { value: response.url });
    return relayed;
  }
  if (answer.resumeUrl) void answers.save(answer);
  return respond(answer, durableBody(host, answer, answer.offset, response.body!, signal, () => inner.abort()), response.url || url);
}
