import { environment } from './environment';
import type { ReconnectOptions } from './types';

/*
 * Retry policy in one place: the backoff delays, the pause between attempts (which ends early when
 * the browser comes back online or the work is aborted), and the delay to wait after a failure.
 */

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
  let attempt = 0;
  return {
    next: () => random() * Math.min(maxDelayMs, initialDelayMs * multiplier ** attempt++),
    reset: () => {
      attempt = 0;
    },
  };
}

/**
 * Resolve after `ms` (never without `ms`), when the browser comes back online, or when
 * `signal` aborts, whichever comes first.
 * @example
 * await pause(backoff.next(), session.signal);
 */
export function pause(ms: number | undefined, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      unlisten();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    const unlisten = environment.listen('online', done);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done);
  });
}

/**
 * How long to wait before the next attempt: the backoff's next delay, or until the browser is
 * back online (`undefined`, for {@link pause}) while it is offline.
 * @example
 * await pause(retryDelay(backoff), signal);
 */
export const retryDelay = (backoff: Backoff): number | undefined => (environment.online() ? backoff.next() : undefined);
