import { describe, expect, it } from 'vitest';
import type { AnySessionEvent } from './types';
import { initialSessionState, reduceSession } from './reducer';

const fold = (events: AnySessionEvent[]) => events.reduce(reduceSession, initialSessionState).turns[0]!;
const prompt: AnySessionEvent = { type: 'prompt', turnId: 't', text: 'Hi', clientId: 'c' };
const start: AnySessionEvent = { type: 'turn.start', turnId: 't', agentId: 'a' };
const steer = (steerId: string): AnySessionEvent => ({ type: 'steer', turnId: 't', text: `steer ${steerId}`, clientId: 'c', steerId });
const ack = (steerId: string, state: 'received' | 'applied' | 'rejected'): AnySessionEvent => ({ type: 'steer.ack', turnId: 't', agentId: 'a', steerId, state });
const end: AnySessionEvent = { type: 'turn.end', turnId: 't', agentId: 'a', reason: 'complete' };
const ask: AnySessionEvent = { type: 'ask', turnId: 't', agentId: 'a', askId: 'q', question: 'Send?', options: ['yes', 'no'] };
const answer = (choice: string, clientId = 'c'): AnySessionEvent => ({ type: 'answer', turnId: 't', askId: 'q', choice, clientId, answerId: `${clientId}-${choice}` });

describe('steer states', () => {
  it('move sent → received → applied, never back', () => {
    expect(fold([prompt, start, steer('s')]).steerStates).toMatchObject([{ steerId: 's', state: 'sent' }]);
    expect(fold([prompt, start, steer('s'), ack('s', 'received')]).steerStates[0]!.state).toBe('received');
    expect(fold([prompt, start, steer('s'), ack('s', 'received'), ack('s', 'applied'), ack('s', 'received')]).steerStates[0]!.state).toBe('applied');
    expect(fold([prompt, start, steer('s'), ack('other', 'applied')]).steerStates[0]!.state).toBe('sent');
  });

  it('a steer to an ended turn is rejected; one still unreceived when the turn ends too', () => {
    expect(fold([prompt, start, end, steer('late')]).steerStates[0]).toMatchObject({ state: 'rejected', reason: 'turn-ended' });
    const turn = fold([prompt, start, steer('s1'), steer('s2'), ack('s1', 'received'), end]);
    expect(turn.steerStates.map((s) => s.state)).toEqual(['received', 'rejected']);
    expect(turn.steers).toEqual(['steer s1', 'steer s2']);
  });
});

describe('questions', () => {
  it('open until the first valid answer', () => {
    expect(fold([prompt, start, ask]).questions).toMatchObject([{ askId: 'q', state: 'open', options: ['yes', 'no'] }]);
    expect(fold([prompt, start, ask, answer('maybe')]).questions[0]!.state).toBe('open');
    expect(fold([prompt, start, ask, answer('no', 'c2'), answer('yes')]).questions[0]).toMatchObject({ state: 'answered', choice: 'no', answeredBy: 'c2' });
  });

  it('closed by a timeout, a cancel or the end of the turn', () => {
    const closed: AnySessionEvent = { type: 'ask.closed', turnId: 't', agentId: 'a', askId: 'q', reason: 'timeout' };
    expect(fold([prompt, start, ask, closed, answer('yes')]).questions[0]).toMatchObject({ state: 'closed', reason: 'timeout' });
    expect(fold([prompt, start, ask, { type: 'cancel', turnId: '*', clientId: 'c' }]).questions[0]).toMatchObject({ state: 'closed', reason: 'turn-ended' });
    expect(fold([prompt, start, ask, end, answer('yes')]).questions[0]).toMatchObject({ state: 'closed' });
  });
});
