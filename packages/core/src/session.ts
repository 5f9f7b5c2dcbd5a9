import { createAppendQueue } from './append-queue';
import { defaultClientId } from './client-id';
import { DurableSessionError } from './errors';
import type { AppEvent } from './events';
import { environment } from './environment';
import { createReadLoop, type BatchSource } from './read-loop';
import { initialSessionState, reduceSession } from './reducer';
import { sessionRecord } from './session-record';
import { createSnapshotStore, initialSnapshot, type SnapshotStore } from './snapshot-store';
import type { Paging, PagingHost } from './older-turns';
import { beatPresence } from './presence-beat';
import { linkTabs, type TabHost, type TabLink } from './tabs';
import type { AnySessionEvent, DurableSession, DurableSessionOptions, Question, ReadBatch, Reducer, SessionState, Turn, WriteOptions } from './types';
import { isAfterOffset, isolate, randomId, toError } from './util';

export { CLIENT_ID_KEY } from './client-id';
export type { BatchSource } from './read-loop';

/** What applying a batch touches besides the snapshot. */
interface ApplyHost<E extends AppEvent, S extends SessionState> {
  store: SnapshotStore<E, S>;
  reduce: Reducer<S, AnySessionEvent<E>>;
  tabs(): TabLink<AnySessionEvent<E>> | undefined;
  save(now: boolean): void;
  /** Called with every batch applied (paging keeps them for older pages). */
  applied?(batch: ReadBatch<AnySessionEvent<E>>): void;
}

/**
 * Apply a batch exactly once and in order: a batch at or before the last applied offset is
 * dropped (a `warning` when it carried events); an event that is not an object with a string
 * `type`, or that the reducer throws on, is skipped (one `protocol` error each). The leader rebroadcasts before its own subscribers render; followers leave
 * IndexedDB to the leader (same record, same content).
 */
function applier<E extends AppEvent, S extends SessionState>({ store, reduce, tabs, save, applied }: ApplyHost<E, S>): (batch: ReadBatch<AnySessionEvent<E>>) => void {
  return (batch) => {
    const from = store.get().offset;
    const live = batch.upToDate ? { status: 'live' as const, error: undefined } : {};
    if (!isAfterOffset(batch.offset, from)) {
      if (batch.events.length) store.warn(new DurableSessionError('protocol', `repeated batch ${batch.offset}`));
      return store.set(live);
    }
    let state = store.get().state;
    // What cannot be folded (not an object with a string `type`, or the reducer throws) is skipped
    // and reported once: the offset still moves past it, so the fold never stalls.
    const events = batch.events.filter((event) => {
      try {
        if (typeof event?.type !== 'string') throw new TypeError('no string type');
        state = reduce(state, event);
        return true;
      } catch (error) {
        store.fail(new DurableSessionError('protocol', `unfoldable event before ${batch.offset}`, { cause: error }));
        return false;
      }
    });
    tabs()?.applied(from, batch);
    store.setState(state, { offset: batch.offset, ...live });
    applied?.({ ...batch, events });
    if (store.get().tabs !== 'follower') save(events.some((event) => event.type === 'turn.end'));
    for (const event of events) store.emitter.emit('event', { event, offset: batch.offset });
  };
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
  type Event = AnySessionEvent<E>;
  const { sessionId, adapter, reconnect } = options;
  const reduce = options.reduce ?? (reduceSession as Reducer<S, Event>);
  const initial = options.initialState ?? (initialSessionState as S);
  const life = new AbortController();
  const { signal } = life;
  const store = createSnapshotStore<E, S>(initialSnapshot(options));
  const { get, set, warn, fail } = store;
  const clientId = options.clientId || defaultClientId(warn);
  const record = sessionRecord<S>({
    sessionId,
    requested: options.persistence,
    signal,
    current: () => ({ offset: get().offset, state: get().state }),
    degraded: () => set({ persistence: 'memory' }),
    warn,
  });
  let tabs: TabLink<Event> | undefined;
  store.emitter.on('status', () => tabs?.status());
  const paging = pagingOf(options, store, initial, signal, () => record.save(true));
  const apply = applier<E, S>({ store, reduce, tabs: () => tabs, save: record.save, applied: paging?.record });
  const network: BatchSource<Event> = (offset, readSignal) => adapter.read(sessionId, offset, { live: true, signal: readSignal });
  const loop = createReadLoop<Event>({
    source: paging?.source(network) ?? network,
    reconnect,
    signal,
    snapshot: get,
    set,
    apply,
    rebuild(error) {
      paging?.reset();
      store.setState(initial, { offset: '-1', recovered: false, resumed: false, status: 'reconnecting', olderTurns: 0 });
      record.save(true);
      tabs?.reset();
      warn(error);
    },
    fail,
  });
  const closedError = (): DurableSessionError => new DurableSessionError('closed', `${sessionId} closed`);
  const queue = () => createAppendQueue<Event>({ sessionId, adapter, reconnect, signal, closedError, warn, fail });
  const [append, appendAnswer] = [queue(), queue()]; // answers on their own producer: the server stores each under its question's
  const start = async (): Promise<void> => {
    const saved = await record.load();
    if (signal.aborted) return;
    if (saved && saved.offset !== '-1') store.setState(saved.state, { offset: saved.offset, resumed: true });
    tabs =
      options.tabs === false
        ? undefined
        : linkTabs<Event, S>(sessionId, tabHost(store, apply, (leader) => {
            if (!leader) tabs = undefined;
            set({ tabs: leader ? 'leader' : 'solo' });
            loop.run().catch((error: unknown) => fail(toError(error)));
          }));
    if (!tabs) {
      set({ tabs: 'solo' });
      await loop.run();
    }
  };
  const unlisten = [environment.listen('offline', loop.interrupt), environment.listen('pagehide', () => void record.flush())];
  start().catch((error: unknown) => fail(toError(error)));
  if (options.presence) unlisten.push(beatPresence({ sessionId, clientId, adapter, signal, warn, set: (presence) => set({ presence }) }));
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      life.abort();
      tabs?.close();
      tabs = undefined;
      loop.interrupt();
      for (const stop of unlisten) stop();
      set({ status: 'closed' });
      await record.flush();
      record.close();
    })());
  const loadOlder = (turns?: number): Promise<number> => (signal.aborted ? Promise.reject(closedError()) : (paging?.loadOlder(turns) ?? Promise.resolve(0)));
  return { sessionId, clientId, get, ...subscriptions(store), ...writers<E, S>({ append, appendAnswer, clientId, closed: () => signal.aborted, closedError, get }), loadOlder, close };
}

/** Paging through server snapshots, when the `snapshot` option asks for it (see `older-turns.ts`). */
function pagingOf<E extends AppEvent, S extends SessionState>(
  options: DurableSessionOptions<E, S>,
  store: SnapshotStore<E, S>,
  initial: S,
  signal: AbortSignal,
  save: () => void,
): Paging<E, S> | undefined {
  const wanted = options.snapshot;
  if (wanted === undefined || options.adapter.snapshot === undefined) return undefined; // no snapshot: the whole log
  if (options.reduce !== undefined) throw new DurableSessionError('bad-input', 'the snapshot option needs the default reducer (the server folds with reduceSession)');
  const start = wanted.start as (host: PagingHost<E, S>) => Paging<E, S>;
  return start({ sessionId: options.sessionId, adapter: options.adapter, store, initial, turns: wanted.turns, signal, save });
}

/** What the tabs link needs from a session: `lead` runs when this tab got the lock (or went solo). */
function tabHost<E extends AppEvent, S extends SessionState>(
  store: SnapshotStore<E, S>,
  apply: (batch: ReadBatch<AnySessionEvent<E>>) => void,
  lead: (leader: boolean) => void,
): TabHost<AnySessionEvent<E>, S> {
  return {
    get: store.get,
    apply,
    adopt: (offset, state, reset) => store.setState(state, reset ? { offset, recovered: false, resumed: false } : { offset }),
    status: (status) => store.set({ status }),
    lead,
    warn: store.warn,
  };
}

/** `subscribe` and `on`, with each callback isolated (what it throws harms nobody else). */
function subscriptions<E extends AppEvent, S extends SessionState>(store: SnapshotStore<E, S>): Pick<DurableSession<E, S>, 'subscribe' | 'on'> {
  return {
    subscribe(callback) {
      const isolated = isolate(callback);
      isolated(store.get());
      return store.emitter.on('change', isolated);
    },
    on: (name, callback) => store.emitter.on(name, isolate(callback as (...args: unknown[]) => void) as never),
  };
}

/** What the write methods need. */
interface WriterHost<E extends AppEvent, S extends SessionState> {
  append(event: AnySessionEvent<E>, options?: WriteOptions): Promise<void>;
  appendAnswer(event: AnySessionEvent<E>): Promise<void>;
  clientId: string;
  closed(): boolean;
  closedError(): DurableSessionError;
  get(): { activeTurnId: S['activeTurnId']; turns: S['turns'] };
}

/** `send`, `cancel`, `steer`, `answer` and `emit`: check the input, then append. */
function writers<E extends AppEvent, S extends SessionState>(host: WriterHost<E, S>): Pick<DurableSession<E, S>, 'send' | 'cancel' | 'steer' | 'answer' | 'emit'> {
  const { append, clientId } = host;
  const reject = (message: string): Promise<never> =>
    Promise.reject(host.closed() ? host.closedError() : new DurableSessionError('bad-input', message));
  const isText = (text: unknown): text is string => typeof text === 'string' && text.trim() !== '';
  return {
    send(text, { turnId = randomId(), ...options } = {}) {
      if (host.closed() || !isText(text) || !turnId) return reject('empty text');
      return append({ type: 'prompt', turnId, text, clientId }, options).then(() => turnId);
    },
    cancel(turnId = host.get().activeTurnId, options) {
      if (host.closed() || !turnId) return reject('no turn');
      return append({ type: 'cancel', turnId, clientId }, options);
    },
    steer(text, turnId = host.get().activeTurnId, options) {
      if (host.closed() || !isText(text) || !turnId) return reject('steer() needs a non-empty text and a turn');
      const steerId = randomId();
      return append({ type: 'steer', turnId, text, clientId, steerId }, options).then(() => steerId);
    },
    answer(askId, choice) {
      const found = findQuestion(host.get().turns, askId);
      if (host.closed() || !found || typeof choice !== 'string' || !found.question.options.includes(choice)) {
        return reject('answer() needs an open question of this session and one of its options');
      }
      if (found.question.state !== 'open') {
        return Promise.reject(new DurableSessionError('already-answered', `question ${askId} is ${found.question.state}`));
      }
      return host.appendAnswer({ type: 'answer', turnId: found.turnId, askId, choice, clientId, answerId: randomId() });
    },
    emit(event, options) {
      if (host.closed() || typeof event?.type !== 'string') return reject('no string type');
      return append(event, options);
    },
  };
}

function findQuestion(turns: readonly Turn[], askId: string): { turnId: string; question: Question } | undefined {
  for (const turn of turns) {
    const question = turn.questions.find((q) => q.askId === askId);
    if (question) return { turnId: turn.turnId, question };
  }
  return undefined;
}
