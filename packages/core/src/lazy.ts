import type { AppEvent } from './events';
import { placeholderSnapshot, subscribeFrames } from './frame';
import { createDurableSession } from './session';
import type { DurableSession, DurableSessionOptions, SessionSnapshot, SessionState } from './types';

/**
 * Options for a session to create, or a session created elsewhere.
 * @example
 * const source: DurableSessionSource = { sessionId: 'chat-1', adapter };
 */
export type DurableSessionSource<E extends AppEvent = never, S extends SessionState = SessionState> =
  | DurableSessionOptions<E, S>
  | DurableSession<E, S>;

/**
 * A session created on first use and closed a tick after its last user left: what a
 * framework binding needs so that a remount (React StrictMode, a toggled `{#if}`) keeps
 * one session, and server rendering never opens one.
 * @example
 * const lazy = lazySession({ sessionId: 'chat-1', adapter });
 * const stop = lazy.subscribe(() => render(lazy.get()));
 */
export interface LazySession<E extends AppEvent = never, S extends SessionState = SessionState> {
  /** The session's snapshot, or an empty `connecting` one before it exists. */
  get(): SessionSnapshot<S>;
  /** The empty `connecting` snapshot, for server rendering. */
  readonly placeholder: SessionSnapshot<S>;
  /** Creates the session if needed; calls back at most once per animation frame. */
  subscribe(onChange: () => void): () => void;
  /** Run a method on the session (created if needed, kept open until the call settles). */
  run<R>(method: (session: DurableSession<E, S>) => Promise<R>): Promise<R>;
}

/**
 * The session methods a binding hands out.
 * @example
 * const methods: SessionMethods = sessionMethods(lazy.run);
 */
export type SessionMethods<E extends AppEvent = never, S extends SessionState = SessionState> = Pick<DurableSession<E, S>, 'send' | 'cancel' | 'steer' | 'answer' | 'emit' | 'loadOlder'>;

/**
 * `send`, `cancel`, `steer`, `emit` and `loadOlder`, each run on the session `run` gives (a
 * {@link LazySession}'s `run`): the one method set every binding returns.
 * @example
 * const { send, cancel } = sessionMethods(lazySession(options).run);
 */
export function sessionMethods<E extends AppEvent = never, S extends SessionState = SessionState>(run: LazySession<E, S>['run']): SessionMethods<E, S> {
  return {
    send: (...args) => run((session) => session.send(...args)),
    cancel: (...args) => run((session) => session.cancel(...args)),
    steer: (...args) => run((session) => session.steer(...args)),
    answer: (...args) => run((session) => session.answer(...args)),
    emit: (...args) => run((session) => session.emit(...args)),
    loadOlder: (...args) => run((session) => session.loadOlder(...args)),
  };
}

/**
 * Whether two objects have the same own keys with `Object.is`-equal values (what a binding's
 * selector compares, so that returning a new object literal does not re-render).
 * @example
 * shallowEqual({ status: 'live' }, { status: 'live' }); // true
 */
export function shallowEqual(left: object, right: object): boolean {
  const keys = Object.keys(left);
  return (
    keys.length === Object.keys(right).length &&
    keys.every((key) => Object.is((left as Record<string, unknown>)[key], (right as Record<string, unknown>)[key]))
  );
}

/**
 * Whether `source` is a session rather than options for one.
 * @example
 * if (!isDurableSession(source)) console.log('the binding owns this session');
 */
export const isDurableSession = <E extends AppEvent, S extends SessionState>(
  source: DurableSessionSource<E, S>,
): source is DurableSession<E, S> => typeof (source as DurableSession<E, S>).subscribe === 'function';

/**
 * Options of {@link lazySession}.
 * @example
 * const lazy = lazySession(source, { linger: false }); // Vue: close as soon as the scope is disposed
 */
export interface LazySessionOptions {
  /**
   * Keep an owned session open for a tick after its last user left, so that an unmount followed
   * by a mount (React StrictMode, a toggled `{#if}`) keeps it. Default `true`; `false` closes at once.
   */
  linger?: boolean;
}

/**
 * Wrap a {@link DurableSessionSource} for a binding. Given options, the session is created
 * by its first subscriber or method call (an effect: never on the server) and closed a
 * tick after the last one left (at once with `linger: false`). Given a session, it is used as is
 * and never closed.
 * @example
 * const lazy = lazySession({ sessionId: 'chat-1', adapter });
 * const stop = lazy.subscribe(() => console.log(lazy.get().status));
 * await lazy.run((s) => s.send('Hello'));
 * stop(); // closes the session a tick later, unless someone subscribes again
 */
export function lazySession<E extends AppEvent = never, S extends SessionState = SessionState>(
  source: DurableSessionSource<E, S>,
  options: LazySessionOptions = {},
): LazySession<E, S> {
  if (isDurableSession(source)) {
    return { get: () => source.get(), placeholder: source.get(), subscribe: (callback) => subscribeFrames(source, callback), run: (method) => method(source) };
  }
  const placeholder = placeholderSnapshot(source);
  let session: DurableSession<E, S> | undefined;
  let closed = false;
  let users = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const open = (): DurableSession<E, S> => {
    if (!session || closed) {
      closed = false;
      session = createDurableSession<E, S>(source);
    }
    return session;
  };
  const use = (): (() => void) => {
    users++;
    clearTimeout(timer);
    return () => {
      users--;
      clearTimeout(timer);
      const closeIfUnused = (): void => {
        if (!users && session && !closed) void ((closed = true), session.close());
      };
      if (options.linger === false) closeIfUnused();
      else timer = setTimeout(closeIfUnused);
    };
  };
  return {
    get: () => session?.get() ?? placeholder,
    placeholder,
    subscribe(callback) {
      const release = use();
      const stop = subscribeFrames(open(), callback);
      return () => (stop(), release());
    },
    run(method) {
      const release = use();
      // After the last user left, the closed session rejects with `closed`.
      const result = method(session ?? open());
      result.then(release, release);
      return result;
    },
  };
}
