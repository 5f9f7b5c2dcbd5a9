import { appendToSession, authorizedEvents, prepareEvents, type AppendRequest } from '../append-path';
import { isValidContentType, modeOf } from '../content-type';
import { SessionServerError } from '../errors';
import type { AppendOutcome, ProducerTuple } from '../store';
import { readRequestBody } from './body';
import { authorizeRequest, positionHeaders, type HandlerConfig } from './config';
import { H, isTrue } from './headers';
import { parseJsonMessages } from './json-body';
import { emptyResponse, errorResponse } from './responses';

const NON_NEGATIVE_INTEGER = /^(0|[1-9]\d*)$/;

/**
 * POST: append (JSON mode: an array appends each element), close, or both, atomically.
 * Parsed and checked first, then authorized (with the parsed events), then looked up and
 * appended by the transport-independent {@link appendToSession}.
 */
export async function handleAppend(request: Request, id: string, config: HandlerConfig): Promise<Response> {
  const headers = request.headers;
  const close = isTrue(headers.get(H.closed));
  const producer = parseProducer(headers);
  const streamSeq = headers.get(H.seq) ?? undefined;
  if (streamSeq === '') throw new SessionServerError('bad-request', 'Stream-Seq must not be empty');
  const body = await readRequestBody(request, config.maxBodyBytes, config.bodyTimeoutMs);
  const contentType = body.byteLength === 0 ? undefined : (headers.get('content-type') ?? undefined);
  if (body.byteLength === 0 && !close) {
    throw new SessionServerError('empty-body', 'an append needs a body (an empty body is only valid with Stream-Closed: true)');
  }
  if (body.byteLength > 0 && contentType === undefined) throw new SessionServerError('bad-request', 'an append with a body needs a Content-Type');
  if (contentType !== undefined && !isValidContentType(contentType)) throw new SessionServerError('bad-request', `invalid Content-Type: ${contentType}`);
  const json = contentType !== undefined && modeOf(contentType) === 'json';
  const events = json ? prepareEvents(parseJsonMessages(body, { allowEmptyArray: false }), { sessionStreams: config.sessionStreams, maxEvents: config.maxEventsPerAppend }) : undefined;
  const asked = authorizedEvents(events?.values ?? [], { json, close, sessionStreams: config.sessionStreams });
  const caller = await authorizeRequest(config, request, id, asked.action, asked.events);

  const appendRequest: AppendRequest = {
    sessionId: id,
    caller,
    body: events !== undefined ? { kind: 'json', events } : body.byteLength > 0 ? { kind: 'bytes', data: body } : { kind: 'none' },
    contentType,
    close,
    producer,
    streamSeq,
  };
  const limits = { maxEventsPerAppend: config.maxEventsPerAppend, maxSessionEvents: config.maxSessionEvents, maxSessionBytes: config.maxSessionBytes };
  const outcome = await appendToSession({ store: config.store, limits, sessionStreams: config.sessionStreams }, appendRequest);
  return appendResponse(outcome, producer !== undefined && appendRequest.body.kind !== 'none');
}

/** The HTTP answer to a store's append outcome. */
function appendResponse(outcome: AppendOutcome, producerWrote: boolean): Response {
  switch (outcome.status) {
    case 'appended': {
      const responseHeaders = positionHeaders(outcome.tail, outcome.closed);
      if (outcome.producer !== undefined) {
        responseHeaders[H.producerEpoch] = String(outcome.producer.epoch);
        responseHeaders[H.producerSeq] = String(outcome.producer.seq);
      }
      return emptyResponse(producerWrote ? 200 : 204, responseHeaders);
    }
    case 'duplicate':
      return emptyResponse(204, {
        ...positionHeaders(outcome.tail, outcome.closed),
        [H.producerEpoch]: String(outcome.producer.epoch),
        [H.producerSeq]: String(outcome.producer.seq),
      });
    case 'not-found':
      return errorResponse('not-found', 'no such session');
    case 'gone':
      return errorResponse('gone', 'the session was deleted');
    case 'closed':
      return errorResponse('stream-closed', 'the stream is closed', positionHeaders(outcome.tail, true));
    case 'content-type-mismatch':
      return errorResponse('content-type-mismatch', `the stream's content type is ${outcome.contentType}`);
    case 'stale-epoch':
      return errorResponse('producer-stale-epoch', `producer epoch is stale; the current epoch is ${outcome.epoch}`, {
        [H.producerEpoch]: String(outcome.epoch),
      });
    case 'invalid-epoch-seq':
      return errorResponse('bad-request', `a new producer epoch (${outcome.epoch}) must start at Producer-Seq 0, not ${outcome.seq}`);
    case 'seq-gap':
      return errorResponse('producer-seq-gap', `expected Producer-Seq ${outcome.expected}, received ${outcome.received}`, {
        [H.producerExpectedSeq]: String(outcome.expected),
        [H.producerReceivedSeq]: String(outcome.received),
      });
    case 'stream-seq-regression':
      return errorResponse('sequence-conflict', `Stream-Seq must be greater than ${outcome.last}`);
    case 'session-full':
      return errorResponse('session-full', `the session holds its maximum of ${outcome.max} ${outcome.limit}`);
  }
}

/** `Producer-Id`, `Producer-Epoch`, `Producer-Seq`: all three or none (400). */
function parseProducer(headers: Headers): ProducerTuple | undefined {
  const id = headers.get(H.producerId);
  const epoch = headers.get(H.producerEpoch);
  const seq = headers.get(H.producerSeq);
  if (id === null && epoch === null && seq === null) return undefined;
  if (id === null || epoch === null || seq === null) {
    throw new SessionServerError('bad-request', 'Producer-Id, Producer-Epoch and Producer-Seq go together');
  }
  if (id.trim() === '') throw new SessionServerError('bad-request', 'Producer-Id must not be empty');
  return { id, epoch: safeInteger('Producer-Epoch', epoch), seq: safeInteger('Producer-Seq', seq) };
}

function safeInteger(name: string, value: string): number {
  const n = Number(value);
  if (!NON_NEGATIVE_INTEGER.test(value) || !Number.isSafeInteger(n)) {
    throw new SessionServerError('bad-request', `${name} must be a non-negative integer, not ${value}`);
  }
  return n;
}
