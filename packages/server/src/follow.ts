import { sleep } from './abort';
import { SessionServerError } from './errors';
import type { SessionStore, StoredEntry } from './store';

/** Why {@link follow} stopped. */
export type FollowEnd = 'aborted' | 'not-found' | 'closed' | 'idle';

/**
 * Options of {@link follow}.
 * `phase` is `catch-up` until the first read that reached the tail, then `live`.
 */
export interface FollowOptions {
  store: SessionStore;
  id: string;
  /** Offset to start after (`-1`: the beginning). */
  from: string;
  signal: AbortSignal;
  onBatch: (entries: StoredEntry[], phase: 'catch-up' | 'live') => void | Promise<void>;
  onError: (error: unknown) => void;
  /** Checked each time the reader is caught up: `true` stops following. */
  idle?: () => boolean;
}

/**
 * Read a stream from an offset and keep reading as it grows, through the store only
 * (`read`, then `wait`, which is woken by appends on any node). Store failures are
 * reported and retried with backoff. Stops when `signal` aborts, the stream is deleted
 * or closed, or `idle()` says so.
 */
export async function follow(options: FollowOptions): Promise<FollowEnd> {
  const { store, id, signal } = options;
  let from = options.from;
  let phase: 'catch-up' | 'live' = 'catch-up';
  let failures = 0;
  while (!signal.aborted) {
    try {
      const read = await store.read(id, { from, limit: 500 });
      if (signal.aborted) break;
      if (read.status === 'not-found' || read.status === 'gone') return 'not-found';
      if (read.status === 'offset-gone' || read.status === 'offset-beyond-tail') {
        const to = read.status === 'offset-gone' ? read.earliest : read.tail;
        options.onError(new SessionServerError('gone', `stream ${id}: events after ${from} are no longer readable; resuming at ${to}`));
        from = to;
        continue;
      }
      if (read.entries.length > 0) await options.onBatch(read.entries, phase);
      from = read.next;
      failures = 0;
      if (!read.upToDate) continue;
      phase = 'live';
      if (read.closed) return 'closed';
      if (options.idle?.() === true) return 'idle';
      if ((await store.wait(id, from, signal)) === 'not-found') return 'not-found';
    } catch (error) {
      if (signal.aborted) break; // shutting down: the store may already be closed
      options.onError(error);
      failures++;
      await sleep(Math.min(5000, 100 * 2 ** failures), signal);
    }
  }
  return 'aborted';
}
