import { DurableSessionError } from '../errors';
import { CLOSED_HEADER, CURSOR_HEADER, NEXT_OFFSET_HEADER, UP_TO_DATE_HEADER } from '../protocol';
import type { ReadBatch } from '../types';
import { pause } from '../retry';
import { toError, watchdog } from '../util';
import { parseSse } from './sse';

/** What a read needs from its adapter: one stream's URL and how to request it. */
export interface StreamEndpoint {
  /** The stream's URL. */
  url: string;
  /** How to read live once caught up. */
  live: 'sse' | 'long-poll';
  /** GET `target`; non-2xx answers throw typed errors. */
  get(target: string, signal: AbortSignal): Promise<Response>;
  /** The server's SSE keep-alive interval: a live SSE read without a byte for twice as long is dead. */
  keepAliveMs: number;
  /** How long any other request may take (catch-up, long-poll, the headers of an SSE response). */
  timeoutMs: number;
  /** The least time between the starts of two live requests (a server ending each at once). */
  minReconnectDelayMs: number;
  /** Send, and on 404 create the stream and send once more. */
  ensure(send: () => Promise<Response>, signal: AbortSignal): Promise<Response>;
  /** Parse a JSON body (bad JSON → `protocol`). */
  json(text: string): unknown;
}

/** The events of a JSON body, which must be an array. */
export const eventsOf = <E>(value: unknown): E[] => {
  if (!Array.isArray(value)) throw new DurableSessionError('protocol', 'not an array');
  return value as E[];
};

/** The query of a read: keys in lexicographic order (CDN cache keys). */
const queryOf = (offset: string, how: string, cursor: string): string =>
  (how && cursor ? `cursor=${encodeURIComponent(cursor)}&` : '') + (how ? `live=${how}&` : '') + `offset=${encodeURIComponent(offset)}`;

/** One SSE response as batches (one per control event), each with the cursor it carried. */
async function* sseBatches<E>(
  endpoint: StreamEndpoint,
  response: Response,
  watch: { restart(): void },
): AsyncGenerator<{ batch: ReadBatch<E>; cursor: string | undefined }, void, undefined> {
  if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream'))
    throw new DurableSessionError('protocol', 'not SSE');
  let events: E[] = [];
  let controls = 0;
  for await (const { event, data } of parseSse(response.body, { onBytes: watch.restart })) {
    if (event === 'data') events = events.concat(eventsOf<E>(endpoint.json(data)));
    else if (event === 'control') {
      const control = endpoint.json(data) as { streamNextOffset?: unknown; streamCursor?: string; upToDate?: boolean; streamClosed?: boolean };
      if (typeof control.streamNextOffset !== 'string') throw new DurableSessionError('protocol', 'no streamNextOffset');
      controls++;
      const closed = control.streamClosed === true;
      yield { batch: { events, offset: control.streamNextOffset, upToDate: closed || control.upToDate === true, closed }, cursor: control.streamCursor };
      events = [];
      if (closed) return;
    }
  }
  // The server ends SSE responses now and then: reconnect from the last offset,
  // unless this one carried nothing (then let the caller back off).
  if (!controls) throw new DurableSessionError('network', 'SSE ended empty');
}

/** One catch-up or long-poll response as a batch (a `204` is an empty, up-to-date one). */
async function pageOf<E>(endpoint: StreamEndpoint, response: Response): Promise<{ batch: ReadBatch<E>; cursor: string | null }> {
  const header = (name: string): string | null => response.headers.get(name);
  const events = response.status === 204 ? [] : eventsOf<E>(endpoint.json(await response.text()));
  const offset = header(NEXT_OFFSET_HEADER);
  if (!offset) throw new DurableSessionError('protocol', `missing ${NEXT_OFFSET_HEADER}`);
  const closed = header(CLOSED_HEADER)?.toLowerCase() === 'true';
  return { batch: { events, offset, upToDate: response.status === 204 || closed || header(UP_TO_DATE_HEADER) !== null, closed }, cursor: header(CURSOR_HEADER) };
}

/**
 * Read a stream after `offset`: plain GETs until up to date, then (with `live`) SSE or
 * long-poll. A stream that is missing (404) or does not reach `offset` (400) at an offset
 * other than `-1` was deleted, expired or lost in a server restart: that fails with `gone`
 * (unless the server said `deleted`). A live SSE read without a byte (data or keep-alive) for
 * twice `keepAliveMs`, and any other request taking over `timeoutMs`, fails with `network`.
 */
export async function* readStream<E>(endpoint: StreamEndpoint, offset: string, live: boolean, signal: AbortSignal): AsyncGenerator<ReadBatch<E>, void, undefined> {
  let cursor = '';
  let upToDate = false;
  let lastLiveStart = -Infinity;
  try {
    while (!signal.aborted) {
      const how = live && upToDate ? endpoint.live : '';
      if (how) {
        // However fast the server ends live responses, reconnect at most once per `minReconnectDelayMs`.
        const wait = lastLiveStart + endpoint.minReconnectDelayMs - Date.now();
        if (wait > 0) await pause(wait, signal);
        lastLiveStart = Date.now();
      }
      // SSE: dead after twice the keep-alive interval without a byte. Others: a plain timeout.
      const watch = watchdog([signal], how === 'sse' ? 2 * endpoint.keepAliveMs : endpoint.timeoutMs);
      try {
        const get = (): Promise<Response> => endpoint.get(`${endpoint.url}?${queryOf(offset, how, cursor)}`, watch.signal);
        // Only a read from the start creates the stream: elsewhere a missing one lost what we read.
        const response = await (offset === '-1' ? endpoint.ensure(get, watch.signal) : get());
        if (how === 'sse') {
          for await (const read of sseBatches<E>(endpoint, response, watch)) {
            offset = read.batch.offset;
            cursor = read.cursor ?? cursor;
            yield read.batch;
            if (read.batch.closed) return;
          }
          continue;
        }
        const page = await pageOf<E>(endpoint, response);
        upToDate = page.batch.upToDate;
        cursor = page.cursor ?? cursor;
        offset = page.batch.offset;
        watch.stop(); // the caller may take its time with the batch
        yield page.batch;
        if (page.batch.closed || (!live && upToDate)) return;
      } finally {
        watch.stop();
      }
    }
  } catch (error) {
    const failure = toError(error, signal);
    // A deleted session stays `deleted`: never a `gone` that would re-create it.
    const status = offset !== '-1' && failure.code !== 'deleted' && failure.status;
    throw status === 404 || status === 400 ? new DurableSessionError('gone', failure.message, { status }) : failure;
  }
}
