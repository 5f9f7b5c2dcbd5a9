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
 * - `steer` appends to the turn's `steers` (ignored for an unknown turn).
 *
 * `activeTurnId` is the latest turn still `streaming`.
 * Agent ids are object keys: canonical array indexes (`"0"`, `"1"`) sort first.
 * @example
 * const s1 = reduceSession(initialSessionState, { type: 'prompt', turnId: 't1', text: 'Hi', clientId: 'c1' });
 * const s2 = reduceSession(s1, { type: 'delta', turnId: 't1', agentId: 'a', text: 'Hello' });
 * s2.turns[0]?.text; // 'Hello'
 */
export function reduceSession<S extends SessionState>(state: S, event: SessionEvent | AppEvent): S {
  const e = event as SessionEvent;
  const turns = state.turns;
  if (typeof e.turnId !== 'string') return state;
  if (e.type === 'cancel') {
    let changed = false;
    const next = turns.map((t) =>
      (e.turnId === '*' || t.turnId === e.turnId) && t.status === 'streaming'
        ? ((changed = true), { ...t, status: 'cancelled' as const })
        : t,
    );
    return changed ? withTurns(state, next) : state;
  }
  let i = turns.length;
  while (i-- && turns[i]!.turnId !== e.turnId);
  const t = i < 0 ? newTurn(e.turnId) : turns[i]!;
  let n: Turn;
  if (e.type === 'prompt') n = { ...t, prompt: e.text, clientId: e.clientId };
  else if (e.type === 'steer') {
    if (i < 0) return state;
    n = { ...t, steers: [...t.steers, e.text] };
  } else if (e.type === 'turn.start' || e.type === 'delta' || e.type === 'turn.end') {
    const id = e.agentId;
    if (typeof id !== 'string') return state;
    const agents = { ...t.agents, [id]: (t.agents[id] ?? '') + (e.type === 'delta' ? (e.text ?? '') : '') };
    const ended = { ...t.ended };
    let status: TurnStatus = t.status;
    let error = t.error;
    if (e.type === 'turn.start') {
      delete ended[id];
      if (status !== 'cancelled') status = 'streaming';
    } else if (e.type === 'turn.end') {
      ended[id] = e.reason;
      if (e.reason === 'error') error ??= e.error ?? 'error';
      const reasons = Object.values(ended);
      if (status !== 'cancelled' && Object.keys(agents).every((a) => a in ended))
        status = reasons.includes('error') ? 'error' : reasons.includes('cancelled') ? 'cancelled' : 'complete';
    }
    const text = Object.values(agents).filter(Boolean).join('\n\n');
    n = { ...t, agents, ended, text, status, error };
  } else return state;
  const next = [...turns];
  if (i < 0) next.push(n);
  else next[i] = n;
  return withTurns(state, next);
}

function withTurns<S extends SessionState>(state: S, turns: Turn[]): S {
  let i = turns.length;
  while (i-- && turns[i]!.status !== 'streaming');
  return { ...state, turns, activeTurnId: turns[i]?.turnId };
}
