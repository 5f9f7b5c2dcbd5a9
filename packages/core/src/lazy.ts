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
 * Whether `source` is a session rather than options for one.
 * @example
 * if (!isDurableSession(source)) console.log('the binding owns this session');
 */
export const isDurableSession = <E extends AppEvent, S extends SessionState>(
  source: DurableSessionSource<E, S>,
): source is DurableSession<E, S> => typeof (source as DurableSession<E, S>).subscribe === 'function';

/**
 * Wrap a {@link DurableSessionSource} for a binding. Given options, the session is created
 * by its first subscriber or method call (an effect: never on the server) and closed a
 * tick after the last one left. Given a session, it is used as is and never closed.
 * @example
 * const lazy = lazySession({ sessionId: 'chat-1', adapter });
 * const stop = lazy.subscribe(() => console.log(lazy.get().status));
 * await lazy.run((s) => s.send('Hello'));
 * stop(); // closes the session a tick later, unless someone subscribes again
 */
export function lazySession<E extends AppEvent = never, S extends SessionState = SessionState>(
  source: DurableSessionSource<E, S>,
): LazySession<E, S> {
  if (isDurableSession(source)) {
    return { get: () => source.get(), placeholder: source.get(), subscribe: (cb) => subscribeFrames(source, cb), run: (method) => method(source) };
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
      timer = setTimeout(() => {
        if (!users && session && !closed) void ((closed = true), session.close());
      });
    };
  };
  return {
    get: () => session?.get() ?? placeholder,
    placeholder,
    subscribe(cb) {
      const release = use();
      const stop = subscribeFrames(open(), cb);
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
