import { foldControl, isControlEvent, settleControl } from './control-fold';
import type { AppEvent, SessionEvent } from './events';
import type { SessionState, Turn, TurnStatus } from './types';

/**
 * The state before any event: no turns.
 * @example
 * const state = [promptEvent, deltaEvent].reduce(reduceSession, initialSessionState);
 */
export const initialSessionState: SessionState = { turns: [], activeTurnId: undefined };

const newTurn = (turnId: string): Turn => ({
  turnId,
  prompt: undefined,
  clientId: undefined,
  agents: {},
  ended: {},
  text: '',
  status: 'streaming',
  error: undefined,
  steers: [],
  steerStates: [],
  questions: [],
});

/**
 * Fold one event into the session state. Pure: never mutates `state`, returns
 * `state` itself when the event changes nothing (unknown types, malformed events).
 *
 * - `prompt` creates the turn (status `streaming`, waiting for agents) or fills in its prompt.
 * - `turn.start` adds the agent (in start order) and sets the turn `streaming` again,
 *   unless it was cancelled.
 * - `delta` appends to the agent's text (an agent that never sent `turn.start` is added).
 *   `text` joins the non-empty texts of all agents, in start order, with a blank line.
 * - `turn.end` records the agent's reason. Once every agent that started has ended, the
 *   status becomes `error` if any agent failed, else `cancelled` if any was cancelled,
 *   else `complete`.
 * - `cancel` (a turn id or `"*"`) marks matching `streaming` turns `cancelled` at once,
 *   before any agent acknowledges it; a cancelled turn stays cancelled (late `turn.end`
 *   and deltas still record the agents' text and reasons).
 * - `steer`, `steer.ack`, `ask`, `answer` and `ask.closed` update the turn's `steers`,
 *   `steerStates` and `questions` (see `foldControl`; ignored for an unknown turn). When a turn
 *   stops streaming, its steers never received become `rejected` and its open questions `closed`.
 *
 * `activeTurnId` is the latest turn still `streaming`.
 * Agent ids are object keys: canonical array indexes (`"0"`, `"1"`) sort first.
 * @example
 * const s1 = reduceSession(initialSessionState, { type: 'prompt', turnId: 't1', text: 'Hi', clientId: 'c1' });
 * const s2 = reduceSession(s1, { type: 'delta', turnId: 't1', agentId: 'a', text: 'Hello' });
 * s2.turns[0]?.text; // 'Hello'
 */
export function reduceSession<S extends SessionState>(state: S, event: SessionEvent | AppEvent): S {
  const known = event as SessionEvent;
  const turns = state.turns;
  if (typeof known.turnId !== 'string') return state;
  if (known.type === 'cancel') {
    let changed = false;
    const next = turns.map((turn) =>
      (known.turnId === '*' || turn.turnId === known.turnId) && turn.status === 'streaming'
        ? ((changed = true), settleControl({ ...turn, status: 'cancelled' as const }))
        : turn,
    );
    return changed ? withTurns(state, next) : state;
  }
  let index = turns.length;
  while (index-- && turns[index]!.turnId !== known.turnId);
  const turn = index < 0 ? newTurn(known.turnId) : turns[index]!;
  let updated: Turn;
  if (known.type === 'prompt') updated = { ...turn, prompt: known.text, clientId: known.clientId };
  else if (isControlEvent(known)) {
    if (index < 0) return state;
    updated = foldControl(turn, known);
    if (updated === turn) return state;
  } else if (known.type === 'turn.start' || known.type === 'delta' || known.type === 'turn.end') {
    const id = known.agentId;
    if (typeof id !== 'string') return state;
    const agents = { ...turn.agents, [id]: (turn.agents[id] ?? '') + (known.type === 'delta' ? (known.text ?? '') : '') };
    const ended = { ...turn.ended };
    let status: TurnStatus = turn.status;
    let error = turn.error;
    if (known.type === 'turn.start') {
      delete ended[id];
      if (status !== 'cancelled') status = 'streaming';
    } else if (known.type === 'turn.end') {
      ended[id] = known.reason;
      if (known.reason === 'error') error ??= known.error ?? 'error';
      const reasons = Object.values(ended);
      if (status !== 'cancelled' && Object.keys(agents).every((agent) => agent in ended))
        status = reasons.includes('error') ? 'error' : reasons.includes('cancelled') ? 'cancelled' : 'complete';
    }
    const text = Object.values(agents).filter(Boolean).join('\n\n');
    updated = settleControl({ ...turn, agents, ended, text, status, error });
  } else return state;
  const next = [...turns];
  if (index < 0) next.push(updated);
  else next[index] = updated;
  return withTurns(state, next);
}

function withTurns<S extends SessionState>(state: S, turns: Turn[]): S {
  let index = turns.length;
  while (index-- && turns[index]!.status !== 'streaming');
  return { ...state, turns, activeTurnId: turns[index]?.turnId };
}
