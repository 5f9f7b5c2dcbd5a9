import { appendToSession, authorizedEvents, prepareEvents, type AppendRequest } from '../append-path';
import { isValidContentType, modeOf } from '../content-type';
import { SessionServerError, type SessionServerErrorCode } from '../errors';
import type { AppendOutcome, ProducerTuple } from '../store';
import { ANONYMOUS, authorizeRequest, positionHeaders, type Caller, type HandlerConfig } from './config';
import { H, isTrue } from './headers';
import { parseJsonMessages } from './json-body';
import { emptyResponse, errorResponse } from './responses';
import type { ProtocolRequest, ProtocolResponse } from './exchange';

const NON_NEGATIVE_INTEGER = /^(0|[1-9]\d*)$/;

/**
 * What an append asks for, whatever carried it (an HTTP POST, a WebSocket `append` frame):
 * its JSON messages (already parsed) or byte chunk, their content type, and the protocol's fields.
 */
export interface AppendInput {
  /** JSON messages (`values`), one byte chunk (`bytes`), or nothing (a close). */
  body: { values: unknown[] } | { bytes: Uint8Array } | undefined;
  contentType: string | undefined;
  close: boolean;
  producer: ProducerTuple | undefined;
  streamSeq: string | undefined;
}

/**
 * POST: append (JSON mode: an array appends each element), close, or both, atomically.
 * The body is read and parsed here; everything else is {@link appendFromInput}'s.
 */
export async function handleAppend(request: ProtocolRequest, id: string, config: HandlerConfig): Promise<ProtocolResponse> {
  const close = isTrue(request.header(H.closed));
  const producer = parseProducer(request);
  const streamSeq = request.header(H.seq) ?? undefined;
  if (streamSeq === '') throw new SessionServerError('bad-request', 'Stream-Seq must not be empty');
  const body = await request.body(config.maxBodyBytes, config.bodyTimeoutMs);
  const contentType = body.byteLength === 0 ? undefined : (request.header('content-type') ?? undefined);
  if (body.byteLength === 0 && !close) {
    throw new SessionServerError('empty-body', 'an append needs a body (an empty body is only valid with Stream-Closed: true)');
  }
  if (body.byteLength > 0 && contentType === undefined) throw new SessionServerError('bad-request', 'an append with a body needs a Content-Type');
  if (contentType !== undefined && !isValidContentType(contentType)) throw new SessionServerError('bad-request', `invalid Content-Type: ${contentType}`);
  const json = contentType !== undefined && modeOf(contentType) === 'json';
  const input: AppendInput = {
    body: json ? { values: parseJsonMessages(body, { allowEmptyArray: false }) } : body.byteLength > 0 ? { bytes: body } : undefined,
    contentType,
    close,
    producer,
    streamSeq,
  };
  const outcome = await appendFromInput(config, request, id, input);
  return appendResponse(id, outcome, producer !== undefined && input.body !== undefined);
}

/**
 * The transport-independent append: event checks and limits, `authorize` (with the parsed
 * events), then the store's append through {@link appendToSession}. HTTP and the WebSocket
 * endpoint both go through it. Throws a {@link SessionServerError} for a refused request.
 */
export async function appendFromInput(config: HandlerConfig, request: ProtocolRequest, id: string, input: AppendInput): Promise<AppendOutcome> {
  const { close } = input;
  const json = input.body !== undefined && 'values' in input.body;
  const events = input.body !== undefined && 'values' in input.body
    ? prepareEvents(input.body.values, { sessionStreams: config.sessionStreams, maxEvents: config.maxEventsPerAppend })
    : undefined;
  const caller = config.authorize === undefined ? ANONYMOUS : await askAuthorize(config, request, id, events?.values ?? [], { json, close, sessionStreams: config.sessionStreams });
  const bytes = input.body !== undefined && 'bytes' in input.body ? input.body.bytes : undefined;
  const appendRequest: AppendRequest = {
    sessionId: id,
    caller,
    body: events !== undefined ? { kind: 'json', events } : bytes !== undefined ? { kind: 'bytes', data: bytes } : { kind: 'none' },
    contentType: input.contentType,
    close,
    producer: input.producer,
    streamSeq: input.streamSeq,
  };
  const limits = { maxEventsPerAppend: config.maxEventsPerAppend, maxSessionEvents: config.maxSessionEvents, maxSessionBytes: config.maxSessionBytes };
  return appendToSession({ store: config.store, limits, sessionStreams: config.sessionStreams }, appendRequest);
}

/** `authorize`, told the append's events and action. */
function askAuthorize(config: HandlerConfig, request: ProtocolRequest, id: string, values: readonly unknown[], options: Parameters<typeof authorizedEvents>[1]): Promise<Caller> {
  const asked = authorizedEvents(values, options);
  return authorizeRequest(config, request, id, asked.action, asked.events);
}

/** The HTTP answer to an append's outcome (`withProducer`: 200 with the producer headers). */
function appendResponse(id: string, outcome: AppendOutcome, withProducer: boolean): ProtocolResponse {
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
    case 'session-full':
      return refuse('session-full', `the session holds its maximum of ${outcome.max} ${outcome.limit}`);
  }
}

/** `Producer-Id`, `Producer-Epoch`, `Producer-Seq`: all three or none (400). */
function parseProducer(request: ProtocolRequest): ProducerTuple | undefined {
  const id = request.header(H.producerId);
  const epoch = request.header(H.producerEpoch);
  const seq = request.header(H.producerSeq);
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
