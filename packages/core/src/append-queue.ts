import { DurableSessionError } from './errors';
import { createBackoff, pause, retryDelay } from './retry';
import type { ReconnectOptions, SessionAdapter, WriteOptions } from './types';
import { randomId, toError, watchdog } from './util';

const aborted = (): DurableSessionError => new DurableSessionError('aborted', 'write aborted');

/** What the append queue needs from its session. */
export interface AppendQueueHost<E> {
  sessionId: string;
  adapter: SessionAdapter<E>;
  reconnect: ReconnectOptions | undefined;
  /** Aborts when the session closes: pending appends reject with {@link AppendQueueHost.closedError}. */
  signal: AbortSignal;
  closedError(): DurableSessionError;
  warn(error: DurableSessionError): void;
  fail(error: DurableSessionError): void;
}

/**
 * Appends one at a time, in call order, so that producer sequence numbers never have gaps: as
 * producer `(random id per queue, epoch, seq)`, so a retried append never lands twice. Retryable
 * failures (network, 5xx, 429) are retried with backoff (each a `warning`) until they succeed or
 * the session closes; others reject (and are reported as an `error`), except a `conflict` past
 * seq 0, the server's answer to a sequence gap once it forgot the producer (a restart): that
 * append is retried once at once, in a new epoch from seq 0 (a `warning`). A write's own `signal`
 * or `timeoutMs` ending it rejects it with `aborted` (and the next one starts a new epoch).
 * @example
 * const append = createAppendQueue(host);
 * await append({ type: 'prompt', turnId, text, clientId });
 */
export function createAppendQueue<E>(host: AppendQueueHost<E>): (event: E, options?: WriteOptions) => Promise<void> {
  const { sessionId, adapter, signal } = host;
  const producerId = randomId();
  let epoch = 0;
  let seq = 0;
  let queue: Promise<unknown> = Promise.resolve();
  /** Whatever the server made of this seq, a new epoch starts clean at seq 0. */
  const newEpoch = (): void => {
    epoch++;
    seq = 0;
  };

  const attempt = async (event: E, call: AbortSignal): Promise<void> => {
    const backoff = createBackoff(host.reconnect);
    for (;;) {
      if (signal.aborted) throw host.closedError();
      try {
        await adapter.append(sessionId, event, { producerId, epoch, seq, signal: call });
        seq++;
        return;
      } catch (error) {
        if (signal.aborted) throw host.closedError();
        if (call.aborted) throw (newEpoch(), aborted());
        const failure = toError(error);
        if (!failure.retryable) {
          // A `conflict` (409, nothing appended) past seq 0 is a sequence gap when the server
          // forgot this producer (a restart): retry once so.
          const gap = failure.code === 'conflict' && seq > 0;
          newEpoch();
          if (gap) {
            host.warn(failure);
            continue;
          }
          host.fail(failure);
          throw failure;
        }
        host.warn(failure);
        await pause(retryDelay(backoff), call);
      }
    }
  };
  return (event, options = {}) => {
    const result = queue.then(async () => {
      if (options.signal?.aborted) throw aborted();
      const call = watchdog([signal, options.signal], options.timeoutMs);
      try {
        return await attempt(event, call.signal);
      } finally {
        call.stop();
      }
    });
    queue = result.catch(() => {}); // the caller gets the rejection (and `error` was emitted)
    return result;
  };
}
