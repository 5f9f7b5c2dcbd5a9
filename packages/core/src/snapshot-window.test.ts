import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurableSessionError } from './errors';
import type { SessionEvent } from './events';
import { initialSessionState, reduceSession } from './reducer';
import { mergeOlder, pageOf, stateOfPage } from './snapshot-window';
import type { SessionState } from './types';

const fold = (events: readonly SessionEvent[], from: SessionState = initialSessionState): SessionState => events.reduce<SessionState>(reduceSession, from);

const turnId = fc.integer({ min: 0, max: 11 }).map((n) => `t${n}`);
const agentId = fc.constantFrom('a', 'b', 'c');
/** Random logs: multi-agent turns, cancels (one turn or all), steers, late events into ended turns. */
const event: fc.Arbitrary<SessionEvent> = fc.oneof(
  { weight: 3, arbitrary: turnId.map((t): SessionEvent => ({ type: 'prompt', turnId: t, text: `q ${t}`, clientId: 'c1' })) },
  { weight: 2, arbitrary: fc.tuple(turnId, agentId).map(([t, a]): SessionEvent => ({ type: 'turn.start', turnId: t, agentId: a })) },
  { weight: 6, arbitrary: fc.tuple(turnId, agentId, fc.string({ maxLength: 3 })).map(([t, a, text]): SessionEvent => ({ type: 'delta', turnId: t, agentId: a, text })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(turnId, agentId, fc.constantFrom('complete', 'cancelled', 'error') as fc.Arbitrary<'complete' | 'cancelled' | 'error'>)
      .map(([t, a, reason]): SessionEvent => ({ type: 'turn.end', turnId: t, agentId: a, reason })),
  },
  { weight: 1, arbitrary: fc.oneof(turnId, fc.constant('*')).map((t): SessionEvent => ({ type: 'cancel', turnId: t, clientId: 'c2' })) },
  { weight: 1, arbitrary: turnId.map((t): SessionEvent => ({ type: 'steer', turnId: t, text: 'shorter', clientId: 'c2' })) },
);

/**
 * A client that starts from the newest page at `start`, folds the rest in batches, and pages back
 * (`pages`: after which batch, from which known boundary the server answered, how many turns).
 */
function simulate(log: SessionEvent[], start: number, window: number, cuts: number[], pages: { after: number; boundary: number; turns: number }[]): SessionState {
  const boundaries = [start, ...[...new Set(cuts.map((c) => start + (c % (log.length - start + 1))))].sort((a, b) => a - b), log.length];
  const at = (i: number): string => `o${String(i).padStart(6, '0')}`;
  const first = pageOf(fold(log.slice(0, start)), at(start), { turns: window });
  let state: SessionState = stateOfPage(first);
  let older = first.older;
  let cursor = first.turns[0]?.turnId;
  const loadOlder = (position: number, boundary: number, turns: number): void => {
    if (older === 0 || cursor === undefined) return;
    const from = boundaries[Math.min(boundary % boundaries.length, boundaries.indexOf(position))]!;
    const page = pageOf(fold(log.slice(0, from)), at(from), { turns, before: cursor });
    state = mergeOlder(state, page, log.slice(from, position));
    older = page.older;
    cursor = page.turns[0]?.turnId ?? cursor;
  };
  for (let b = 1; b < boundaries.length; b++) {
    state = fold(log.slice(boundaries[b - 1], boundaries[b]), state);
    for (const page of pages) if (page.after % boundaries.length === b) loadOlder(boundaries[b]!, page.boundary, page.turns);
  }
  for (let guard = 0; older > 0 && guard < 100; guard++) loadOlder(log.length, boundaries.length - 1, 2);
  return state;
}

describe('snapshot pages', () => {
  it('newest page + tail + every older page == folding the whole log (property)', () => {
    fc.assert(
      fc.property(
        fc.array(event, { minLength: 1, maxLength: 120 }),
        fc.nat(),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.record({ after: fc.nat(), boundary: fc.nat(), turns: fc.integer({ min: 1, max: 4 }) }), { maxLength: 6 }),
        (log, startSeed, window, cuts, pages) => {
          const start = startSeed % (log.length + 1);
          const full = fold(log);
          const paged = simulate(log, start, window, cuts, pages);
          expect(paged.turns).toEqual(full.turns);
          expect(paged.activeTurnId).toBe(full.activeTurnId);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a page holds the last N turns and counts the older ones', () => {
    const log: SessionEvent[] = ['t1', 't2', 't3', 't4'].map((t) => ({ type: 'prompt', turnId: t, text: t, clientId: 'c' }));
    const state = fold(log);
    expect(pageOf(state, 'o4', { turns: 2 })).toMatchObject({ offset: 'o4', older: 2, turns: [{ turnId: 't3' }, { turnId: 't4' }] });
    expect(pageOf(state, 'o4', { turns: 2, before: 't3' })).toMatchObject({ older: 0, turns: [{ turnId: 't1' }, { turnId: 't2' }] });
    expect(() => pageOf(state, 'o4', { turns: 2, before: 'nope' })).toThrow(DurableSessionError);
  });
});
