import { createNanoEvents } from 'nanoevents';
import { createBackoff } from './backoff';
import { DurableSessionError } from './errors';
import type { AppEvent } from './events';
import { createSaver, openPersistence, type PersistedSession, type SessionPersistence } from './persistence';
import { initialSessionState, reduceSession } from './reducer';
import { linkTabs, type TabLink } from './tabs';
import type {
  AnySessionEvent,
  DurableSession,
  DurableSessionEvents,
  DurableSessionOptions,
  ReadBatch,
  Reducer,
  SessionSnapshot,
  SessionState,
} from './types';
import { isAfterOffset, randomId, toError } from './util';

/**
 * Where a session gets its batches from, starting after `offset`, until `signal` aborts:
 * the adapter's live read (solo and leader tabs; followers get theirs from the leader, see `tabs.ts`).
 * @example
 * const network: BatchSource<SessionEvent> = (offset, signal) =>
 *   adapter.read(sessionId, offset, { live: true, signal });
 */
export type BatchSource<E> = (offset: string, signal: AbortSignal) => AsyncIterable<ReadBatch<E>>;

/**
 * The `localStorage` key keeping the default client id.
 * @example
 * localStorage.removeItem(CLIENT_ID_KEY); // the next session gets a new client id
 */
export const CLIENT_ID_KEY = 'durable-session:client-id';

const online = (): boolean => globalThis.navigator?.onLine !== false;

/**
 * Run application code (a subscriber, an `on(...)` listener) so that what it throws cannot break
 * the session: like an `EventTarget` listener, the exception is reported to the host
 * (`window.onerror` / `error` event, `uncaughtException` in Node) and the other callbacks still run.
 */
const guard =
  (cb: (...args: never[]) => void) =>
  (...args: never[]): void => {
    try {
      cb(...args);
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  };

/** A random client id, kept in `localStorage` when it works. */
function defaultClientId(warn: (e: DurableSessionError) => void): string {
  try {
    const store = globalThis.localStorage;
    const id = store?.getItem(CLIENT_ID_KEY) || randomId();
    store?.setItem(CLIENT_ID_KEY, id);
    return id;
  } catch (e) {
    // Emitted after creation, once the caller could listen.
    queueMicrotask(() => warn(new DurableSessionError('persistence', 'localStorage failed; the client id is not kept', { cause: e })));
    return randomId();
  }
}

/**
 * Open a durable session: a store over the session's log that reads (catch-up, then live),
 * folds events into a snapshot exactly once and in order, persists offset and state to
 * IndexedDB, reconnects with backoff, and appends `prompt`/`cancel`/`steer`/application
 * events idempotently.
 *
 * - Starts at once: renders the state saved in IndexedDB (`resumed: true`) and reads
 *   only what follows its offset. Without IndexedDB (missing, failing, or not open within 2 s,
 *   as WebKit's sometimes never does) it keeps the state in memory (`persistence: 'memory'`,
 *   plus a `warning`).
 * - Reconnects with full-jitter backoff (reset only by a batch of the live read, after catch-up:
 *   a catch-up that keeps working while the live read keeps failing still backs off), at once on
 *   `online`, and not at all while the browser is offline (`status: 'offline'`). A read failing
 *   with `gone` (410; with `httpAdapter` also a 404 or 400 at an offset other than `-1`: the
 *   stream was deleted, expired or lost in a server restart) rebuilds from the start with
 *   `recovered: false` and `status: 'reconnecting'` (which re-creates a missing stream): at once,
 *   or after a backoff when the failed read was already from the start. Every other read failure
 *   (401/403 included: a `headers` function on the adapter can refresh credentials) is reported
 *   as an `error` event and in `snapshot.error`, and retried.
 * - Appends go one at a time, in call order, as producer `(random id per session object,
 *   epoch, seq)`: a retried append never lands twice. Retryable failures (network, 5xx, 429)
 *   are retried with the same backoff (each reported as a `warning`) until they succeed or
 *   the session closes; others reject (and are reported as an `error`), except a `conflict` past
 *   seq 0, the server's answer to a sequence gap once it forgot the producer (a restart): that
 *   append is retried once at once, in a new epoch from seq 0 (reported as a `warning`).
 * - Subscribers and `on(...)` listeners are isolated: one that throws neither stops the others nor
 *   the session (applying, saving, reading); its exception is reported to the host as an uncaught
 *   error (`window.onerror`, like an `EventTarget` listener's), not as a session `error`.
 * - Tabs (`tabs: true`, the default, where Web Locks and BroadcastChannel exist): one tab per
 *   browser holds the session's Web Lock and the only network read, and rebroadcasts each batch
 *   it applies; the other tabs apply the same batches (exactly once, in order: a gap makes them
 *   ask the leader, which answers from its ring of recent batches or with its state) and show
 *   its status. When the leader goes, another tab takes the lock and reads from its own offset.
 *   Only the leader (or a solo tab) writes IndexedDB.
 * - `close()` aborts reads and pending appends (they reject with `closed`), flushes persistence
 *   and releases the tab lock.
 * @example
 * const session = createDurableSession({ sessionId: 'chat-1', adapter: httpAdapter({ baseUrl }) });
 * const stop = session.subscribe((s) => render(s.turns, s.status));
 * const turnId = await session.send('Hello');
 * await session.cancel(turnId);
 */
export function createDurableSession<E extends AppEvent = never, S extends SessionState = SessionState>(
  options: DurableSessionOptions<E, S>,
): DurableSession<E, S> {
  type Ev = AnySessionEvent<E>;
  type Snapshot = SessionSnapshot<S>;
  const { sessionId, adapter, reconnect } = options;
  const reduce = options.reduce ?? (reduceSession as Reducer<S, Ev>);
  const initial = options.initialState ?? (initialSessionState as S);
  const emitter = createNanoEvents<DurableSessionEvents<E> & { change: (s: Snapshot) => void }>();
  const warn = (e: DurableSessionError): void => emitter.emit('warning', e);
  const fail = (e: DurableSessionError): void => emitter.emit('error', e);
  const source: BatchSource<Ev> = (offset, signal) => adapter.read(sessionId, offset, { live: true, signal });

  const clientId = options.clientId || defaultClientId(warn);

  let snap: Snapshot = {
    sessionId,
    status: 'connecting',
    offset: '-1',
    state: initial,
    turns: initial.turns,
    activeTurnId: initial.activeTurnId,
    recovered: true,
    resumed: false,
    persistence: options.persistence === 'memory' || typeof indexedDB === 'undefined' ? 'memory' : 'indexeddb',
    // A coordinated tab follows until it gets the lock (and only looks for a leader once IndexedDB was read).
    tabs: options.tabs !== false && globalThis.navigator?.locks && typeof BroadcastChannel === 'function' ? 'follower' : 'solo',
    error: undefined,
  };
  let tabs: TabLink<Ev> | undefined;
  const set = (patch: Partial<Snapshot>): void => {
    const prev = snap;
    if ((Object.keys(patch) as (keyof Snapshot)[]).every((k) => patch[k] === prev[k])) return;
    snap = { ...prev, ...patch };
    emitter.emit('change', snap);
    if (snap.status !== prev.status) {
      tabs?.status();
      emitter.emit('status', snap.status);
    }
  };
  const setState = (state: S, patch: Partial<Snapshot>): void =>
    set({ state, turns: state.turns, activeTurnId: state.activeTurnId, ...patch });

  // Persistence: one record per session, coalesced writes; any failure degrades to memory.
  let db: SessionPersistence<S> | undefined;
  let degraded = false;
  const degrade = (cause: unknown): void => {
    if (degraded) return;
    degraded = true;
    db?.close();
    db = undefined;
    set({ persistence: 'memory' });
    warn(new DurableSessionError('persistence', `IndexedDB failed (${(cause as Error)?.message}); keeping the session in memory`, { cause }));
  };
  const saver = createSaver<PersistedSession<S>>((record) => (db ? db.write(record).catch(degrade) : Promise.resolve()));
  const save = (now?: boolean): void => saver.save({ offset: snap.offset, state: snap.state }, now);

  // Sleeping (backoff, offline) ends early on `online` and on close.
  const wakers = new Set<() => void>();
  const sleep = (ms?: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      wakers.add(done);
    });
  const wake = (): void => wakers.forEach((w) => w());

  let closed = false;
  let reader: AbortController | undefined;
  const life = new AbortController();
  const closedError = (): DurableSessionError => new DurableSessionError('closed', `session ${sessionId} is closed`);

  const apply = (batch: ReadBatch<Ev>): void => {
    const from = snap.offset;
    const live: Partial<Snapshot> = batch.upToDate ? { status: 'live', error: undefined } : {};
    if (!isAfterOffset(batch.offset, snap.offset)) {
      if (batch.events.length) warn(new DurableSessionError('protocol', `dropped a repeated batch ending at ${batch.offset}`));
      set(live);
      return;
    }
    let state = snap.state;
    for (const event of batch.events) {
      try {
        state = reduce(state, event);
      } catch (e) {
        fail(new DurableSessionError('protocol', `the reducer threw on a "${event.type}" event; skipped it`, { cause: e }));
      }
    }
    tabs?.applied(from, batch); // the leader rebroadcasts before its own subscribers render
    setState(state, { offset: batch.offset, ...live });
    // Followers leave IndexedDB to the leader (same record, same content).
    if (snap.tabs !== 'follower') save(batch.events.some((e) => e.type === 'turn.end'));
    for (const event of batch.events) emitter.emit('event', { event, offset: batch.offset });
  };

  const run = async (): Promise<void> => {
    await load();
    if (closed) return;
    tabs =
      options.tabs === false
        ? undefined
        : linkTabs<Ev, S>(sessionId, {
            get: () => snap,
            apply,
            adopt: (offset, state, reset) => setState(state, reset ? { offset, recovered: false, resumed: false } : { offset }),
            status: (status) => set({ status }),
            lead(leader) {
              if (!leader) tabs = undefined;
              set({ tabs: leader ? 'leader' : 'solo' });
              read().catch((e: unknown) => fail(toError(e)));
            },
            warn,
          });
    if (!tabs) {
      set({ tabs: 'solo' });
      await read();
    }
  };

  const load = async (): Promise<void> => {
    if (snap.persistence === 'indexeddb') {
      try {
        const opened = await openPersistence<S>(sessionId);
        if (closed) return opened.close();
        db = opened;
        if (opened.saved && opened.saved.offset !== '-1') setState(opened.saved.state, { offset: opened.saved.offset, resumed: true });
      } catch (e) {
        degrade(e);
      }
    } else if (options.persistence !== 'memory') {
      await Promise.resolve(); // emitted after creation, once the caller could listen
      degrade(new DurableSessionError('persistence', 'IndexedDB is unavailable'));
    }
  };

  // The network read (solo or leader tab): catch-up, then live, reconnecting with backoff.
  const read = async (): Promise<void> => {
    const backoff = createBackoff(reconnect);
    while (!closed) {
      if (!online()) {
        set({ status: 'offline' });
        await sleep();
        continue;
      }
      if (snap.status === 'offline') set({ status: 'reconnecting' });
      const ctrl = (reader = new AbortController());
      const from = snap.offset;
      let live = false;
      try {
        for await (const batch of source(from, ctrl.signal)) {
          if (closed || ctrl.signal.aborted) break;
          apply(batch);
          // Healthy means a batch of the live read, after catch-up: every retry's catch-up succeeding
          // while its live read keeps failing must still back off.
          if (live) backoff.reset();
          live ||= batch.upToDate;
          if (batch.closed) return set({ status: 'closed' });
        }
        if (!closed && !ctrl.signal.aborted) throw new DurableSessionError('network', 'the read ended');
      } catch (e) {
        if (closed || ctrl.signal.aborted) continue; // closing, or gone offline
        const err = toError(e);
        if (err.code === 'gone' && snap.offset !== '-1') {
          // The store lost events we had not read (retention, or the stream was deleted, expired or
          // lost in a server restart): rebuild from what it holds now, at once unless this read was
          // already from the start (then back off: no tight loop against a store that keeps failing).
          setState(initial, { offset: '-1', recovered: false, resumed: false, status: 'reconnecting' });
          save(true);
          tabs?.reset();
          warn(err);
          if (from !== '-1') continue;
        } else {
          set({ status: 'reconnecting', error: err });
          fail(err);
        }
        if (online()) await sleep(backoff.next());
      }
    }
  };

  // Appends run one at a time so that producer sequence numbers never have gaps.
  const producerId = randomId();
  let epoch = 0;
  let seq = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const append = (event: Ev): Promise<void> => {
    const attempt = async (): Promise<void> => {
      const backoff = createBackoff(reconnect);
      for (;;) {
        if (closed) throw closedError();
        try {
          await adapter.append(sessionId, event, { producerId, epoch, seq, signal: life.signal });
          seq++;
          return;
        } catch (e) {
          if (closed) throw closedError();
          const err = toError(e);
          if (!err.retryable) {
            // Whatever the server made of this seq, a new epoch starts clean at seq 0. A `conflict`
            // (409, nothing appended) past seq 0 is a sequence gap when the server forgot this
            // producer (a restart): retry once so.
            const gap = err.code === 'conflict' && seq > 0;
            epoch++;
            seq = 0;
            if (gap) {
              warn(err);
              continue;
            }
            fail(err);
            throw err;
          }
          warn(err);
          await sleep(online() ? backoff.next() : undefined);
        }
      }
    };
    const p = queue.then(attempt);
    queue = p.catch(() => {}); // the caller gets the rejection (and `error` was emitted)
    return p;
  };
  const reject = (message: string): Promise<never> =>
    Promise.reject(closed ? closedError() : new DurableSessionError('bad-input', message));
  const isText = (text: unknown): text is string => typeof text === 'string' && text.trim() !== '';

  const onOffline = (): void => reader?.abort();
  const onPagehide = (): void => void saver.flush();
  const listen = (method: 'addEventListener' | 'removeEventListener'): void => {
    globalThis[method]?.('online', wake);
    globalThis[method]?.('offline', onOffline);
    globalThis[method]?.('pagehide', onPagehide);
  };
  listen('addEventListener');
  run().catch((e: unknown) => fail(toError(e)));

  let closing: Promise<void> | undefined;
  return {
    sessionId,
    clientId,
    get: () => snap,
    subscribe(cb) {
      const g = guard(cb) as typeof cb;
      g(snap);
      return emitter.on('change', g);
    },
    on: (name, cb) => emitter.on(name, guard(cb) as never),
    send(text, { turnId = randomId() } = {}) {
      if (closed || !isText(text) || !turnId) return reject('send() needs a non-empty text');
      return append({ type: 'prompt', turnId, text, clientId }).then(() => turnId);
    },
    cancel(turnId = snap.activeTurnId) {
      if (closed || !turnId) return reject('cancel(): no active turn');
      return append({ type: 'cancel', turnId, clientId });
    },
    steer(text, turnId = snap.activeTurnId) {
      if (closed || !isText(text) || !turnId) return reject('steer() needs a non-empty text and a turn');
      return append({ type: 'steer', turnId, text, clientId });
    },
    emit(event) {
      if (closed || typeof event?.type !== 'string') return reject('emit() needs an event with a string type');
      return append(event);
    },
    close() {
      return (closing ??= (async () => {
        closed = true;
        tabs?.close();
        tabs = undefined;
        life.abort();
        reader?.abort();
        wake();
        listen('removeEventListener');
        set({ status: 'closed' });
        await saver.flush();
        db?.close();
      })());
    },
  };
}
