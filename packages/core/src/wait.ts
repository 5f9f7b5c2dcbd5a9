import { DurableSessionError } from './errors';

/**
 * Resolve with the first value of a store (such as a session) that satisfies
 * `predicate`, checking the current value first. Rejects with code `aborted`
 * after `timeoutMs`, when given.
 * @example
 * await waitFor(session, (s) => s.status === 'live');
 * const done = await waitFor(session, (s) => s.turns.at(-1)?.status === 'complete', 5_000);
 */
export function waitFor<T>(
  store: { subscribe(callback: (value: T) => void): () => void },
  predicate: (value: T) => boolean,
  timeoutMs?: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let stop: (() => void) | undefined;
    let done = false;
    const finish = (): void => {
      done = true;
      clearTimeout(timer);
      stop?.();
    };
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      finish();
      reject(new DurableSessionError('aborted', `waitFor timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    stop = store.subscribe((value) => {
      if (!done && predicate(value)) {
        finish();
        resolve(value);
      }
    });
    if (done) stop();
  });
}
