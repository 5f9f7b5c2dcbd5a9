import { DurableSessionError } from './errors';
import { createBackoff, pause } from './retry';
import { environment } from './environment';
import type { ReadBatch, ReconnectOptions, SessionSnapshot } from './types';
import { toError } from './util';

/**
 * Where a session gets its batches from, starting after `offset`, until `signal` aborts:
 * the adapter's live read (solo and leader tabs; followers get theirs from the leader, see `tabs.ts`).
 * @example
 * const network: BatchSource<SessionEvent> = (offset, signal) =>
 *   adapter.read(sessionId, offset, { live: true, signal });
 */
export type BatchSource<E> = (offset: string, signal: AbortSignal) => AsyncIterable<ReadBatch<E>>;

/** What the read loop needs from its session. */
export interface ReadLoopHost<E> {
  source: BatchSource<E>;
  reconnect: ReconnectOptions | undefined;
  /** Aborts when the session closes: the loop ends. */
  signal: AbortSignal;
  snapshot(): Pick<SessionSnapshot, 'offset' | 'status'>;
  set(patch: Partial<Pick<SessionSnapshot, 'status' | 'error'>>): void;
  apply(batch: ReadBatch<E>): void;
  /** The store lost events not read yet (`gone`): start over from `-1` with `recovered: false`. */
  rebuild(error: DurableSessionError): void;
  fail(error: DurableSessionError): void;
}

/**
 * The network read of a session (solo or leader tab): catch-up, then live, reconnecting with
 * backoff; paused while offline (`interrupt()` cuts the current read when the browser goes
 * offline); a `gone` read rebuilds from the start; a `deleted` session stops it for good.
 * @example
 * const loop = createReadLoop(host);
 * await loop.run();
 */
export function createReadLoop<E>(host: ReadLoopHost<E>): { run(): Promise<void>; interrupt(): void } {
  let reader: AbortController | undefined;
  const { signal } = host;

  const run = async (): Promise<void> => {
    const backoff = createBackoff(host.reconnect);
    while (!signal.aborted) {
      if (!environment.online()) {
        host.set({ status: 'offline' });
        await pause(undefined, signal);
        continue;
      }
      if (host.snapshot().status === 'offline') host.set({ status: 'reconnecting' });
      const current = (reader = new AbortController());
      const from = host.snapshot().offset;
      let live = false;
      try {
        for await (const batch of host.source(from, current.signal)) {
          if (signal.aborted || current.signal.aborted) break;
          host.apply(batch);
          // Healthy means a batch of the live read, after catch-up: every retry's catch-up succeeding
          // while its live read keeps failing must still back off.
          if (live) backoff.reset();
          live ||= batch.upToDate;
          if (batch.closed) return host.set({ status: 'closed' });
        }
        if (!signal.aborted && !current.signal.aborted) throw new DurableSessionError('network', 'read ended');
      } catch (error) {
        if (signal.aborted || current.signal.aborted) continue; // closing, or gone offline
        const failure = toError(error);
        if (failure.code === 'deleted') {
          // Deleted for good: never re-created by a reconnect (nor read again).
          host.set({ status: 'closed', error: failure });
          return host.fail(failure);
        }
        if (failure.code === 'gone' && host.snapshot().offset !== '-1') {
          // The store lost events we had not read (retention, or the stream was deleted, expired or
          // lost in a server restart): rebuild from what it holds now, at once unless this read was
          // already from the start (then back off: no tight loop against a store that keeps failing).
          host.rebuild(failure);
          if (from !== '-1') continue;
        } else {
          host.set({ status: 'reconnecting', error: failure });
          host.fail(failure);
        }
        if (environment.online()) await pause(backoff.next(), signal);
      }
    }
  };
  return { run, interrupt: () => reader?.abort() };
}
