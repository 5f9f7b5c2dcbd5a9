'use client';
import { useMemo, useRef, useSyncExternalStore } from 'react';
import {
  createDurableSession,
  placeholderSnapshot,
  subscribeFrames,
  type AppEvent,
  type DurableSession,
  type DurableSessionOptions,
  type SessionSnapshot,
  type SessionState,
} from '@durable-session/core';

/**
 * What {@link useDurableSession} takes: options (the hook creates the session and
 * closes it on unmount) or a session you created (the hook never closes it).
 * @example
 * const source: DurableSessionSource = { sessionId: 'chat-1', adapter };
 */
export type DurableSessionSource<E extends AppEvent = never, S extends SessionState = SessionState> =
  | DurableSessionOptions<E, S>
  | DurableSession<E, S>;

/**
 * The session's methods, stable for the lifetime of the hook's session.
 * @example
 * const { send, cancel, steer } = useDurableSession(session);
 */
export type DurableSessionActions<E extends AppEvent = never> = Pick<DurableSession<E>, 'send' | 'cancel' | 'steer' | 'emit'>;

/**
 * What {@link useDurableSession} returns: the snapshot (or the selected fields) plus the methods.
 * @example
 * const chat: UseDurableSessionResult<SessionSnapshot> = useDurableSession({ sessionId, adapter });
 */
export type UseDurableSessionResult<T extends object, E extends AppEvent = never> = T & DurableSessionActions<E>;

interface Handle<E extends AppEvent, S extends SessionState> {
  get(): SessionSnapshot<S>;
  server(): SessionSnapshot<S>;
  subscribe(onChange: () => void): () => void;
  /** Run a method on the session (created if needed, kept open until the call settles). */
  run<R>(method: (session: DurableSession<E, S>) => Promise<R>): Promise<R>;
}

const isSession = <E extends AppEvent, S extends SessionState>(s: DurableSessionSource<E, S>): s is DurableSession<E, S> =>
  typeof (s as DurableSession<E, S>).subscribe === 'function';

function handle<E extends AppEvent, S extends SessionState>(source: DurableSessionSource<E, S>): Handle<E, S> {
  if (isSession(source)) {
    return { get: () => source.get(), server: () => source.get(), subscribe: (cb) => subscribeFrames(source, cb), run: (method) => method(source) };
  }
  // Created lazily by the first subscriber (an effect: never on the server), closed a
  // tick after the last one left, so StrictMode's unmount + remount keeps one session.
  const placeholder = placeholderSnapshot(source);
  let session: DurableSession<E, S> | undefined;
  let closed = false;
  let users = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const create = (): DurableSession<E, S> => ((closed = false), (session = createDurableSession<E, S>(source)));
  const release = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!users && session && !closed) void ((closed = true), session.close());
    });
  };
  return {
    get: () => session?.get() ?? placeholder,
    server: () => placeholder,
    subscribe(cb) {
      users++;
      clearTimeout(timer);
      const stop = subscribeFrames(!session || closed ? create() : session, cb);
      return () => (stop(), users--, release());
    },
    run(method) {
      users++;
      clearTimeout(timer);
      const done = (): void => (users--, release());
      const result = method(session ?? create()); // after unmount: the closed session rejects
      result.then(done, done);
      return result;
    },
  };
}

function shallowEqual(a: object, b: object): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Render a durable session. Re-renders at most once per animation frame while an
 * answer streams, with the latest snapshot (nothing is lost from the text).
 *
 * Given options, the hook creates the session in an effect (never during render or
 * on the server, where it renders an empty `connecting` snapshot) and closes it on
 * unmount; it is created once per `sessionId` (other options are read at creation).
 * Given a session, it never closes it. Safe under StrictMode.
 *
 * With `selector`, it re-renders only when a field of the object it returns changes
 * (compared shallowly, so returning a new object literal is fine).
 * @param source Options for a session the hook owns, or a session.
 * @param selector Picks the fields to render from the snapshot.
 * @returns The snapshot (or the selected fields) plus `send`, `cancel`, `steer` and `emit`.
 * @example
 * function Chat() {
 *   const chat = useDurableSession({ sessionId: 'chat-1', adapter });
 *   return (
 *     <>
 *       {chat.turns.map((t) => <p key={t.turnId}>{t.prompt}: {t.text}</p>)}
 *       <button onClick={() => chat.send('Hello')}>Send</button>
 *       <button onClick={() => chat.cancel()}>Stop</button>
 *     </>
 *   );
 * }
 * // only re-render when the status changes:
 * const { status } = useDurableSession(session, (s) => ({ status: s.status }));
 */
export function useDurableSession<E extends AppEvent = never, S extends SessionState = SessionState, T extends object = SessionSnapshot<S>>(
  source: DurableSessionSource<E, S>,
  selector?: (snapshot: SessionSnapshot<S>) => T,
): UseDurableSessionResult<T, E> {
  const h = useMemo(() => handle(source), [isSession(source) ? source : source.sessionId]);
  const cache = useRef<{ snap?: SessionSnapshot<S>; selector?: typeof selector; value?: T }>({});
  const select = (snap: SessionSnapshot<S>): T => {
    const c = cache.current;
    if (c.snap === snap && c.selector === selector) return c.value as T;
    const next = selector ? selector(snap) : (snap as unknown as T);
    if (!(selector && c.value && shallowEqual(c.value, next))) c.value = next;
    c.snap = snap;
    c.selector = selector;
    return c.value as T;
  };
  const value = useSyncExternalStore(h.subscribe, () => select(h.get()), () => select(h.server()));
  const actions = useMemo<DurableSessionActions<E>>(
    () => ({
      send: (text, options) => h.run((s) => s.send(text, options)),
      cancel: (turnId) => h.run((s) => s.cancel(turnId)),
      steer: (text, turnId) => h.run((s) => s.steer(text, turnId)),
      emit: (event) => h.run((s) => s.emit(event)),
    }),
    [h],
  );
  return useMemo(() => ({ ...value, ...actions }), [value, actions]);
}
