import { describe, expect, it } from 'vitest';
import { checkProducer } from './producer';

describe('checkProducer (PROTOCOL.md §5.2.1)', () => {
  it('accepts a new producer at seq 0 in any epoch, and reports a gap otherwise (pipelined seq 1 before 0)', () => {
    expect(checkProducer(undefined, 0, 0)).toEqual({ kind: 'accept', state: { epoch: 0, lastSeq: 0 } });
    expect(checkProducer(undefined, 3, 0)).toEqual({ kind: 'accept', state: { epoch: 3, lastSeq: 0 } });
    expect(checkProducer(undefined, 0, 1)).toEqual({ kind: 'gap', expected: 0, received: 1 });
  });

  it('accepts the next seq, dedupes earlier ones with the highest accepted, reports gaps', () => {
    const state = { epoch: 0, lastSeq: 2 };
    expect(checkProducer(state, 0, 3)).toEqual({ kind: 'accept', state: { epoch: 0, lastSeq: 3 } });
    expect(checkProducer(state, 0, 0)).toEqual({ kind: 'duplicate', epoch: 0, highest: 2 });
    expect(checkProducer(state, 0, 2)).toEqual({ kind: 'duplicate', epoch: 0, highest: 2 });
    expect(checkProducer(state, 0, 5)).toEqual({ kind: 'gap', expected: 3, received: 5 });
  });

  it('fences stale epochs and requires seq 0 for a new epoch', () => {
    const state = { epoch: 2, lastSeq: 7 };
    expect(checkProducer(state, 1, 8)).toEqual({ kind: 'stale-epoch', epoch: 2 });
    expect(checkProducer(state, 3, 0)).toEqual({ kind: 'accept', state: { epoch: 3, lastSeq: 0 } });
    expect(checkProducer(state, 3, 1)).toEqual({ kind: 'invalid-epoch-seq' });
  });
});
