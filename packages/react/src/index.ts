'use client';
import { useMemo, useRef, useSyncExternalStore } from 'react';
import {
  isDurableSession,
  lazySession,
  sessionMethods,
  shallowEqual,
  type AppEvent,
  type DurableSessionSource,
  type SessionMethods,
  type SessionSnapshot,
  type SessionState,
} from '@durable-session/core';

export type { DurableSessionSource };

/**
 * The session's methods, stable for the lifetime of the hook's session.
 * @example
 * const { send, cancel, steer } = useDurableSession(session);
 */
export type DurableSessionActions<E extends AppEvent = never> = SessionMethods<E>;

/**
 * What {@link useDurableSession} returns: the snapshot (or the selected fields) plus the methods.
 * @example
 * const chat: UseDurableSessionResult<SessionSnapshot> = useDurableSession({ sessionId, adapter });
 */
export type UseDurableSessionResult<T extends object, E extends AppEvent = never> = T & DurableSessionActions<E>;

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
 * @returns The snapshot (or the selected fields) plus `send`, `cancel`, `steer`, `answer` and `emit`.
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
  const lazy = useMemo(() => lazySession(source), [isDurableSession(source) ? source : source.sessionId]);
  const cache = useRef<{ snapshot?: SessionSnapshot<S>; selector?: typeof selector; value?: T }>({});
  const select = (snapshot: SessionSnapshot<S>): T => {
    const cached = cache.current;
    if (cached.snapshot === snapshot && cached.selector === selector) return cached.value as T;
    const next = selector ? selector(snapshot) : (snapshot as unknown as T);
    if (!(selector && cached.value && shallowEqual(cached.value, next))) cached.value = next;
    cached.snapshot = snapshot;
    cached.selector = selector;
    return cached.value as T;
  };
  const value = useSyncExternalStore(lazy.subscribe, () => select(lazy.get()), () => select(lazy.placeholder));
  const actions = useMemo(() => sessionMethods<E, S>(lazy.run), [lazy]);
  return useMemo(() => ({ ...value, ...actions }), [value, actions]);
}
