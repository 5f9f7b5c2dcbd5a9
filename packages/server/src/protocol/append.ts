import { isValidContentType, mediaType, modeOf } from '../content-type';
import { SessionServerError, type SessionServerErrorCode } from '../errors';
import type { AppendOptions, AppendOutcome, ProducerTuple } from '../store';
import { isSdkEvent, problemWithEvent } from '../validate-events';
import { readRequestBody } from './body';
import { authorizeRequest, positionHeaders, requireStream, type HandlerConfig } from './config';
import { H, isTrue } from './headers';
import { parseJsonMessages } from './json-body';
import { emptyResponse, errorResponse } from './responses';

const NON_NEGATIVE_INTEGER = /^(0|[1-9]\d*)$/;

/**
 * What an append asks for, whatever carried it (an HTTP POST, a WebSocket `append` frame):
 * the body bytes, their content type, and the protocol's append fields.
 */
export interface AppendInput {
  body: Uint8Array;
  contentType: string | null;
  close: boolean;
  producer: ProducerTuple | undefined;
  streamSeq: string | undefined;
}

/**
 * An append's outcome, with the store options it ran with. The early answers (a content type
 * that does not match, a closed stream) come back as the store's own outcomes.
 */
export interface AppendResult {
  outcome: AppendOutcome;
  options: AppendOptions;
}

/** POST: append (JSON mode: an array appends each element), close, or both, atomically. */
export async function handleAppend(request: Request, id: string, config: HandlerConfig): Promise<Response> {
  const headers = request.headers;
  const close = isTrue(headers.get(H.closed));
  const producer = parseProducer(headers);
  const streamSeq = headers.get(H.seq) ?? undefined;
  if (streamSeq === '') throw new SessionServerError('bad-request', 'Stream-Seq must not be empty');
  const body = await readRequestBody(request, config.maxBodyBytes);
  const { outcome, options } = await appendToSession(config, request, id, { body, contentType: headers.get('content-type'), close, producer, streamSeq });
  return appendResponse(id, outcome, producer !== undefined && options.entries.length > 0);
}

/**
 * The transport-independent append: stream lookup, content type and event checks,
 * `authorize`, then the store's append. HTTP and the WebSocket endpoint both go through it.
 * Throws a {@link SessionServerError} for a refused request.
 */
export async function appendToSession(config: HandlerConfig, request: Request, id: string, input: AppendInput): Promise<AppendResult> {
  const { body, close, producer, streamSeq } = input;
  const stream = await requireStream(config, id, false);

  const options: AppendOptions = { entries: [], close };
  if (producer !== undefined) options.producer = producer;
  if (streamSeq !== undefined) options.streamSeq = streamSeq;
  let control = close;
  if (body.byteLength === 0) {
    if (!close) throw new SessionServerError('empty-body', 'an append needs a body (an empty body is only valid with Stream-Closed: true)');
  } else {
    const contentType = input.contentType;
    if (contentType === null) throw new SessionServerError('bad-request', 'an append with a body needs a Content-Type');
    if (!isValidContentType(contentType)) throw new SessionServerError('bad-request', `invalid Content-Type: ${contentType}`);
    if (mediaType(contentType) !== mediaType(stream.contentType)) {
      if (stream.closed) return { outcome: { status: 'closed', tail: stream.tail }, options };
      return { outcome: { status: 'content-type-mismatch', contentType: stream.contentType }, options };
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
  return { outcome: await config.store.append(id, options), options };
}

/** The HTTP answer to an append's outcome (`withProducer`: 200 with the producer headers). */
function appendResponse(id: string, outcome: AppendOutcome, withProducer: boolean): Response {
  if (!isAccepted(outcome)) {
    const refusal = appendRefusal(id, outcome);
    return errorResponse(refusal.code, refusal.message, refusal.headers);
  }
  const headers = positionHeaders(outcome.tail, outcome.closed);
  if (outcome.producer !== undefined) {
    headers[H.producerEpoch] = String(outcome.producer.epoch);
    headers[H.producerSeq] = String(outcome.producer.seq);
  }
  return emptyResponse(outcome.status === 'appended' && withProducer ? 200 : 204, headers);
}

/** Why an append outcome is an error: its code, message and protocol headers. */
export interface AppendRefusal {
  code: SessionServerErrorCode;
  message: string;
  headers: Record<string, string>;
}

/** An outcome that wrote the append (or found it already written: a producer's retry). */
export type AcceptedAppend = Extract<AppendOutcome, { status: 'appended' | 'duplicate' }>;

/** Whether the append was written (or already had been). */
export function isAccepted(outcome: AppendOutcome): outcome is AcceptedAppend {
  return outcome.status === 'appended' || outcome.status === 'duplicate';
}

/** The error a refused append answers with: one mapping for every transport. */
export function appendRefusal(id: string, outcome: Exclude<AppendOutcome, AcceptedAppend>): AppendRefusal {
  const refuse = (code: SessionServerErrorCode, message: string, headers: Record<string, string> = {}): AppendRefusal => ({ code, message, headers });
  switch (outcome.status) {
    case 'not-found':
      return refuse('not-found', `no session ${id}`);
    case 'gone':
      return refuse('gone', `session ${id} was deleted`);
    case 'closed':
      return refuse('stream-closed', 'the stream is closed', positionHeaders(outcome.tail, true));
    case 'content-type-mismatch':
      return refuse('content-type-mismatch', `the stream's content type is ${outcome.contentType}`);
    case 'stale-epoch':
      return refuse('producer-stale-epoch', `producer epoch is stale; the current epoch is ${outcome.epoch}`, {
        [H.producerEpoch]: String(outcome.epoch),
      });
    case 'invalid-epoch-seq':
      return refuse('bad-request', `a new producer epoch (${outcome.epoch}) must start at Producer-Seq 0, not ${outcome.seq}`);
    case 'seq-gap':
      return refuse('producer-seq-gap', `expected Producer-Seq ${outcome.expected}, received ${outcome.received}`, {
        [H.producerExpectedSeq]: String(outcome.expected),
        [H.producerReceivedSeq]: String(outcome.received),
      });
    case 'stream-seq-regression':
      return refuse('sequence-conflict', `Stream-Seq must be greater than ${outcome.last}`);
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
