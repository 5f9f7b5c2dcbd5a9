/**
 * The append path every transport runs (HTTP POST today, the WebSocket endpoint and a
 * node-native handler later): the same validation, roles, identity binding, producer
 * namespace and limits, whatever carried the request. Transports parse their framing,
 * call {@link prepareEvents}, ask `authorize` (with {@link authorizedEvents}), then call
 * {@link appendToSession} with the resulting caller.
 */
import { answerOf, answerProducer, checkAnswer, checkDuplicateAnswer } from './answers';
import { mediaType, modeOf } from './content-type';
import { SessionServerError } from './errors';
import type { Caller, AuthorizedEvent, SessionAction } from './protocol/config';
import { missing, notFound } from './protocol/config';
import { utf8 } from './protocol/responses';
import type { AppendOptions, AppendOutcome, ProducerTuple, SessionStore, StreamInfo } from './store';
import { actionOfEvent, problemWithEvent, problemWithSessionEvent } from './validate-events';

/** Producer ids starting with this are the server's own (its agents' turns); clients are refused them. */
export const SERVER_PRODUCER_PREFIX = '__';

/** Limits the append path enforces. */
export interface AppendLimits {
  maxEventsPerAppend: number;
  maxSessionEvents: number;
  maxSessionBytes: number;
}

/** JSON messages ready to store: their values and their stored (UTF-8 JSON) form. */
export interface PreparedEvents {
  values: unknown[];
  entries: Uint8Array[];
}

/**
 * Check JSON messages before anything else: at most `maxEventsPerAppend` (413
 * `too-many-events`, checked before any is encoded), and on session streams each one a
 * well-formed event (400 `invalid-event`). Nothing is stored when one is refused.
 */
export function prepareEvents(values: unknown[], options: { sessionStreams: boolean; maxEvents: number }): PreparedEvents {
  if (values.length > options.maxEvents) {
    throw new SessionServerError('too-many-events', `an append holds at most ${options.maxEvents} events, not ${values.length}`);
  }
  values.forEach((value, i) => {
    const problem = options.sessionStreams ? problemWithSessionEvent(value) : problemWithEvent(value);
    if (problem !== undefined) throw new SessionServerError('invalid-event', values.length > 1 ? `event ${i}: ${problem}` : problem);
  });
  try {
    return { values, entries: values.map((v) => utf8(JSON.stringify(v))) };
  } catch (error) {
    throw new SessionServerError('invalid-json', 'the JSON body cannot be stored', { cause: error });
  }
}

/**
 * The events as `authorize` sees them, and the request's action: the strongest of its
 * events' (`agent` > `control` > `append`); closing a session stream is `agent`.
 */
export function authorizedEvents(values: readonly unknown[], options: { json: boolean; close: boolean; sessionStreams: boolean }): { events: AuthorizedEvent[]; action: SessionAction } {
  const events = options.json ? values.map((event) => ({ event, action: actionOfEvent(event) })) : [];
  let action: SessionAction = options.close ? (options.json && options.sessionStreams ? 'agent' : 'control') : 'append';
  for (const { action: a } of events) {
    if (a === 'agent') action = 'agent';
    else if (a === 'control' && action === 'append') action = 'control';
  }
  return { events, action };
}

/** What {@link appendToSession} appends. */
export interface AppendRequest {
  sessionId: string;
  caller: Caller;
  /** JSON messages (`json`), one byte chunk (`bytes`), or nothing (a close). */
  body: { kind: 'json'; events: PreparedEvents } | { kind: 'bytes'; data: Uint8Array } | { kind: 'none' };
  /** The request's `Content-Type`, when it has a body. */
  contentType: string | undefined;
  close: boolean;
  producer: ProducerTuple | undefined;
  streamSeq: string | undefined;
}

/**
 * Append to a session after `authorize` said who the caller is: roles, identity binding,
 * the server's producer namespace, the stream's content type, then the store's atomic
 * append (with the per-session limits). Refusals throw a `SessionServerError`; the store's
 * outcomes (`duplicate`, `closed`, …) are returned for the transport to answer.
 */
export async function appendToSession(deps: { store: SessionStore; limits: AppendLimits; sessionStreams: boolean }, request: AppendRequest): Promise<AppendOutcome> {
  const { store } = deps;
  const values = request.body.kind === 'json' ? request.body.events.values : [];
  checkCaller(request.caller, values);
  if (request.producer !== undefined && request.producer.id.startsWith(SERVER_PRODUCER_PREFIX)) {
    throw new SessionServerError('forbidden', `Producer-Id values starting with ${SERVER_PRODUCER_PREFIX} are reserved for the server`);
  }
  // A plain append's body names the stream's mode (the store refuses a mismatch itself); a close,
  // an answer or an own-turns check looks the stream up first: they act on what the stream is.
  let json = request.contentType !== undefined && modeOf(request.contentType) === 'json';
  const answer = json && deps.sessionStreams ? answerOf(values) : undefined;
  if (request.contentType === undefined || (json && (request.close || answer !== undefined || request.caller.control === 'own-turns'))) {
    const stream = await streamOf(store, request.sessionId);
    const refused = refusedByStream(stream, request.contentType);
    if (refused !== undefined) return refused;
    json = modeOf(stream.contentType) === 'json';
  }
  if (json && deps.sessionStreams && request.close && request.caller.role !== 'agent') {
    throw new SessionServerError('forbidden', 'only an agent may close a session');
  }
  if (json && request.caller.control === 'own-turns') await checkOwnTurns(store, request.sessionId, request.caller, values);
  if (answer !== undefined) await checkAnswer(store, request.sessionId, answer);
  const options: AppendOptions = { entries: entriesOf(request.body), close: request.close };
  if (request.contentType !== undefined) options.contentType = request.contentType;
  // An answer lands as its question's one resolution, whatever producer the client used.
  const producer = answer === undefined ? request.producer : answerProducer(answer.askId);
  if (producer !== undefined) options.producer = producer;
  if (request.streamSeq !== undefined) options.streamSeq = request.streamSeq;
  if (json && deps.sessionStreams) options.limit = { maxEvents: deps.limits.maxSessionEvents, maxBytes: deps.limits.maxSessionBytes };
  const outcome = await store.append(request.sessionId, options);
  if (outcome.status === 'not-found') throw await notFound(store, request.sessionId);
  if (outcome.status === 'session-full') {
    throw new SessionServerError('session-full', `session ${request.sessionId} holds its maximum of ${outcome.max} ${outcome.limit}`);
  }
  if (answer !== undefined && outcome.status === 'duplicate') await checkDuplicateAnswer(store, request.sessionId, answer);
  return outcome;
}

async function streamOf(store: SessionStore, sessionId: string): Promise<StreamInfo> {
  const lookup = await store.head(sessionId);
  if (lookup.status !== 'ok') throw missing(lookup.status, sessionId);
  return lookup.stream;
}

/** A body of another content type than the stream's: refused before anything reads the stream. */
function refusedByStream(stream: StreamInfo, contentType: string | undefined): AppendOutcome | undefined {
  if (contentType === undefined || mediaType(contentType) === mediaType(stream.contentType)) return undefined;
  return stream.closed ? { status: 'closed', tail: stream.tail } : { status: 'content-type-mismatch', contentType: stream.contentType };
}

function entriesOf(body: AppendRequest['body']): Uint8Array[] {
  if (body.kind === 'json') return body.events.entries;
  return body.kind === 'bytes' ? [body.data] : [];
}

/**
 * Whether the caller's role and bound identity allow these events (403 otherwise):
 * viewers write nothing, only agents write agent events, a bound
 * `clientId`/`agentId` must be the one in every event that carries one.
 */
export function checkCaller(caller: Caller, values: readonly unknown[]): void {
  if (caller.role === 'viewer') throw new SessionServerError('forbidden', 'a viewer cannot write to a session');
  for (const value of values) {
    const event = value as Record<string, unknown>;
    if (actionOfEvent(value) === 'agent') {
      if (caller.role !== 'agent') throw new SessionServerError('forbidden', `only agents may write ${String(event.type)} events`);
      if (caller.agentId !== undefined && event.agentId !== caller.agentId) {
        throw new SessionServerError('forbidden', `this caller writes as agent ${caller.agentId}, not ${String(event.agentId)}`);
      }
    }
    if (caller.clientId !== undefined && typeof event === 'object' && event !== null && 'clientId' in event && event.clientId !== caller.clientId) {
      throw new SessionServerError('forbidden', `this caller writes as client ${caller.clientId}, not ${String(event.clientId)}`);
    }
  }
}

/** `control: 'own-turns'`: every cancel/steer names a turn whose prompt this client wrote. */
async function checkOwnTurns(store: SessionStore, sessionId: string, caller: Caller, values: readonly unknown[]): Promise<void> {
  const turns = new Set<string>();
  for (const value of values) {
    if (actionOfEvent(value) !== 'control') continue;
    const turnId = (value as { turnId: string }).turnId;
    if (turnId === '*') throw new SessionServerError('forbidden', 'this caller may only cancel or steer its own turns, not "*"');
    turns.add(turnId);
  }
  if (turns.size === 0) return;
  const owners = await promptOwners(store, sessionId, turns);
  for (const turnId of turns) {
    if (owners.get(turnId) !== caller.clientId) throw new SessionServerError('forbidden', `turn ${turnId} is not this caller's`);
  }
}

/** Who prompted each of `turns` (read page by page; sessions are bounded by `maxSessionEvents`). */
async function promptOwners(store: SessionStore, sessionId: string, turns: ReadonlySet<string>): Promise<Map<string, unknown>> {
  const owners = new Map<string, unknown>();
  const decoder = new TextDecoder();
  for (let from = '-1'; ; ) {
    const read = await store.read(sessionId, { from, limit: 1000 });
    if (read.status !== 'ok') throw read.status === 'not-found' ? await notFound(store, sessionId) : missing('gone', sessionId);
    for (const entry of read.entries) {
      const event = JSON.parse(decoder.decode(entry.data)) as { type?: unknown; turnId?: unknown; clientId?: unknown };
      if (event.type === 'prompt' && typeof event.turnId === 'string' && turns.has(event.turnId) && !owners.has(event.turnId)) {
        owners.set(event.turnId, event.clientId);
      }
    }
    if (read.upToDate || owners.size === turns.size) return owners;
    from = read.next;
  }
}
