// The header names are shared with the client that reads them (createDurableFetch).
import { DURABLE_FETCH_HEADERS, type TurnEndReason } from '@durable-session/core';
import { SessionServerError } from './errors';
import { reportToConsole } from './report';
import type { SessionHost } from './host';
import type { TurnWriter } from './turn';
import { authorizeRequest, type Authorize } from './protocol/config';
import { fromWebRequest } from './protocol/web';
import type { SessionStore } from './store';


/**
 * The type of the session events carrying an answer's chunks:
 * `{ type: 'fetch.chunk', turnId, agentId, text }`, `text` being the chunk's raw text
 * (SSE framing included). Written between the turn's `turn.start` and `turn.end`.
 * @example
 * const chunks = events.filter((e) => e.type === FETCH_CHUNK_EVENT && e.turnId === turnId);
 */
export const FETCH_CHUNK_EVENT = 'fetch.chunk';

/**
 * A streaming body as an LLM SDK's route handler produces it.
 * @example
 * const body: UpstreamBody = streamText({ model, prompt }).toUIMessageStreamResponse();
 */
export type UpstreamBody = Response | ReadableStream<Uint8Array> | AsyncIterable<string | Uint8Array>;

/**
 * What an upstream factory receives. Pass `signal` to the LLM call: it aborts when a
 * client writes a `cancel` for the turn (a disconnect never aborts it).
 * @example
 * const upstream = ({ signal }: UpstreamContext) => streamText({ model, prompt, abortSignal: signal }).toUIMessageStreamResponse();
 */
export interface UpstreamContext {
  signal: AbortSignal;
  sessionId: string;
  turnId: string;
}

/**
 * The upstream of {@link durableResponse}: a body, or (to make stop work) a factory that
 * receives the turn's `AbortSignal` before the LLM call starts.
 * @example
 * const upstream: Upstream = ({ signal }) => streamText({ model, prompt, abortSignal: signal }).toUIMessageStreamResponse();
 */
export type Upstream = UpstreamBody | ((context: UpstreamContext) => UpstreamBody | Promise<UpstreamBody>);

/**
 * Options of {@link durableResponse}.
 * @example
 * const options: DurableResponseOptions = { sessionId: chatId, resumeUrl: `/api/chat/${chatId}/stream` };
 */
export interface DurableResponseOptions {
  /** The session the answer is written into (created if needed). Default: a new random id. */
  sessionId?: string;
  /** Default: a random UUID. */
  turnId?: string;
  /** The `agentId` of the turn's events. Default `fetch`. */
  agentId?: string;
  /**
   * Where clients read the session (the `handler` of `createSessionServer`), relative to
   * the response's URL or absolute. Default `/v1/stream/<sessionId>`.
   */
  streamUrl?: string;
  /**
   * A URL (relative to the response's URL, or absolute) that, requested with `GET` through
   * the same `durableFetch` after a reload, re-attaches to this answer: with the AI SDK,
   * `` `/api/chat/${chatId}/stream` `` (what `useChat({ resume: true })` requests).
   */
  resumeUrl?: string;
  /** Status and headers when the upstream is not a `Response` (default 200, `text/plain; charset=utf-8`). */
  init?: ResponseInit;
  /** Failures after the response was returned (the store refusing a chunk). Default `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * Serverless runtimes stop a function once its response ended or its client left: hand the
   * work that outlives the response (consuming and storing the upstream) to the platform, e.g.
   * `after` from `next/server` or `waitUntil` from `@vercel/functions`. Not needed on a Node server.
   */
  waitUntil?: (work: Promise<void>) => void;
  /**
   * The request this answer is for. Required when the server has an `authorize` hook: it is
   * asked (action `append`, before the session is looked up) whether this caller may have an
   * answer written into `sessionId`; a refusal rejects with its `SessionServerError`.
   */
  request?: Request;
}

const EXPOSE = Object.values(DURABLE_FETCH_HEADERS).join(', ');

/**
 * Make a streaming response durable. Starts a turn in the session, runs the upstream (a
 * factory gets the turn's `AbortSignal` first), writes each chunk into the session as a
 * {@link FETCH_CHUNK_EVENT} event before sending it on, and ends the turn (`complete`,
 * `cancelled` when a client wrote a `cancel`, `error` when the upstream failed). The
 * upstream is consumed and stored to the end even when the client is gone.
 *
 * The returned `Response` has the upstream's status and headers (minus `content-length`
 * and `content-encoding`), streams the same text (as UTF-8), and carries
 * {@link DURABLE_FETCH_HEADERS} (also listed in `access-control-expose-headers`).
 * An upstream `Response` that is not `ok` is returned as is (the turn ends `error`).
 * A factory that throws ends the turn `error` and the error is rethrown.
 * @example
 * // POST /api/chat (Next.js route handler), with `sessions = createSessionServer()`
 * export async function POST(req: Request) {
 *   const { id, messages } = await req.json();
 *   return durableResponse(sessions, async ({ signal }) =>
 *     streamText({ model, messages: await convertToModelMessages(messages), abortSignal: signal }).toUIMessageStreamResponse(),
 *     { sessionId: id, resumeUrl: `/api/chat/${id}/stream` });
 * }
 */
export async function durableResponse(
  server: { host: SessionHost; store: SessionStore; authorize?: Authorize | undefined },
  upstream: Upstream,
  options: DurableResponseOptions = {},
): Promise<Response> {
  const onError = options.onError ?? reportToConsole;
  const sessionId = options.sessionId ?? crypto.randomUUID();
  await authorizeAnswer(server.authorize, options.request, sessionId);
  const session = server.host.session(sessionId);
  await session.ensure();
  const head = await server.store.head(sessionId);
  if (head.status !== 'ok') throw new SessionServerError(head.status, `no session ${sessionId}`);
  const turn = await session.startTurn({ turnId: options.turnId ?? crypto.randomUUID(), agentId: options.agentId ?? 'fetch' });
  const failure = new AbortController(); // the store failed: nobody can receive the rest durably
  const signal = AbortSignal.any([turn.signal, failure.signal]);
  const reasonOf = (): TurnEndReason =>
    SessionServerError.isInstance(turn.signal.reason) && turn.signal.reason.code === 'cancelled' ? 'cancelled' : 'error';

  let body: UpstreamBody;
  try {
    body = typeof upstream === 'function' ? await upstream({ signal, sessionId, turnId: turn.turnId }) : upstream;
  } catch (error) {
    await turn.end(signal.aborted ? reasonOf() : 'error', messageOf(error)).catch(onError);
    throw error;
  }
  if (body instanceof Response && !body.ok) {
    await turn.end('error', `upstream answered ${body.status}`).catch(onError);
    return body;
  }

  const headers = durableHeaders(body, options, sessionId, turn.turnId, head.stream.tail);
  const client = clientSide();
  const work = pump({ body, turn, signal, failure, reasonOf, client }).catch(onError);
  options.waitUntil?.(work);
  const init: ResponseInit = { headers };
  const status = body instanceof Response ? body : options.init;
  if (status?.status !== undefined) init.status = status.status;
  if (status?.statusText !== undefined) init.statusText = status.statusText;
  return new Response(client.stream, init);
}

/** The upstream's headers (or `init`'s) without length and encoding, plus the durable headers. */
function durableHeaders(body: UpstreamBody, options: DurableResponseOptions, sessionId: string, turnId: string, offset: string): Headers {
  const headers = new Headers(body instanceof Response ? body.headers : (options.init?.headers ?? { 'content-type': 'text/plain; charset=utf-8' }));
  headers.delete('content-length');
  headers.delete('content-encoding');
  const set = (name: string, value: string | undefined): void => {
    if (value !== undefined) headers.set(name, value);
  };
  set(DURABLE_FETCH_HEADERS.session, sessionId);
  set(DURABLE_FETCH_HEADERS.turn, turnId);
  set(DURABLE_FETCH_HEADERS.offset, offset);
  set(DURABLE_FETCH_HEADERS.stream, options.streamUrl ?? `/v1/stream/${encodeURIComponent(sessionId)}`);
  set(DURABLE_FETCH_HEADERS.resume, options.resumeUrl);
  headers.append('access-control-expose-headers', EXPOSE);
  return headers;
}

/** The response body the client reads; once the client is gone, sends are dropped (the session has them). */
interface ClientSide {
  stream: ReadableStream<Uint8Array>;
  send(text: string): void;
  close(): void;
  fail(error: Error): void;
}

function clientSide(): ClientSide {
  let out!: ReadableStreamDefaultController<Uint8Array>;
  let clientGone = false;
  const stream = new ReadableStream<Uint8Array>({
    start: (controller) => {
      out = controller;
    },
    cancel: () => {
      clientGone = true; // keep consuming and storing: the client resumes from the session
    },
  });
  const encoder = new TextEncoder();
  const toClient = (act: () => void): void => {
    if (clientGone) return;
    try {
      act();
    } catch {
      clientGone = true; // the client cancelled between our check and the call
    }
  };
  return {
    stream,
    send: (text) => toClient(() => out.enqueue(encoder.encode(text))),
    close: () => toClient(() => out.close()),
    fail: (error) => toClient(() => out.error(error)),
  };
}

interface Pump {
  body: UpstreamBody;
  turn: TurnWriter;
  signal: AbortSignal;
  failure: AbortController;
  reasonOf: () => TurnEndReason;
  client: ClientSide;
}

/**
 * Reader: upstream → `pending`. Writer: `pending` → one event per append (chunks that
 * arrive while an append is in flight are coalesced), then → client. Only stored text is
 * ever sent, so the client's byte count always maps onto the session. Ends the turn.
 */
async function pump({ body, turn, signal, failure, reasonOf, client }: Pump): Promise<void> {
  let pending = '';
  let upstreamDone = false;
  let upstreamError: unknown;
  let wake: (() => void) | undefined;
  const reading = (async () => {
    try {
      for await (const text of texts(body, signal)) {
        pending += text;
        wake?.();
      }
    } catch (error) {
      if (!signal.aborted) upstreamError = error;
    } finally {
      upstreamDone = true;
      wake?.();
    }
  })();
  let end: [TurnEndReason, string?] = ['complete'];
  try {
    for (;;) {
      if (pending !== '' && !signal.aborted) {
        const text = pending;
        pending = '';
        await turn.emit(FETCH_CHUNK_EVENT, { text });
        client.send(text);
      } else if (upstreamDone || signal.aborted) break;
      else await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    if (signal.aborted) end = reasonOf() === 'cancelled' ? ['cancelled'] : ['error', messageOf(turn.signal.reason)];
    else if (upstreamError !== undefined) end = ['error', messageOf(upstreamError)];
  } catch (error) {
    failure.abort(error);
    end = ['error', messageOf(error)];
  }
  await reading;
  await finish(turn, end, client);
}

/** Write `turn.end`, then close (or error) the client's stream. */
async function finish(turn: TurnWriter, end: [TurnEndReason, string?], client: ClientSide): Promise<void> {
  try {
    await turn.end(...end);
  } catch (error) {
    client.fail(new SessionServerError('internal', 'the answer failed: store error'));
    throw error;
  }
  if (end[0] === 'error') client.fail(new SessionServerError('internal', `the answer failed: ${end[1] ?? 'store error'}`));
  else client.close();
}

/** The upstream's text, chunk by chunk (UTF-8 decoded across chunk boundaries, BOM kept); stops when `signal` aborts. */
async function* texts(body: UpstreamBody, signal: AbortSignal): AsyncGenerator<string, void, undefined> {
  const source = body instanceof Response ? body.body : body;
  if (source === null) return;
  let iterator: AsyncIterator<string | Uint8Array>;
  if (source instanceof ReadableStream) {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    iterator = {
      next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
      return: async () => {
        await reader.cancel(signal.reason);
        return { done: true, value: undefined };
      },
    };
  } else iterator = source[Symbol.asyncIterator]();
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<IteratorResult<string | Uint8Array>>((resolve) => {
    onAbort = () => resolve({ done: true, value: undefined });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  let finished = false;
  try {
    for (;;) {
      const step = await Promise.race([iterator.next(), aborted]);
      if (step.done === true) {
        finished = !signal.aborted;
        break;
      }
      const chunk = step.value;
      const text = typeof chunk === 'string' ? decoder.decode() + chunk : decoder.decode(chunk, { stream: true });
      if (text !== '') yield text;
    }
    const rest = decoder.decode();
    if (rest !== '' && finished) yield rest;
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!finished) void iterator.return?.()?.catch(() => undefined); // stop the upstream (its failure is not ours to report)
  }
}

/** The same `authorize` as the HTTP surface, before the session is looked up. */
async function authorizeAnswer(authorize: Authorize | undefined, request: Request | undefined, sessionId: string): Promise<void> {
  if (authorize === undefined) return;
  if (request === undefined) throw new SessionServerError('forbidden', 'durableResponse needs options.request when the server has an authorize hook');
  await authorizeRequest({ authorize }, fromWebRequest(request), sessionId, 'append');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
