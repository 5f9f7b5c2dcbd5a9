import { createSubscriber } from 'svelte/reactivity';
import {
  createDurableSession,
  lazySession,
  sessionMethods,
  subscribeFrames,
  type AppEvent,
  type DurableSession,
  type DurableSessionOptions,
  type DurableSessionSource,
  type SessionMethods,
  type SessionSnapshot,
  type SessionState,
  type Subscribable,
} from '@durable-session/core';

export { createDurableSession, subscribeFrames };
export type { DurableSession, DurableSessionOptions, DurableSessionSource, SessionSnapshot, SessionState, Subscribable };

/**
 * A durable session for Svelte 5 runes: a reactive `current` snapshot plus the methods.
 * @example
 * const chat: DurableSessionRune = useDurableSession(session);
 * chat.current.turns;
 */
export interface DurableSessionRune<E extends AppEvent = never, S extends SessionState = SessionState> extends SessionMethods<E, S> {
  /** The snapshot. Reactive in templates, `$derived` and `$effect`; updates at most once per animation frame. */
  readonly current: SessionSnapshot<S>;
}

/**
 * Use a durable session with runes. `current` is reactive (through `createSubscriber`,
 * so no `.svelte.ts` compilation is needed) and changes at most once per animation
 * frame while an answer streams, with nothing lost from the text.
 *
 * Given options, the session is created when something first reads `current` in an
 * effect or template (never on the server: SSR renders an empty `connecting` snapshot)
 * and closed shortly after the last reader is destroyed. Given a session, it is never
 * closed for you. (The session itself is a Svelte store too: `$session` works.)
 * @param source Options for a session the helper owns, or a session.
 * @returns `{ current, send, cancel, steer, emit }`.
 * @example
 * <script lang="ts">
 *   const chat = useDurableSession({ sessionId: 'chat-1', adapter });
 * </script>
 * {#each chat.current.turns as t (t.turnId)}<p>{t.prompt}: {t.text}</p>{/each}
 * <button onclick={() => chat.send('Hello')}>Send</button>
 * <button onclick={() => chat.cancel()}>Stop</button>
 */
export function useDurableSession<E extends AppEvent = never, S extends SessionState = SessionState>(
  source: DurableSessionSource<E, S>,
): DurableSessionRune<E, S> {
  const lazy = lazySession(source);
  const subscribe = createSubscriber((update) => {
    let initial = true; // `current` reads the new value itself: skip the synchronous first call
    const stop = lazy.subscribe(() => initial || update());
    initial = false;
    return stop;
  });
  return {
    get current() {
      subscribe();
      return lazy.get();
    },
    ...sessionMethods<E, S>(lazy.run),
  };
}

/**
 * A store (Svelte's store contract) that notifies at most once per animation frame:
 * `$chat` in a component re-renders once per frame while an answer streams.
 * @param store A store such as a {@link DurableSession}.
 * @example
 * const chat = framed(session);
 * // in markup: {#each $chat.turns as t (t.turnId)}<p>{t.text}</p>{/each}
 */
export function framed<T>(store: Subscribable<T>): Subscribable<T> {
  return { subscribe: (cb) => subscribeFrames(store, cb) };
}
