import { DurableSessionError, type SessionAdapter } from '@durable-session/core';

/**
 * Shown when a read picked up from an offset instead of the start: `restored` for the
 * page's first read (the state came from this device: IndexedDB or the leader tab),
 * `resumed` for a read after a lost connection.
 */
export interface ResumeNotice {
  /** Increases with every notice (a key for the UI). */
  id: number;
  kind: 'restored' | 'resumed';
  /** The offset the read started after. */
  from: string;
  /** Events caught up before the read was up to date. */
  caughtUp: number;
}

/** What the "drop connection" switch and the resume notices look like now. */
export interface NetworkState {
  /** The demo switch cut this tab's connection. */
  dropped: boolean;
  /** When the switch restores the connection (`Date.now()` ms), while dropped. */
  restoresAt: number | undefined;
  notice: ResumeNotice | undefined;
}

/** An adapter with a switch to cut its connection for a while, and notices when reads resume. */
export interface NetworkSwitch<E> {
  readonly adapter: SessionAdapter<E>;
  get(): NetworkState;
  /** Svelte's store contract: `cb` now and on every change. Returns an unsubscribe function. */
  subscribe(cb: (state: NetworkState) => void): () => void;
  /**
   * Cut this tab's connection for `ms`: running reads fail as a network error would, new
   * reads and appends wait until it is back (the session shows `reconnecting`, the server
   * keeps writing; when it is back the session reads only what it missed).
   */
  drop(ms?: number): void;
  /** Restore the connection now. */
  restore(): void;
  /** Hide the current notice. */
  dismiss(): void;
}

/**
 * Wrap an adapter with a demo "drop connection" switch and resume notices.
 * @example
 * const network = networkSwitch(httpAdapter({ baseUrl: location.origin }));
 * createDurableSession({ sessionId, adapter: network.adapter });
 * network.drop(3000);
 */
export function networkSwitch<E>(inner: SessionAdapter<E>): NetworkSwitch<E> {
  let state: NetworkState = { dropped: false, restoresAt: undefined, notice: undefined };
  const listeners = new Set<(state: NetworkState) => void>();
  const set = (patch: Partial<NetworkState>): void => {
    state = { ...state, ...patch };
    for (const listener of listeners) listener(state);
  };
  const cutters = new Set<AbortController>();
  let waiters: Array<() => void> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let reads = 0;
  let notices = 0;

  /** Resolves when the connection is up (at once if it is), or when `signal` aborts. */
  const connected = (signal: AbortSignal | undefined): Promise<void> =>
    !state.dropped || signal?.aborted
      ? Promise.resolve()
      : new Promise((resolve) => {
          const done = (): void => {
            signal?.removeEventListener('abort', done);
            resolve();
          };
          waiters.push(done);
          signal?.addEventListener('abort', done, { once: true });
        });
  const cut = (signal: AbortSignal): { controller: AbortController; release: () => void } => {
    const controller = new AbortController();
    const forward = (): void => controller.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    cutters.add(controller);
    return { controller, release: () => (cutters.delete(controller), signal.removeEventListener('abort', forward)) };
  };
  const dropped = (cause: unknown): DurableSessionError =>
    new DurableSessionError('network', 'the connection was dropped (playground switch)', { cause });

  /** Where the newest snapshot page fetched ends: a read from there is a fresh start, not a restore. */
  let pageOffset: string | undefined;
  const fetchPage = inner.snapshot?.bind(inner);
  const adapter: SessionAdapter<E> = {
    async *read(sessionId, offset, options) {
      const first = ++reads === 1;
      await connected(options.signal);
      if (options.signal.aborted) return;
      const { controller, release } = cut(options.signal);
      let caughtUp = 0;
      let announced = offset === '-1' || offset === pageOffset;
      try {
        for await (const batch of inner.read(sessionId, offset, { ...options, signal: controller.signal })) {
          caughtUp += batch.events.length;
          if (!announced && batch.upToDate) {
            announced = true;
            set({ notice: { id: ++notices, kind: first ? 'restored' : 'resumed', from: offset, caughtUp } });
          }
          yield batch;
        }
      } catch (error) {
        if (controller.signal.aborted && !options.signal.aborted) throw dropped(error);
        throw error;
      } finally {
        release();
      }
    },
    ...(fetchPage && {
      async snapshot(sessionId, request, options) {
        await connected(options.signal);
        const page = await fetchPage(sessionId, request, options);
        if (request.before === undefined) pageOffset = page.offset;
        return page;
      },
    }),
    async append(sessionId, event, options) {
      await connected(options.signal);
      const { controller, release } = cut(options.signal ?? new AbortController().signal);
      try {
        await inner.append(sessionId, event, { ...options, signal: controller.signal });
      } catch (error) {
        if (controller.signal.aborted && !options.signal?.aborted) throw dropped(error);
        throw error;
      } finally {
        release();
      }
    },
  };
  const presence = inner.presence?.bind(inner);
  if (presence) {
    // A dropped tab cannot say it is watching either.
    adapter.presence = async (sessionId, beat, options) => {
      if (state.dropped && !beat.leave) throw dropped(undefined);
      return presence(sessionId, beat, options);
    };
  }

  const restore = (): void => {
    clearTimeout(timer);
    if (!state.dropped) return;
    set({ dropped: false, restoresAt: undefined });
    const ready = waiters;
    waiters = [];
    for (const resume of ready) resume();
  };

  return {
    adapter,
    get: () => state,
    subscribe(cb) {
      listeners.add(cb);
      cb(state);
      return () => listeners.delete(cb);
    },
    drop(ms = 3000) {
      clearTimeout(timer);
      set({ dropped: true, restoresAt: Date.now() + ms });
      for (const controller of cutters) controller.abort(dropped(undefined));
      timer = setTimeout(restore, ms);
    },
    restore,
    dismiss: () => set({ notice: undefined }),
  };
}
