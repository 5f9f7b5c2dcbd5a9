import { DurableSessionError } from '../errors';
import type { AppEvent, SessionEvent } from '../events';
import { sendRequest, type HeadersOption, type RequestSpec } from '../http-request';
import { PRODUCER_EPOCH_HEADER, PRODUCER_ID_HEADER, PRODUCER_SEQ_HEADER } from '../protocol';
import type { SnapshotPage } from '../snapshot-window';
import type { PresenceEntry, SessionAdapter } from '../types';
import { watchdog } from '../util';
import { readStream, type StreamEndpoint } from './http-read';

export type { HeadersOption };

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
  /**
   * The server's SSE keep-alive interval (`sseKeepAliveMs` of `@durable-session/server`). A live
   * SSE read that receives no byte (data or keep-alive comment) for twice as long is taken as dead
   * and reconnected. Default 15_000.
   */
  keepAliveMs?: number;
  /** How long any other request may take (catch-up, long-poll, append) before it is retried. Default 30_000. */
  timeoutMs?: number;
  /** The least time between the starts of two live requests, however fast the server ends them. Default 100. */
  minReconnectDelayMs?: number;
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
 * - Presence (`presence: true` on the session): `POST <stream URL>?presence` with the tab's
 *   beat; the answer lists who watches (an extension of this SDK's server, not of the protocol).
 * - Errors: `410` → `gone`, `401`/`403` → `unauthorized`, `404` → `not-found` (`deleted` when
 *   the error body says so: then the stream is never re-created), `409` → `conflict`, other
 *   statuses → `http`, no answer → `network`, bad JSON → `protocol`.
 * - Dead connections: a live SSE read without a byte for twice `keepAliveMs` and any other
 *   request over `timeoutMs` fail with `network` (the session reconnects; an append is retried
 *   with the same producer seq, so it lands once); live requests start at most once per
 *   `minReconnectDelayMs`; an SSE event over 8 Mi characters fails with `protocol`.
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
  const settings = { live: 'sse' as const, keepAliveMs: 15_000, timeoutMs: 30_000, minReconnectDelayMs: 100, ...options };
  const { baseUrl, timeoutMs } = settings;
  const streamUrl = (sessionId: string): string => `${baseUrl.replace(/\/+$/, '')}/v1/stream/${encodeURIComponent(sessionId)}`;
  const fetcher: typeof fetch = (input, init) => (options.fetch ?? fetch)(input, init);
  const request = (target: string, spec: RequestSpec): Promise<Response> => sendRequest(fetcher, options.headers, target, spec);

  /** Send, and on 404 create the stream and send once more. */
  const ensure = (sessionId: string) => async (send: () => Promise<Response>, signal?: AbortSignal): Promise<Response> => {
    try {
      return await send();
    } catch (error) {
      if (!DurableSessionError.isInstance(error) || error.code !== 'not-found') throw error;
      await request(streamUrl(sessionId), { method: 'PUT', headers: JSON_TYPE, signal });
      return send();
    }
  };
  const json = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new DurableSessionError('protocol', 'bad JSON', { cause: error });
    }
  };
  const endpoint = (sessionId: string): StreamEndpoint => ({
    ...settings,
    url: streamUrl(sessionId),
    get: (target, signal) => request(target, { method: 'GET', signal }),
    ensure: ensure(sessionId),
    json,
  });

  return {
    read: (sessionId, offset, { live, signal }) => readStream<E>(endpoint(sessionId), offset, live, signal),
    async append(sessionId, event, { producerId, epoch, seq, signal }) {
      const body = JSON.stringify(event);
      const headers = { ...JSON_TYPE, [PRODUCER_ID_HEADER]: producerId, [PRODUCER_EPOCH_HEADER]: String(epoch), [PRODUCER_SEQ_HEADER]: String(seq) };
      // A timed-out append fails with `network`: retried with the same seq, it lands once.
      const watch = watchdog([signal], timeoutMs);
      try {
        await ensure(sessionId)(() => request(streamUrl(sessionId), { method: 'POST', body, headers, signal: watch.signal }), watch.signal);
      } finally {
        watch.stop();
      }
    },
    async snapshot(sessionId, { turns, before, at }, { signal }) {
      const query = new URLSearchParams({ snapshot: '', turns: String(turns) });
      if (before !== undefined) query.set('before', before);
      if (at !== undefined) query.set('at', at);
      const response = await request(`${streamUrl(sessionId)}?${query.toString()}`, { method: 'GET', signal });
      return pageOfJson(json(await response.text()), baseUrl);
    },
    async presence(sessionId, beat, { signal }) {
      const spec: RequestSpec = { method: 'POST', body: JSON.stringify(beat), headers: JSON_TYPE, keepalive: beat.leave === true };
      if (signal) spec.signal = signal;
      const response = await request(`${streamUrl(sessionId)}?presence`, spec);
      const answer = json(await response.text()) as { clients?: unknown; beatMs?: unknown } | null;
      if (!Array.isArray(answer?.clients)) throw new DurableSessionError('protocol', `bad presence answer from ${baseUrl}`);
      return { clients: answer.clients as PresenceEntry[], beatMs: typeof answer.beatMs === 'number' ? answer.beatMs : 2000 };
    },
  };
}

/** A snapshot page from the wire, checked for its shape. */
function pageOfJson(value: unknown, baseUrl: string): SnapshotPage {
  const page = value as Partial<SnapshotPage> | null;
  if (typeof page?.offset !== 'string' || !Array.isArray(page.turns) || typeof page.older !== 'number') {
    throw new DurableSessionError('protocol', `not a snapshot page from ${baseUrl}`);
  }
  return page as SnapshotPage;
}
