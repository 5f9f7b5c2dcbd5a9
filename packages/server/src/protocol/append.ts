import { isValidContentType, mediaType, modeOf } from '../content-type';
import { SessionServerError } from '../errors';
import type { AppendOptions, ProducerTuple } from '../store';
import { isSdkEvent, problemWithEvent } from '../validate-events';
import { readRequestBody } from './body';
import { authorizeRequest, positionHeaders, requireStream, type HandlerConfig } from './config';
import { H, isTrue } from './headers';
import { parseJsonMessages } from './json-body';
import { emptyResponse, errorResponse } from './responses';

const NON_NEGATIVE_INTEGER = /^(0|[1-9]\d*)$/;

/** POST: append (JSON mode: an array appends each element), close, or both, atomically. */
export async function handleAppend(request: Request, id: string, config: HandlerConfig): Promise<Response> {
  const headers = request.headers;
  const close = isTrue(headers.get(H.closed));
  const producer = parseProducer(headers);
  const streamSeq = headers.get(H.seq) ?? undefined;
  if (streamSeq === '') throw new SessionServerError('bad-request', 'Stream-Seq must not be empty');
  const body = await readRequestBody(request, config.maxBodyBytes);
  const stream = await requireStream(config, id, false);

  const options: AppendOptions = { entries: [], close };
  if (producer !== undefined) options.producer = producer;
  if (streamSeq !== undefined) options.streamSeq = streamSeq;
  let control = close;
  if (body.byteLength === 0) {
    if (!close) throw new SessionServerError('empty-body', 'an append needs a body (an empty body is only valid with Stream-Closed: true)');
  } else {
    const contentType = headers.get('content-type');
    if (contentType === null) throw new SessionServerError('bad-request', 'an append with a body needs a Content-Type');
    if (!isValidContentType(contentType)) throw new SessionServerError('bad-request', `invalid Content-Type: ${contentType}`);
    if (mediaType(contentType) !== mediaType(stream.contentType)) {
      if (stream.closed) return closedResponse(stream.tail);
      return errorResponse('content-type-mismatch', `the stream's content type is ${stream.contentType}`);
    }
    options.contentType = contentType;
    if (modeOf(stream.contentType) === 'json') {
      const messages = parseJsonMessages(body, { allowEmptyArray: false });
      for (const value of messages.values) {
        const problem = config.validateEvents ? problemWithEvent(value) : undefined;
        if (problem !== undefined) throw new SessionServerError('invalid-event', problem);
        if (isSdkEvent(value) && (value.type === 'cancel' || value.type === 'steer')) control = true;
      }
      options.entries = messages.entries;
    } else {
      options.entries = [body];
    }
  }
  await authorizeRequest(config, request, id, control ? 'control' : 'append');

  const outcome = await config.store.append(id, options);
  switch (outcome.status) {
    case 'appended': {
      const responseHeaders = positionHeaders(outcome.tail, outcome.closed);
      if (outcome.producer !== undefined) {
        responseHeaders[H.producerEpoch] = String(outcome.producer.epoch);
        responseHeaders[H.producerSeq] = String(outcome.producer.seq);
      }
      return emptyResponse(producer !== undefined && options.entries.length > 0 ? 200 : 204, responseHeaders);
    }
    case 'duplicate':
      return emptyResponse(204, {
        ...positionHeaders(outcome.tail, outcome.closed),
        [H.producerEpoch]: String(outcome.producer.epoch),
        [H.producerSeq]: String(outcome.producer.seq),
      });
    case 'not-found':
      return errorResponse('not-found', `no session ${id}`);
    case 'gone':
      return errorResponse('gone', `session ${id} was deleted`);
    case 'closed':
      return closedResponse(outcome.tail);
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
  }
}

function closedResponse(tail: string): Response {
  return errorResponse('stream-closed', 'the stream is closed', positionHeaders(tail, true));
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
