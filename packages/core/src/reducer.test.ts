import { describe, expect, it } from 'vitest';
import type { AppEvent, SessionEvent } from './events';
import { initialSessionState, reduceSession } from './reducer';
import type { SessionState } from './types';

const fold = (events: (SessionEvent | AppEvent)[], from: SessionState = initialSessionState): SessionState =>
  events.reduce<SessionState>(reduceSession, from);

const prompt = (turnId: string, text = 'hi'): SessionEvent => ({ type: 'prompt', turnId, text, clientId: 'c1' });
const start = (turnId: string, agentId = 'a'): SessionEvent => ({ type: 'turn.start', turnId, agentId });
const delta = (turnId: string, text: string, agentId = 'a'): SessionEvent => ({ type: 'delta', turnId, agentId, text });
const end = (turnId: string, reason: 'complete' | 'cancelled' | 'error' = 'complete', agentId = 'a', error?: string): SessionEvent =>
  ({ type: 'turn.end', turnId, agentId, reason, ...(error ? { error } : {}) }) as SessionEvent;

/** Deep-freeze so that any mutation throws. */
function freeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) freeze(v);
  }
  return value;
}

describe('reduceSession', () => {
  it('a prompt opens a streaming turn and makes it active', () => {
    const s = fold([prompt('t1', 'Hello')]);
    expect(s.turns).toEqual([
      { turnId: 't1', prompt: 'Hello', clientId: 'c1', agents: {}, ended: {}, text: '', status: 'streaming', error: undefined, steers: [], steerStates: [], questions: [] },
    ]);
    expect(s.activeTurnId).toBe('t1');
  });

  it('folds one agent start, deltas and end into complete text', () => {
    const s = fold([prompt('t1'), start('t1'), delta('t1', 'Hel'), delta('t1', 'lo'), end('t1')]);
    expect(s.turns[0]).toMatchObject({ agents: { a: 'Hello' }, ended: { a: 'complete' }, text: 'Hello', status: 'complete' });
    expect(s.activeTurnId).toBeUndefined();
  });

  it('multi-agent: text per agent, joined in start order, complete only when all agents ended', () => {
    let s = fold([prompt('t1'), start('t1', 'zed'), start('t1', 'amy'), delta('t1', 'Z1', 'zed'), delta('t1', 'A1', 'amy'), delta('t1', 'Z2', 'zed')]);
    expect(s.turns[0]!.agents).toEqual({ zed: 'Z1Z2', amy: 'A1' });
    expect(Object.keys(s.turns[0]!.agents)).toEqual(['zed', 'amy']);
    expect(s.turns[0]!.text).toBe('Z1Z2\n\nA1');
    s = reduceSession(s, end('t1', 'complete', 'zed'));
    expect(s.turns[0]!.status).toBe('streaming');
    expect(s.activeTurnId).toBe('t1');
    s = reduceSession(s, end('t1', 'complete', 'amy'));
    expect(s.turns[0]!.status).toBe('complete');
    expect(s.activeTurnId).toBeUndefined();
  });

  it('agents without text yet do not add blank separators', () => {
    const s = fold([start('t1', 'x'), start('t1', 'y'), delta('t1', 'only y', 'y')]);
    expect(s.turns[0]!.text).toBe('only y');
  });

  it('end status: error beats cancelled beats complete; the first error message is kept', () => {
    const base = [start('t', 'a'), start('t', 'b'), start('t', 'c')];
    expect(fold([...base, end('t', 'complete', 'a'), end('t', 'cancelled', 'b'), end('t', 'complete', 'c')]).turns[0]!.status).toBe('cancelled');
    const e = fold([...base, end('t', 'error', 'a', 'boom'), end('t', 'cancelled', 'b'), end('t', 'error', 'c', 'bang')]).turns[0]!;
    expect(e.status).toBe('error');
    expect(e.error).toBe('boom');
  });

  it('an agent ending without turn.start still counts (implicit start)', () => {
    const s = fold([prompt('t1'), end('t1', 'error', 'a')]);
    expect(s.turns[0]).toMatchObject({ agents: { a: '' }, status: 'error', error: 'error' });
  });

  it('a late turn.start reopens a finished turn', () => {
    const s = fold([start('t1', 'a'), end('t1', 'complete', 'a'), start('t1', 'b')]);
    expect(s.turns[0]!.status).toBe('streaming');
    expect(s.activeTurnId).toBe('t1');
  });

  it('cancel marks a streaming turn cancelled at once; it stays cancelled after the agents end', () => {
    let s = fold([prompt('t1'), start('t1'), delta('t1', 'par')]);
    s = reduceSession(s, { type: 'cancel', turnId: 't1', clientId: 'c2' });
    expect(s.turns[0]!.status).toBe('cancelled');
    expect(s.activeTurnId).toBeUndefined();
    s = fold([delta('t1', 'tial'), end('t1', 'complete')], s);
    expect(s.turns[0]).toMatchObject({ status: 'cancelled', text: 'partial', ended: { a: 'complete' } });
  });

  it('cancel "*" cancels every streaming turn and leaves finished ones alone', () => {
    const s = fold([prompt('t1'), start('t1'), end('t1'), prompt('t2'), prompt('t3'), { type: 'cancel', turnId: '*', clientId: 'c' }]);
    expect(s.turns.map((t) => t.status)).toEqual(['complete', 'cancelled', 'cancelled']);
    expect(s.activeTurnId).toBeUndefined();
  });

  it('cancel of an unknown or finished turn returns the same state', () => {
    const s = fold([prompt('t1'), start('t1'), end('t1')]);
    expect(reduceSession(s, { type: 'cancel', turnId: 't1', clientId: 'c' })).toBe(s);
    expect(reduceSession(s, { type: 'cancel', turnId: 'nope', clientId: 'c' })).toBe(s);
  });

  it('steer appends to the turn; a steer for an unknown turn is ignored', () => {
    let s = fold([prompt('t1'), { type: 'steer', turnId: 't1', text: 'shorter', clientId: 'c' }, { type: 'steer', turnId: 't1', text: 'in French', clientId: 'c' }]);
    expect(s.turns[0]!.steers).toEqual(['shorter', 'in French']);
    const before = s;
    s = reduceSession(s, { type: 'steer', turnId: 'zz', text: 'x', clientId: 'c' });
    expect(s).toBe(before);
  });

  it('active turn is the latest streaming one', () => {
    const s = fold([prompt('t1'), prompt('t2'), start('t2'), end('t2')]);
    expect(s.activeTurnId).toBe('t1');
  });

  it('unknown and malformed events pass through unchanged', () => {
    const s = fold([prompt('t1')]);
    expect(reduceSession(s, { type: 'tool.call', turnId: 't1', name: 'x' })).toBe(s);
    expect(reduceSession(s, { type: 'whatever' })).toBe(s);
    expect(reduceSession(s, { type: 'delta', text: 'no turn' } as unknown as SessionEvent)).toBe(s);
    expect(reduceSession(s, { type: 'delta', turnId: 't1', text: 'no agent' } as unknown as SessionEvent)).toBe(s);
  });

  it('never mutates its input and keeps extra state fields', () => {
    interface Mine extends SessionState {
      tools: string[];
    }
    const s0 = freeze<Mine>({ ...fold([prompt('t1'), start('t1'), delta('t1', 'a')]), tools: ['x'] });
    const s1 = reduceSession(s0, delta('t1', 'b'));
    const s2 = reduceSession(s1, { type: 'cancel', turnId: '*', clientId: 'c' });
    expect(s0.turns[0]!.text).toBe('a');
    expect(s1.turns[0]!.text).toBe('ab');
    expect(s2.tools).toEqual(['x']);
  });

  it('keeps untouched turns by reference', () => {
    const s = fold([prompt('t0'), prompt('t1')]);
    const next = reduceSession(s, delta('t1', 'z'));
    expect(next.turns[0]).toBe(s.turns[0]);
    expect(next.turns[1]).not.toBe(s.turns[1]);
  });
});
