import { DurableSessionError } from '../errors';
import type { AppEvent, SessionEvent } from '../events';
import type { ReadBatch, SessionAdapter } from '../types';

/**
 * A {@link SessionAdapter} over an in-process log, plus helpers to inspect and
 * disturb it in tests.
 * @example
 * const adapter = memoryAdapter();
 * adapter.events('chat-1'); // every event appended so far
 */
export interface MemoryAdapter<E = SessionEvent | AppEvent> extends SessionAdapter<E> {
  /** The events of a session still held (after {@link MemoryAdapter.truncate}), in order. */
  events(sessionId: string): E[];
  /** The offset after the last event of a session. */
  tail(sessionId: string): string;
  /**
   * Drop every event before the `count`-th (retention): reads from an earlier offset fail
   * with `gone`; reads from `-1` start at the oldest event still held.
   */
  truncate(sessionId: string, count: number): void;
  /** Close the session's stream: readers get a last batch with `closed: true`, appends fail with `conflict`. */
  closeStream(sessionId: string): void;
}

interface Log<E> {
  events: E[];
  /** How many events were dropped from the front. */
  start: number;
  closed: boolean;
  wake: Set<() => void>;
  producers: Map<string, { epoch: number; seq: number }>;
}

/** Offsets are the event count, zero-padded so that they sort lexicographically. */
const toOffset = (count: number): string => String(count).padStart(16, '0');

/**
 * An in-process {@link SessionAdapter}: ordered logs with offsets, live reads that wake on
 * append, and idempotent producers checked as the Durable Streams protocol does
 * (a repeated `seq` is dropped, a gap is a `conflict`, an older epoch is `unauthorized`).
 * Sessions are created on first use. For tests, demos and in-process agents.
 * @example
 * const adapter = memoryAdapter();
 * const session = createDurableSession({ sessionId: 'chat-1', adapter, persistence: 'memory' });
 * await adapter.append('chat-1', { type: 'turn.start', turnId: 't1', agentId: 'bot' },
 *   { producerId: 'bot', epoch: 0, seq: 0 });
 */
export function memoryAdapter<E = SessionEvent | AppEvent>(): MemoryAdapter<E> {
  const logs = new Map<string, Log<E>>();
  const log = (id: string): Log<E> => {
    let stream = logs.get(id);
    if (!stream) logs.set(id, (stream = { events: [], start: 0, closed: false, wake: new Set(), producers: new Map() }));
    return stream;
  };
  const notify = (stream: Log<E>): void => {
    for (const wakeUp of stream.wake) wakeUp();
  };
  const end = (stream: Log<E>): number => stream.start + stream.events.length;

  return {
    async *read(id, offset, { live, signal }): AsyncGenerator<ReadBatch<E>, void, undefined> {
      const stream = log(id);
      let from = offset === '-1' ? stream.start : Number(offset);
      if (!Number.isInteger(from) || from < 0) throw new DurableSessionError('http', `bad offset ${offset}`, { status: 400 });
      // Beyond the tail: this log is not the one the offset came from (e.g. a new page's log).
      if (from > end(stream)) throw new DurableSessionError('gone', `offset ${offset} is beyond the tail`, { status: 400 });
      let first = true;
      while (!signal.aborted) {
        if (from < stream.start) throw new DurableSessionError('gone', `offset ${offset} is no longer held`, { status: 410 });
        const to = end(stream);
        if (first || to > from || stream.closed) {
          first = false;
          const { closed } = stream;
          const events = stream.events.slice(from - stream.start, to - stream.start);
          from = to;
          yield { events, offset: toOffset(to), upToDate: true, closed };
          if (closed || !live) return;
          continue;
        }
        await new Promise<void>((resolve) => {
          const done = (): void => {
            stream.wake.delete(done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          stream.wake.add(done);
          signal.addEventListener('abort', done);
        });
      }
    },

    async append(id, event, { producerId, epoch, seq }) {
      await Promise.resolve();
      const stream = log(id);
      if (stream.closed) throw new DurableSessionError('conflict', 'stream closed', { status: 409 });
      const producer = stream.producers.get(producerId);
      if (producer && epoch < producer.epoch) throw new DurableSessionError('unauthorized', 'stale producer epoch', { status: 403 });
      const last = producer && epoch === producer.epoch ? producer.seq : -1;
      if (seq <= last) return; // a retry: already appended
      if (seq !== last + 1) throw new DurableSessionError(producer && epoch > producer.epoch ? 'http' : 'conflict', `expected seq ${last + 1}, got ${seq}`, { status: producer && epoch > producer.epoch ? 400 : 409 });
      stream.producers.set(producerId, { epoch, seq });
      stream.events.push(structuredClone(event));
      notify(stream);
    },

    events: (id) => [...log(id).events],
    tail: (id) => toOffset(end(log(id))),
    truncate(id, count) {
      const stream = log(id);
      const drop = Math.min(Math.max(count - stream.start, 0), stream.events.length);
      stream.events.splice(0, drop);
      stream.start += drop;
    },
    closeStream(id) {
      const stream = log(id);
      stream.closed = true;
      notify(stream);
    },
  };
}
