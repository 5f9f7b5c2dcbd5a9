import { linkedAbort } from '../abort';
import { modeOf } from '../content-type';
import { SessionServerError } from '../errors';
import { BEGINNING, isReadableOffset, NOW } from '../offsets';
import type { ReadOutcome, StreamInfo } from '../store';
import { authorizeRequest, positionHeaders, readOrThrow, requireStream, type HandlerConfig } from './config';
import { nextCursor } from './cursor';
import { H } from './headers';
import { emptyResponse, readBody } from './responses';
import type { ProtocolRequest, ProtocolResponse } from './exchange';
import { handleSnapshot } from './snapshot';
import { acquireLiveReader, handleSse } from './sse';

type OkRead = Extract<ReadOutcome, { status: 'ok' }>;

/** GET: catch-up read, long-poll (`live=long-poll`) or SSE (`live=sse`). */
export async function handleRead(request: ProtocolRequest, id: string, config: HandlerConfig): Promise<ProtocolResponse> {
  const url = request.url;
  if (url.searchParams.has('snapshot')) return handleSnapshot(request, id, config);
  const offsets = url.searchParams.getAll('offset');
  if (offsets.length > 1) throw invalidOffset('only one offset parameter is allowed');
  const offset = offsets[0];
  if (offset !== undefined && !isReadableOffset(offset)) throw invalidOffset(`malformed offset: ${JSON.stringify(offset)}`);
  const live = url.searchParams.get('live');
  if (live !== null && live !== 'long-poll' && live !== 'sse') throw new SessionServerError('bad-request', `unknown live mode: ${live}`);
  if (live !== null && offset === undefined) throw invalidOffset(`live=${live} needs an offset`);
  await authorizeRequest(config, request, id, 'read');

  if (live === 'sse') return handleSse(request, id, offset ?? BEGINNING, config);
  const cursor = live === null ? undefined : nextCursor(url.searchParams.get('cursor'));

  if (offset === NOW) {
    const stream = await requireStream(config, id, true);
    if (live === null) return nowResponse(stream);
    if (stream.closed) return timeoutResponse(stream.tail, true, cursor);
    return longPoll(request, id, stream.tail, config, cursor);
  }

  const read = await readOrThrow(config, id, { from: offset ?? BEGINNING, maxBytes: config.maxReadBytes, touch: true });
  if (live === null || read.entries.length > 0) return dataResponse(request, read, cursor);
  if (read.closed) return timeoutResponse(read.next, true, cursor);
  return longPoll(request, id, read.next, config, cursor);
}

/** Wait (without polling) until data arrives after `from`, the stream closes, or the timeout. */
async function longPoll(request: ProtocolRequest, id: string, from: string, config: HandlerConfig, cursor: string | undefined): Promise<ProtocolResponse> {
  const release = acquireLiveReader(config, id);
  const wait = linkedAbort([request.signal], config.longPollTimeoutMs);
  try {
    for (;;) {
      const outcome = await config.store.wait(id, from, wait.signal);
      if (outcome === 'not-found') await requireStream(config, id, false); // throws the 404 or 410
      if (outcome !== 'changed') return timeoutResponse(from, false, cursor);
      const read = await readOrThrow(config, id, { from, maxBytes: config.maxReadBytes });
      if (read.entries.length > 0) return dataResponse(request, read, cursor);
      if (read.closed) return timeoutResponse(read.next, true, cursor);
    }
  } finally {
    wait.dispose();
    release();
  }
}

/** 200 with the data of a read, or 304 when the client's ETag matches. */
function dataResponse(request: ProtocolRequest, read: OkRead, cursor: string | undefined): ProtocolResponse {
  const stream = read.stream;
  const start = read.entries[0]?.offset ?? read.next;
  const etag = `"${stream.instance}:${start}:${read.next}${read.closed ? ':c' : ''}"`;
  const headers: Record<string, string> = {
    'content-type': stream.contentType,
    ...positionHeaders(read.next, read.closed),
    etag,
    // Data before the tail never changes; a tail response must be revalidated (its ETag makes that cheap).
    'cache-control': read.upToDate ? 'no-cache' : 'private, max-age=60, stale-while-revalidate=300',
  };
  if (read.upToDate) headers[H.upToDate] = 'true';
  if (cursor !== undefined) headers[H.cursor] = cursor;
  // A stored document opened by a browser is downloaded, never rendered on this origin.
  if (modeOf(stream.contentType) !== 'json') headers['content-disposition'] = 'attachment';
  if (matchesEtag(request.header('if-none-match'), etag)) return emptyResponse(304, headers);
  const body = readBody(
    read.entries.map((e) => e.data),
    modeOf(stream.contentType) === 'json',
  );
  headers['content-length'] = String(body.byteLength);
  return { status: 200, headers, body };
}

/** `offset=now` without `live`: the tail, no data (PROTOCOL.md §8). */
function nowResponse(stream: StreamInfo): ProtocolResponse {
  const json = modeOf(stream.contentType) === 'json';
  const headers = { 'content-type': stream.contentType, ...positionHeaders(stream.tail, stream.closed), [H.upToDate]: 'true', 'cache-control': 'no-store' };
  return { status: 200, headers, body: json ? '[]' : null };
}

/** 204: no new data (timeout), or EOF when `closed`. */
function timeoutResponse(tail: string, closed: boolean, cursor: string | undefined): ProtocolResponse {
  const headers: Record<string, string> = { ...positionHeaders(tail, closed), [H.upToDate]: 'true', 'cache-control': 'no-store' };
  if (!closed && cursor !== undefined) headers[H.cursor] = cursor;
  return emptyResponse(204, headers);
}

function matchesEtag(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  return ifNoneMatch.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

function invalidOffset(message: string): SessionServerError {
  return new SessionServerError('invalid-offset', message);
}
