import type { ReconnectOptions } from './types';

/**
 * A retry delay policy: `next()` gives the delay before the next attempt, `reset()` starts over.
 * @example
 * const backoff: Backoff = createBackoff();
 */
export interface Backoff {
  next(): number;
  reset(): void;
}

/**
 * Exponential backoff with full jitter: attempt `n` (from 0) waits a uniformly random
 * time in `[0, min(maxDelayMs, initialDelayMs * multiplier ** n))`.
 * @param options Delays (defaults 250 ms, 10 s, ×2).
 * @param random Source of randomness in `[0, 1)`, injectable for tests.
 * @example
 * const backoff = createBackoff({ initialDelayMs: 250, maxDelayMs: 10_000 });
 * setTimeout(retry, backoff.next());
 * // after a healthy connection:
 * backoff.reset();
 */
export function createBackoff(
  { initialDelayMs = 250, maxDelayMs = 10_000, multiplier = 2 }: ReconnectOptions = {},
  random: () => number = Math.random,
): Backoff {
  let n = 0;
  return {
    next: () => random() * Math.min(maxDelayMs, initialDelayMs * multiplier ** n++),
    reset: () => {
      n = 0;
    },
  };
}
