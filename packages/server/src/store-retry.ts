import { sleep } from './abort';
import { SessionServerError } from './errors';

/** Delays between attempts when the store fails (an exception that is not a {@link SessionServerError}). */
const RETRY_DELAYS_MS = [50, 250];

/**
 * The server's one retry policy for store failures: run `attempt` (given its number, from 0)
 * and, when the store throws (not a {@link SessionServerError}: those are answers), try again
 * after 50 ms, then 250 ms; then, or once `signal` aborts, rethrow. Only for operations that are
 * harmless to repeat (idempotent producers, deduplicated writes).
 * @example
 * await retryStoreFailures(() => store.append(id, options));
 */
export async function retryStoreFailures<T>(attempt: (number: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let number = 0; ; number++) {
    try {
      return await attempt(number);
    } catch (error) {
      const delay = RETRY_DELAYS_MS[number];
      if (SessionServerError.isInstance(error) || delay === undefined || signal?.aborted) throw error;
      await sleep(delay, signal);
    }
  }
}
