import type { AnswerEvent, AskClosedEvent, AskEvent, SteerAckEvent, SteerEvent, SteerState } from './events';
import type { Question, SteerStatus, Turn } from './types';

/** The events folded here: a turn's steers and questions. */
export type ControlEvent = SteerEvent | SteerAckEvent | AskEvent | AnswerEvent | AskClosedEvent;

const CONTROL_TYPES: ReadonlySet<string> = new Set(['steer', 'steer.ack', 'ask', 'answer', 'ask.closed']);
const STEER_ORDER: Record<SteerState, number> = { sent: 0, received: 1, applied: 2, rejected: 2 };

/**
 * Whether an event is one of the live-control events {@link foldControl} folds.
 * @example
 * isControlEvent({ type: 'steer.ack' }); // true
 */
export const isControlEvent = (event: { type: string }): event is ControlEvent => CONTROL_TYPES.has(event.type);

/**
 * Fold a steer, a steer acknowledgment, a question, an answer or a closed question into its
 * (known) turn. Returns `turn` itself when nothing changes. The log's order decides: a steer
 * or a question arriving when the turn is no longer `streaming` is `rejected` / `closed` at once;
 * only the first answer of an open question counts, with one of its options; steer states
 * only move forward (a late `received` never undoes `applied`).
 * @example
 * const next = foldControl(turn, { type: 'steer.ack', turnId: 't1', agentId: 'a', steerId: 's1', state: 'applied' });
 */
export function foldControl(turn: Turn, event: ControlEvent): Turn {
  const ended = turn.status !== 'streaming';
  switch (event.type) {
    case 'steer': {
      const steer: SteerStatus = {
        steerId: event.steerId ?? `${turn.turnId}#${turn.steerStates.length}`,
        text: event.text,
        clientId: event.clientId,
        state: ended ? 'rejected' : 'sent',
        reason: ended ? 'turn-ended' : undefined,
      };
      return { ...turn, steers: [...turn.steers, event.text], steerStates: [...turn.steerStates, steer] };
    }
    case 'steer.ack':
      return updateSteer(turn, event);
    case 'ask': {
      if (turn.questions.some((q) => q.askId === event.askId) || !Array.isArray(event.options)) return turn;
      const question: Question = {
        askId: event.askId,
        agentId: event.agentId,
        question: event.question,
        options: event.options,
        state: ended ? 'closed' : 'open',
        choice: undefined,
        answeredBy: undefined,
        reason: ended ? 'turn-ended' : undefined,
        expiresAt: typeof event.expiresAt === 'number' ? event.expiresAt : undefined,
      };
      return { ...turn, questions: [...turn.questions, question] };
    }
    case 'answer':
      return updateQuestion(turn, event.askId, (q) =>
        q.options.includes(event.choice) ? { ...q, state: 'answered', choice: event.choice, answeredBy: event.clientId } : q,
      );
    case 'ask.closed':
      return updateQuestion(turn, event.askId, (q) => ({ ...q, state: 'closed', reason: event.reason }));
  }
}

/** Once a turn ended: steers never received are `rejected`, open questions `closed`. */
export function settleControl(turn: Turn): Turn {
  if (turn.status === 'streaming') return turn;
  const steers = turn.steerStates.some((s) => s.state === 'sent');
  const questions = turn.questions.some((q) => q.state === 'open');
  if (!steers && !questions) return turn;
  return {
    ...turn,
    steerStates: steers ? turn.steerStates.map((s) => (s.state === 'sent' ? { ...s, state: 'rejected' as const, reason: 'turn-ended' } : s)) : turn.steerStates,
    questions: questions ? turn.questions.map((q) => (q.state === 'open' ? { ...q, state: 'closed' as const, reason: 'turn-ended' } : q)) : turn.questions,
  };
}

function updateSteer(turn: Turn, ack: SteerAckEvent): Turn {
  const index = turn.steerStates.findIndex((s) => s.steerId === ack.steerId);
  const steer = turn.steerStates[index];
  if (steer === undefined || !(ack.state in STEER_ORDER) || STEER_ORDER[ack.state] <= STEER_ORDER[steer.state]) return turn;
  const steerStates = [...turn.steerStates];
  steerStates[index] = { ...steer, state: ack.state, reason: ack.state === 'rejected' ? (ack.reason ?? 'rejected') : undefined };
  return { ...turn, steerStates };
}

function updateQuestion(turn: Turn, askId: string, update: (question: Question) => Question): Turn {
  const index = turn.questions.findIndex((q) => q.askId === askId);
  const question = turn.questions[index];
  if (question === undefined || question.state !== 'open') return turn;
  const next = update(question);
  if (next === question) return turn;
  const questions = [...turn.questions];
  questions[index] = next;
  return { ...turn, questions };
}
