import { DurableSessionError } from './errors';
import { reduceSession } from './reducer';
import type { SessionState, Turn } from './types';

/**
 * A page of a session's turns cut from a snapshot folded up to `offset`: consecutive turns in
 * log order, and how many turns come before them (`older`). The snapshot a new device starts from
 * is the newest page; `session.loadOlder()` fetches the pages before it.
 * @example
 * const page: SnapshotPage = { offset: '0000_0042', turns: [], older: 0 };
 */
export interface SnapshotPage {
  offset: string;
  turns: Turn[];
  /** Turns before `turns[0]` (0: this page starts at the first turn). */
  older: number;
}

/**
 * What to cut from a snapshot: the last `turns` turns, or the `turns` turns before the turn `before`.
 * `at`: fold up to exactly this offset (a server folds from its stored snapshot forward; when `at` is
 * before that snapshot it answers at the snapshot's offset).
 * @example
 * const request: SnapshotRequest = { turns: 10, before: 'turn-42' };
 */
export interface SnapshotRequest {
  turns: number;
  before?: string;
  at?: string;
}

/** Most turns one page holds (a server caps `turns` to it). */
export const MAX_PAGE_TURNS = 200;

/**
 * Cut a page out of a folded state (see {@link SnapshotRequest}).
 * Throws `bad-input` when `before` names no turn of the state.
 * @example
 * const page = pageOf(state, '0000_0042', { turns: 10 });
 */
export function pageOf(state: SessionState, offset: string, request: SnapshotRequest): SnapshotPage {
  const count = Math.max(1, Math.min(MAX_PAGE_TURNS, Math.floor(request.turns)));
  let end = state.turns.length;
  if (request.before !== undefined) {
    end = state.turns.findIndex((turn) => turn.turnId === request.before);
    if (end < 0) throw new DurableSessionError('bad-input', `no turn ${request.before} in the snapshot`);
  }
  const start = Math.max(0, end - count);
  return { offset, turns: state.turns.slice(start, end), older: start };
}

/**
 * The state a page starts a session with: its turns, and the latest one still streaming as active.
 * @example
 * const state = stateOfPage(page);
 */
export function stateOfPage(page: SnapshotPage): SessionState {
  return { ...withActive(page.turns), olderTurns: page.older };
}

/**
 * Put an older page in front of the turns of `state`. `replay` are the events `state` folded after
 * `page.offset`, in order: they are folded into the page's turns (each turn folds only its own
 * events, plus `cancel "*"`), so the result is what folding the whole log gives. A turn of the page
 * that `state` already has (an older turn's late event made it appear at the end) is replaced.
 * @example
 * const merged = mergeOlder(session.state, page, eventsSince(page.offset));
 */
export function mergeOlder<S extends SessionState>(state: S, page: SnapshotPage, replay: readonly unknown[]): S {
  let older: SessionState = withActive(page.turns);
  for (const event of replay) older = reduceSession(older, event as Parameters<typeof reduceSession>[1]);
  const ids = new Set(page.turns.map((turn) => turn.turnId));
  const pageTurns = older.turns.filter((turn) => ids.has(turn.turnId));
  const turns = [...pageTurns, ...state.turns.filter((turn) => !ids.has(turn.turnId))];
  return { ...state, ...withActive(turns), olderTurns: page.older };
}

function withActive(turns: readonly Turn[]): SessionState {
  let index = turns.length;
  while (index-- && turns[index]!.status !== 'streaming');
  return { turns: [...turns], activeTurnId: turns[index]?.turnId };
}
