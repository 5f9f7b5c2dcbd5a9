import { isValidContentType, modeOf } from '../content-type';
import { SessionServerError } from '../errors';
import { parseOffset } from '../offsets';
import type { CreateStreamOptions } from '../store';
import { authorizedEvents, checkCaller, prepareEvents } from '../append-path';
import { authorizeRequest, requireStream, type HandlerConfig } from './config';
import { H, isTrue } from './headers';
import { parseJsonMessages } from './json-body';
import { emptyResponse, errorResponse, utf8 } from './responses';
import type { ProtocolRequest, ProtocolResponse } from './exchange';
import { streamIdOf } from './routes';

const NON_NEGATIVE_INTEGER = /^(0|[1-9]\d*)$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** PUT: create a stream (idempotent), optionally closed, with initial data, or as a fork. */
export async function handleCreate(request: ProtocolRequest, id: string, config: HandlerConfig): Promise<ProtocolResponse> {
  const contentType = request.header('content-type') ?? undefined;
  if (contentType !== undefined && !isValidContentType(contentType)) throw badRequest(`invalid Content-Type: ${contentType}`);

  const ttl = request.header(H.ttl);
  const expiresAt = request.header(H.expiresAt);
  if (ttl !== null && expiresAt !== null) throw badRequest('Stream-TTL and Stream-Expires-At are mutually exclusive');
  if (ttl !== null && !NON_NEGATIVE_INTEGER.test(ttl)) throw badRequest(`invalid Stream-TTL: ${ttl}`);
  if (expiresAt !== null && (!RFC3339.test(expiresAt) || Number.isNaN(Date.parse(expiresAt)))) {
    throw badRequest(`invalid Stream-Expires-At: ${expiresAt}`);
  }

  const fork = parseForkHeaders(request, config);
  const body = await request.body(config.maxBodyBytes, config.bodyTimeoutMs);
  // Parsed before `authorize` (which sees the events) when the request says JSON; a fork
  // without Content-Type inherits its source's type, known only after authorizing the fork.
  let values = contentType !== undefined && modeOf(contentType) === 'json' ? jsonValues(body, config) : undefined;
  const asked = authorizedEvents(values ?? [], { json: values !== undefined, close: false, sessionStreams: config.sessionStreams });
  const caller = await authorizeRequest(config, request, id, 'create', asked.events);
  if (fork !== undefined) await authorizeRequest(config, request, fork.source, 'read');
  const effectiveType = contentType ?? (fork === undefined ? 'application/octet-stream' : (await sourceType(config, fork.source)));
  if (values === undefined && modeOf(effectiveType) === 'json') values = jsonValues(body, config);
  if (values !== undefined) checkCaller(caller, values);
  const entries = values === undefined ? (body.byteLength === 0 ? [] : [body]) : values.map((v) => utf8(JSON.stringify(v)));
  const options: CreateStreamOptions = { closed: isTrue(request.header(H.closed)), entries };
  if (contentType !== undefined) options.contentType = contentType;
  if (ttl !== null) options.ttlSeconds = Number(ttl);
  if (expiresAt !== null) options.expiresAt = expiresAt;
  if (fork !== undefined) options.fork = fork;

  const outcome = await config.store.create(id, options);
  switch (outcome.status) {
    case 'created':
    case 'exists': {
      const stream = outcome.stream;
      const responseHeaders: Record<string, string> = { 'content-type': stream.contentType, [H.nextOffset]: stream.tail };
      if (stream.closed) responseHeaders[H.closed] = 'true';
      if (config.onSessionStream !== undefined && modeOf(stream.contentType) === 'json') {
        // On 200 too: a session whose first announcement failed is announced by the retried PUT.
        try {
          await config.onSessionStream(id, stream);
        } catch (error) {
          throw new SessionServerError('internal', `stream ${id} exists but could not be announced to the agents; retry the PUT`, { cause: error });
        }
      }
      if (outcome.status === 'exists') return emptyResponse(200, responseHeaders);
      const location = new URL(request.url.href);
      location.search = '';
      responseHeaders.location = location.href;
      return emptyResponse(201, responseHeaders);
    }
    case 'conflict':
      return errorResponse('conflict', outcome.reason);
    case 'source-not-found':
      return errorResponse('not-found', `no source stream ${fork?.source ?? ''}`);
    case 'invalid-fork':
      return errorResponse('bad-request', outcome.reason);
  }
}

function parseForkHeaders(request: ProtocolRequest, config: HandlerConfig): CreateStreamOptions['fork'] {
  const from = request.header(H.forkedFrom);
  const offset = request.header(H.forkOffset);
  const subOffset = request.header(H.forkSubOffset);
  if (from === null) {
    if (offset !== null || subOffset !== null) throw badRequest('Stream-Fork-Offset and Stream-Fork-Sub-Offset require Stream-Forked-From');
    return undefined;
  }
  if (offset !== null && parseOffset(offset) === undefined) throw badRequest(`invalid Stream-Fork-Offset: ${offset}`);
  if (subOffset !== null && !NON_NEGATIVE_INTEGER.test(subOffset)) throw badRequest(`invalid Stream-Fork-Sub-Offset: ${subOffset}`);
  let path: string;
  try {
    path = new URL(from, 'http://localhost').pathname;
  } catch (error) {
    throw new SessionServerError('bad-request', `invalid Stream-Forked-From: ${from}`, { cause: error });
  }
  const source = streamIdOf(path, config.basePath);
  if (source === undefined) throw new SessionServerError('not-found', `no source stream ${from}`);
  const fork: NonNullable<CreateStreamOptions['fork']> = { source };
  if (offset !== null) fork.offset = offset;
  if (subOffset !== null) fork.subOffset = Number(subOffset);
  return fork;
}

async function sourceType(config: HandlerConfig, source: string): Promise<string> {
  try {
    return (await requireStream(config, source, false)).contentType;
  } catch (error) {
    // Creating a fork of a deleted stream is a conflict (PROTOCOL.md §4.2), not a 410.
    if (SessionServerError.isInstance(error) && error.code === 'gone') throw new SessionServerError('conflict', error.message);
    throw error;
  }
}

/** The checked JSON messages of a PUT body (none when it is empty). */
function jsonValues(body: Uint8Array, config: HandlerConfig): unknown[] {
  if (body.byteLength === 0) return [];
  const values = parseJsonMessages(body, { allowEmptyArray: true });
  return prepareEvents(values, { sessionStreams: config.sessionStreams, maxEvents: config.maxEventsPerAppend }).values;
}

function badRequest(message: string): SessionServerError {
  return new SessionServerError('bad-request', message);
}
