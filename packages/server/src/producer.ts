/**
 * What a store remembers per `(stream, Producer-Id)`.
 * @example
 * const state: ProducerState = { epoch: 0, lastSeq: 4 };
 */
export interface ProducerState {
  epoch: number;
  /** Highest accepted `Producer-Seq` in `epoch`. */
  lastSeq: number;
}

/**
 * The verdict on an idempotent producer's request (PROTOCOL.md §5.2.1).
 * - `accept`: write it, then store `state`.
 * - `duplicate`: already written; answer 204 with the highest accepted seq.
 * - `stale-epoch`: a zombie (403, answer with the current epoch).
 * - `invalid-epoch-seq`: a new epoch must start at seq 0 (400).
 * - `gap`: a seq was skipped (409).
 * @example
 * const verdict = checkProducer(state, epoch, seq);
 * if (verdict.kind === 'accept') saveState(verdict.state);
 */
export type ProducerVerdict =
  | { kind: 'accept'; state: ProducerState }
  | { kind: 'duplicate'; epoch: number; highest: number }
  | { kind: 'stale-epoch'; epoch: number }
  | { kind: 'invalid-epoch-seq' }
  | { kind: 'gap'; expected: number; received: number };

/**
 * Validate `(epoch, seq)` against a producer's state. A pure function, so every store
 * (memory, Redis in a Lua script) applies the same rules.
 * An unknown producer must start at seq 0 in any epoch; a later seq reports a gap
 * (expected 0), which lets a pipelining client wait for its seq 0 and retry.
 * @example
 * checkProducer(undefined, 0, 0); // { kind: 'accept', state: { epoch: 0, lastSeq: 0 } }
 * checkProducer({ epoch: 0, lastSeq: 2 }, 0, 1); // { kind: 'duplicate', epoch: 0, highest: 2 }
 */
export function checkProducer(state: ProducerState | undefined, epoch: number, seq: number): ProducerVerdict {
  if (state === undefined) {
    return seq === 0 ? { kind: 'accept', state: { epoch, lastSeq: 0 } } : { kind: 'gap', expected: 0, received: seq };
  }
  if (epoch < state.epoch) return { kind: 'stale-epoch', epoch: state.epoch };
  if (epoch > state.epoch) {
    return seq === 0 ? { kind: 'accept', state: { epoch, lastSeq: 0 } } : { kind: 'invalid-epoch-seq' };
  }
  if (seq <= state.lastSeq) return { kind: 'duplicate', epoch, highest: state.lastSeq };
  if (seq === state.lastSeq + 1) return { kind: 'accept', state: { epoch, lastSeq: seq } };
  return { kind: 'gap', expected: state.lastSeq + 1, received: seq };
}
