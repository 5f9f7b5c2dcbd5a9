import { DurableSessionError } from '../errors';
import type { AppEvent, SessionEvent } from '../events';
import type { ReadBatch, SessionAdapter } from '../types';
import { toError } from '../util';
import { parseSse } from './sse';

/**
 * Request headers, or a function giving them for each request (e.g. a fresh auth token).
 * @example
 * const headers: HeadersOption = async () => ({ Authorization: `Bearer ${await getToken()}` });
 */
export type HeadersOption = Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);

/**
 * Options of {@link httpAdapter}.
 * @example
 * const options: HttpAdapterOptions = { baseUrl: 'https://api.example.com', live: 'long-poll' };
 */
export interface HttpAdapterOptions {
  /** Server root; sessions live at `${baseUrl}/v1/stream/<sessionId>`. */
  baseUrl: string;
  /** How to read live once caught up. Default `'sse'`. */
  live?: 'sse' | 'long-poll';
  /** Extra headers for every request. */
  headers?: HeadersOption;
  /** The `fetch` to use. Default: the global `fetch`, looked up at call time. */
  fetch?: typeof fetch;
}

const JSON_TYPE = { 'Content-Type': 'application/json' };

/**
 * A {@link SessionAdapter} speaking the Durable Streams protocol (JSON mode), one
 * stream per session at `${baseUrl}/v1/stream/<sessionId>`.
 *
 * - Reads catch up with plain `GET ?offset=` requests (cacheable), then, for live reads,
 *   switch to `live=sse` (reconnecting at the last `streamNextOffset` when the server ends
 *   the response) or `live=long-poll` (a `204` on timeout yields an empty, up-to-date batch).
 *   The last `Stream-Cursor` is echoed as `cursor`.
 * - Appends `POST` the event as JSON with the idempotent producer headers
 *   (`Producer-Id`, `Producer-Epoch`, `Producer-Seq`), so a retried append lands once.
 * - A `404` on an append or on a read from `-1` creates the stream (`PUT`, `Content-Type:
 *   application/json`, idempotent) and retries the request once: a session exists as soon as
 *   someone uses it. A read from any other offset answered `404` (the stream was deleted,
 *   expired or lost in a server restart) or `400` (the offset is beyond the stream's tail: it
 *   was re-created meanwhile) fails with `gone`, so the session rebuilds from the start.
 * - Errors: `410` → `gone`, `401`/`403` → `unauthorized`, `404` → `not-found`,
 *   `409` → `conflict`, other statuses → `http`, no answer → `network`, bad JSON → `protocol`.
 *
 * Created inline, its event type is inferred from the session; created apart, type it:
 * `httpAdapter<SessionEvent | MyEvent>({ baseUrl })`.
 * @example
 * const session = createDurableSession({
 *   sessionId: 'chat-1',
 *   adapter: httpAdapter({ baseUrl: 'http://127.0.0.1:4100', live: 'sse' }),
 * });
 */
export function httpAdapter<E = SessionEvent | AppEvent>(options: HttpAdapterOptions): SessionAdapter<E> {
  const { baseUrl, live: mode = 'sse', headers } = options;
  const url = (id: string): string => `${baseUrl.replace(/\/+$/, '')}/v1/stream/${encodeURIComponent(id)}`;

  const request = async (method: string, target: string, signal?: AbortSignal, body?: string, extra?: Record<string, string>): Promise<Response> => {
    const init: RequestInit = {
      method,
      headers: { ...(typeof headers === 'function' ? await headers() : headers), ...extra },
      body,
      signal,
    };
    let res: Response;
    try {
      res = await (options.fetch ?? fetch)(target, init);
    } catch (e) {
      throw toError(e, signal);
    }
    if (res.ok) return res;
    const s = res.status;
    // Free the connection; the status below is what matters, not whether discarding the body failed.
    void res.body?.cancel().catch(() => {});
    throw new DurableSessionError(
      s === 410 ? 'gone' : s === 401 || s === 403 ? 'unauthorized' : s === 404 ? 'not-found' : s === 409 ? 'conflict' : 'http',
      `${method} ${target} answered ${s}`,
      { status: s },
    );
  };

  /** Send, and on 404 create the stream and send once more. */
  const ensure = async (id: string, send: () => Promise<Response>, signal?: AbortSignal): Promise<Response> => {
    try {
      return await send();
    } catch (e) {
      if (!DurableSessionError.isInstance(e) || e.code !== 'not-found') throw e;
      await request('PUT', url(id), signal, undefined, JSON_TYPE);
      return send();
    }
  };

  const json = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new DurableSessionError('protocol', `bad JSON from ${baseUrl}`, { cause: e });
    }
  };
  const array = (v: unknown): E[] => {
    if (!Array.isArray(v)) throw new DurableSessionError('protocol', 'expected a JSON array');
    return v as E[];
  };

  return {
    async *read(id, offset, { live, signal }): AsyncGenerator<ReadBatch<E>, void, undefined> {
      let cursor = '';
      let upToDate = false;
      try {
        while (!signal.aborted) {
          const how = live && upToDate ? mode : '';
          // Query keys in lexicographic order (CDN cache keys).
          const query = (how && cursor ? `cursor=${encodeURIComponent(cursor)}&` : '') + (how ? `live=${how}&` : '') + `offset=${encodeURIComponent(offset)}`;
          const get = (): Promise<Response> => request('GET', `${url(id)}?${query}`, signal);
          // Only a read from the start creates the stream: elsewhere a missing one lost what we read.
          const res = await (offset === '-1' ? ensure(id, get, signal) : get());
          if (how === 'sse') {
            if (!res.body || !res.headers.get('content-type')?.includes('text/event-stream'))
              throw new DurableSessionError('protocol', 'expected text/event-stream');
            let events: E[] = [];
            let controls = 0;
            for await (const { event, data } of parseSse(res.body)) {
              if (event === 'data') events = events.concat(array(json(data)));
              else if (event === 'control') {
                const c = json(data) as { streamNextOffset?: string; streamCursor?: string; upToDate?: boolean; streamClosed?: boolean };
                if (typeof c.streamNextOffset !== 'string') throw new DurableSessionError('protocol', 'control event without streamNextOffset');
                controls++;
                offset = c.streamNextOffset;
                cursor = c.streamCursor ?? cursor;
                const closed = c.streamClosed === true;
                yield { events, offset, upToDate: closed || c.upToDate === true, closed };
                events = [];
                if (closed) return;
              }
            }
            // The server ends SSE responses now and then: reconnect from the last offset,
            // unless this one carried nothing (then let the caller back off).
            if (!controls) throw new DurableSessionError('network', 'SSE response ended without a control event');
            continue;
          }
          const header = (name: string): string | null => res.headers.get(name);
          const events = res.status === 204 ? [] : array(json(await res.text()));
          const next = header('Stream-Next-Offset');
          if (!next) throw new DurableSessionError('protocol', 'missing Stream-Next-Offset');
          const closed = header('Stream-Closed')?.toLowerCase() === 'true';
          upToDate = res.status === 204 || closed || header('Stream-Up-To-Date') !== null;
          cursor = header('Stream-Cursor') ?? cursor;
          offset = next;
          yield { events, offset, upToDate, closed };
          if (closed || (!live && upToDate)) return;
        }
      } catch (e) {
        const err = toError(e, signal);
        // A stream that is missing (404) or does not reach `offset` (400) was deleted, expired or
        // lost in a server restart: what we read is gone, the caller must start over.
        const s = offset !== '-1' && err.status;
        throw s === 404 || s === 400 ? new DurableSessionError('gone', err.message, { status: s }) : err;
      }
    },

    async append(id, event, { producerId, epoch, seq, signal }) {
      const body = JSON.stringify(event);
      await ensure(
        id,
        () =>
          request('POST', url(id), signal, body, {
            ...JSON_TYPE,
            'Producer-Id': producerId,
            'Producer-Epoch': String(epoch),
            'Producer-Seq': String(seq),
          }),
        signal,
      );
    },
  };
}
