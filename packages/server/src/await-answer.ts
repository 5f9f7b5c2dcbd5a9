import { SessionServerError } from './errors';
import { follow } from './follow';
import type { SessionStore } from './store';

/**
 * Wait for the resolution of a question already in a session's log, from any process: how an
 * agent re-attaches to an open question after a restart (the question stays open in the log;
 * a durable store keeps it). Resolves with the chosen option; rejects with `timeout` or
 * `turn-ended` when the question closed unanswered (`ask.closed`, the turn's end or a cancel),
 * `not-found` when there is no such question or session, `cancelled` when `signal` aborts.
 */
export async function awaitAnswer(store: SessionStore, sessionId: string, askId: string, signal: AbortSignal, onError: (error: unknown) => void): Promise<string> {
  const decoder = new TextDecoder();
  let ask: { turnId: string; agentId: string } | undefined;
  let outcome: { choice: string } | SessionServerError | undefined;
  const done = new AbortController();
  const end = await follow({
    store,
    id: sessionId,
    from: '-1',
    signal: AbortSignal.any([signal, done.signal]),
    onError,
    onBatch(entries) {
      for (const entry of entries) {
        if (outcome !== undefined) break;
        const event = parse(decoder.decode(entry.data));
        if (event.type === 'ask' && event.askId === askId) ask ??= { turnId: String(event.turnId), agentId: String(event.agentId) };
        else if (ask !== undefined) outcome = resolutionOf(event, askId, ask);
      }
      if (outcome !== undefined) done.abort();
    },
    // Caught up without the question: there is none to wait for.
    idle: () => ask === undefined,
  });
  if (outcome instanceof SessionServerError) throw outcome;
  if (outcome !== undefined) return outcome.choice;
  if (end === 'idle') throw new SessionServerError('not-found', `no question ${askId} in session ${sessionId}`);
  if (end === 'not-found') throw new SessionServerError('not-found', `no session ${sessionId}`);
  throw new SessionServerError('cancelled', `stopped waiting for question ${askId}`);
}

function resolutionOf(event: Record<string, unknown>, askId: string, ask: { turnId: string; agentId: string }): { choice: string } | SessionServerError | undefined {
  if (event.type === 'answer' && event.askId === askId && typeof event.choice === 'string') return { choice: event.choice };
  if (event.type === 'ask.closed' && event.askId === askId) return new SessionServerError('timeout', `question ${askId} closed: ${String(event.reason)}`);
  const ended = (event.type === 'turn.end' && event.turnId === ask.turnId && event.agentId === ask.agentId) || (event.type === 'cancel' && (event.turnId === ask.turnId || event.turnId === '*'));
  return ended ? new SessionServerError('turn-ended', `the turn of question ${askId} ended`) : undefined;
}

function parse(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
