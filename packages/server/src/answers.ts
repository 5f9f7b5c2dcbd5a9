/**
 * Answers to agents' questions: at most one per question, whatever the transport, the node or
 * the race. The first resolution of a question (an `answer`, or the agent's `ask.closed`) is
 * appended as seq 0 of the question's own producer in the server's namespace, so the store's
 * atomic producer check lets exactly one land, on every store; a later one is `duplicate`.
 */
import { SessionServerError } from './errors';
import { missing, notFound } from './protocol/config';
import type { ProducerTuple, SessionStore } from './store';

/**
 * The producer holding a question's one resolution.
 * @example
 * answerProducer('q1'); // { id: '__answer/q1', epoch: 0, seq: 0 }
 */
export function answerProducer(askId: string): ProducerTuple {
  return { id: `__answer/${askId}`, epoch: 0, seq: 0 };
}

interface Found {
  ask: { turnId: string; agentId: string; options: unknown } | undefined;
  /** The answer or `ask.closed` already stored. */
  resolution: Record<string, unknown> | undefined;
  /** The ask's turn ended (its agent wrote `turn.end`) or was cancelled after the ask. */
  ended: boolean;
}

/** An answer to check (the one event of its append). */
interface Answer {
  turnId: string;
  askId: string;
  choice: string;
  answerId: string;
}

/** The answer in an append, or `undefined`; an answer must be alone in its append (400). */
export function answerOf(values: readonly unknown[]): Answer | undefined {
  const index = values.findIndex((v) => (v as { type?: unknown } | null)?.type === 'answer');
  if (index < 0) return undefined;
  if (values.length !== 1) throw new SessionServerError('invalid-event', 'an answer must be the only event of its append');
  return values[0] as Answer;
}

/**
 * Check an answer before it is appended: its question exists in this turn, is still open (not
 * answered, not closed, its turn not ended) and `choice` is one of its options. Reads the session
 * (bounded by `maxSessionEvents`); only answers pay for it.
 */
export async function checkAnswer(store: SessionStore, sessionId: string, answer: Answer): Promise<void> {
  const found = await findQuestion(store, sessionId, answer.askId);
  if (found.ask === undefined || found.ask.turnId !== answer.turnId) {
    throw new SessionServerError('invalid-event', `answer: no question ${answer.askId} in turn ${answer.turnId}`);
  }
  if (isSameAnswer(found.resolution, answer)) return; // a retry: the store answers it as a duplicate
  if (found.resolution !== undefined || found.ended) throw alreadyAnswered(answer.askId);
  if (!Array.isArray(found.ask.options) || !found.ask.options.includes(answer.choice)) {
    throw new SessionServerError('invalid-event', `answer: ${JSON.stringify(answer.choice)} is not an option of question ${answer.askId}`);
  }
}

/**
 * After a `duplicate`: the stored resolution is this very answer (a retried append whose reply
 * was lost: fine), or someone else's (409 `already-answered`).
 */
export async function checkDuplicateAnswer(store: SessionStore, sessionId: string, answer: Answer): Promise<void> {
  const { resolution } = await findQuestion(store, sessionId, answer.askId);
  if (!isSameAnswer(resolution, answer)) throw alreadyAnswered(answer.askId);
}

const isSameAnswer = (resolution: Record<string, unknown> | undefined, answer: Answer): boolean =>
  resolution?.type === 'answer' && resolution.answerId === answer.answerId;

function alreadyAnswered(askId: string): SessionServerError {
  return new SessionServerError('already-answered', `question ${askId} was already answered or closed`);
}

/** Scan the session for a question, its resolution and whether its turn ended. */
async function findQuestion(store: SessionStore, sessionId: string, askId: string): Promise<Found> {
  const found: Found = { ask: undefined, resolution: undefined, ended: false };
  const decoder = new TextDecoder();
  for (let from = '-1'; ; ) {
    const read = await store.read(sessionId, { from, limit: 1000 });
    if (read.status !== 'ok') throw read.status === 'not-found' ? await notFound(store, sessionId) : missing('gone', sessionId);
    for (const entry of read.entries) note(found, JSON.parse(decoder.decode(entry.data)) as Record<string, unknown>, askId);
    if (read.upToDate) return found;
    from = read.next;
  }
}

function note(found: Found, event: Record<string, unknown>, askId: string): void {
  if (event.type === 'ask' && event.askId === askId && found.ask === undefined) {
    found.ask = { turnId: String(event.turnId), agentId: String(event.agentId), options: event.options };
    return;
  }
  const ask = found.ask;
  if (ask === undefined) return;
  if ((event.type === 'answer' || event.type === 'ask.closed') && event.askId === askId) found.resolution ??= event;
  else if (event.type === 'turn.end' && event.turnId === ask.turnId && event.agentId === ask.agentId) found.ended = true;
  else if (event.type === 'cancel' && (event.turnId === ask.turnId || event.turnId === '*')) found.ended = true;
}
