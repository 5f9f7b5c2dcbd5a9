import { DurableSessionError } from './errors';
import type { AppEvent } from './events';
import type { BatchSource } from './read-loop';
import { mergeOlder, stateOfPage, type SnapshotPage } from './snapshot-window';
import type { SnapshotStore } from './snapshot-store';
import type { AnySessionEvent, ReadBatch, SessionAdapter, SessionState, SnapshotPaging } from './types';
import { isAfterOffset } from './util';

/** Most events kept for replaying into older pages (the oldest batches go first). */
const MAX_REPLAY_EVENTS = 20_000;
/** Tries of one `loadOlder()` before it gives up (each waits for the live tail to catch up). */
const MAX_PAGE_TRIES = 5;
/** How long one try waits for the live tail to reach the page's offset. */
const CATCH_UP_MS = 5_000;

/**
 * Page through server snapshots (the `snapshot` option of `createDurableSession`): start from the
 * newest `turns` turns (default 10) when there is no saved state, and `loadOlder()` `turns` at a time.
 * @example
 * createDurableSession({ sessionId, adapter: httpAdapter({ baseUrl }), snapshot: snapshotPaging({ turns: 10 }) });
 */
export function snapshotPaging(options: { turns?: number } = {}): SnapshotPaging {
  const turns = options.turns ?? 10;
  if (!Number.isInteger(turns) || turns < 1) throw new DurableSessionError('bad-input', 'snapshotPaging: turns must be a positive integer');
  return { turns, start: createPaging as (host: never) => unknown };
}

/** One session's paging (what `snapshotPaging().start` returns). */
export type Paging<E extends AppEvent, S extends SessionState> = ReturnType<typeof createPaging<E, S>>;

/** What paging needs from its session. */
export interface PagingHost<E extends AppEvent, S extends SessionState> {
  sessionId: string;
  adapter: SessionAdapter<AnySessionEvent<E>>;
  store: SnapshotStore<E, S>;
  initial: S;
  turns: number;
  signal: AbortSignal;
  /** Persist the state now (a page was adopted: nothing else would save it until the next event). */
  save(): void;
}

/**
 * Start from the server's newest snapshot page, and page back through older turns.
 * `source` wraps the read: a read from `-1` first fetches the page, adopts it and reads on from
 * its offset. `record` keeps the batches applied since (bounded), so an older page folded at an
 * earlier offset gets the events that came after it (see `mergeOlder`).
 */
export function createPaging<E extends AppEvent, S extends SessionState>(host: PagingHost<E, S>) {
  type Event = AnySessionEvent<E>;
  const { sessionId, adapter, store } = host;
  const fetchPage = adapter.snapshot?.bind(adapter);
  if (fetchPage === undefined) throw new DurableSessionError('bad-input', 'paging needs an adapter with snapshot() (httpAdapter)');
  /** Offsets at which the state was exactly known, each with the events applied after it up to the next. */
  let history: { offset: string; events: Event[] }[] = [];
  let cursor: string | undefined;
  let older = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const adopt = (page: SnapshotPage): void => {
    history = [{ offset: page.offset, events: [] }];
    cursor = page.turns[0]?.turnId;
    older = page.older;
    store.setState({ ...host.initial, ...stateOfPage(page) }, { offset: page.offset });
    host.save();
  };

  /** Reading on from a saved state (IndexedDB, or the leader's): page back from its oldest turn. */
  const resume = (offset: string): void => {
    const state = store.get().state;
    history = [{ offset, events: [] }];
    cursor = state.turns[0]?.turnId;
    older = state.olderTurns ?? 0;
  };

  const source = (read: BatchSource<Event>): BatchSource<Event> =>
    async function* (offset, readSignal) {
      if (offset === '-1') {
        const page = await fetchPage(sessionId, { turns: host.turns }, { signal: readSignal }).catch(unlessNotFound);
        if (page !== undefined && !readSignal.aborted) {
          adopt(page);
          offset = page.offset;
        }
      } else if (history.length === 0) resume(offset);
      yield* read(offset, readSignal);
    };

  const record = (batch: ReadBatch<Event>): void => remember(history, batch);

  const tryPage = async (turns: number): Promise<number | undefined> => {
    const page = await fetchPage(sessionId, { turns, before: cursor, at: store.get().offset }, { signal: host.signal });
    await caughtUp<E, S>(store, page.offset, host.signal);
    const at = history.findIndex((h) => h.offset === page.offset);
    if (at < 0) return undefined; // folded mid-batch for this client: ask again at its offset
    const replay = history.slice(at).flatMap((h) => h.events);
    history = history.slice(at);
    store.setState(mergeOlder(store.get().state, page, replay), {});
    cursor = page.turns[0]?.turnId ?? cursor;
    older = page.older;
    return page.turns.length;
  };

  const loadOlder = async (turns = host.turns): Promise<number> => {
    // A follower tab never read on its own: page back from the state the leader gave it.
    if (history.length === 0 && store.get().offset !== '-1') resume(store.get().offset);
    for (let i = 0; i < MAX_PAGE_TRIES; i++) {
      if (older === 0 || cursor === undefined) return 0;
      const added = await tryPage(turns);
      if (added !== undefined) return added;
    }
    throw new DurableSessionError('conflict', `no older page of session ${sessionId} matched this client's offset after ${MAX_PAGE_TRIES} tries`);
  };

  return {
    source,
    record,
    /** The state was rebuilt: forget the pages. */
    reset: (): void => void (history = []),
    loadOlder: (turns?: number): Promise<number> => {
      const run = queue.then(() => loadOlder(turns));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

/** The session does not exist yet (a read creates it): start from nothing. */
function unlessNotFound(error: unknown): undefined {
  if (DurableSessionError.isInstance(error) && error.code === 'not-found') return undefined;
  throw error;
}

/** Keep a batch for replays: its events after the last boundary, its offset as the next (bounded). */
function remember<E>(history: { offset: string; events: E[] }[], batch: ReadBatch<E>): void {
  if (history.length === 0) return;
  history.at(-1)!.events.push(...batch.events);
  history.push({ offset: batch.offset, events: [] });
  let kept = history.reduce((sum, h) => sum + h.events.length, 0);
  while (kept > MAX_REPLAY_EVENTS && history.length > 1) kept -= history.shift()!.events.length;
}

/** Resolve once the session applied everything up to `offset` (bounded by {@link CATCH_UP_MS}). */
function caughtUp<E extends AppEvent, S extends SessionState>(store: SnapshotStore<E, S>, offset: string, signal: AbortSignal): Promise<void> {
  const reached = (): boolean => !isAfterOffset(offset, store.get().offset);
  if (reached()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      off();
      signal.removeEventListener('abort', done);
      if (signal.aborted) reject(new DurableSessionError('closed', 'the session closed'));
      else resolve();
    };
    const timer = setTimeout(done, CATCH_UP_MS);
    const off = store.emitter.on('change', () => {
      if (reached()) done();
    });
    signal.addEventListener('abort', done, { once: true });
  });
}
