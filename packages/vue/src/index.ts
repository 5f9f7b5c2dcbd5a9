import { computed, getCurrentInstance, getCurrentScope, onMounted, onScopeDispose, shallowRef, toValue, watch, type ComputedRef, type MaybeRefOrGetter } from 'vue';
import {
  isDurableSession,
  lazySession,
  sessionMethods,
  type AppEvent,
  type ConnectionStatus,
  type DurableSessionError,
  type DurableSessionSource,
  type LazySession,
  type SessionMethods,
  type SessionSnapshot,
  type SessionState,
} from '@durable-session/core';

export type { DurableSessionSource };

/**
 * What {@link useDurableSession} returns: readonly refs over the snapshot, plus the session's methods.
 * @example
 * const { turns, status, send, cancel }: UseDurableSessionReturn = useDurableSession(session);
 */
export interface UseDurableSessionReturn<E extends AppEvent = never, S extends SessionState = SessionState> extends SessionMethods<E, S> {
  /** The whole snapshot, updated at most once per animation frame. */
  snapshot: ComputedRef<SessionSnapshot<S>>;
  /** The folded state, custom fields included. */
  state: ComputedRef<S>;
  turns: ComputedRef<S['turns']>;
  status: ComputedRef<ConnectionStatus>;
  activeTurnId: ComputedRef<string | undefined>;
  error: ComputedRef<DurableSessionError | undefined>;
}

const keyOf = <E extends AppEvent, S extends SessionState>(source: DurableSessionSource<E, S>): unknown => (isDurableSession(source) ? source : source.sessionId);

/**
 * Use a durable session in a component (or any effect scope). Refs update at most
 * once per animation frame while an answer streams, with the latest snapshot.
 *
 * Given options, the session is created on mount (never on the server: SSR renders an
 * empty `connecting` snapshot) and closed when the scope is disposed. Given a session,
 * it is never closed for you. `source` may be a ref or getter: a new `sessionId`
 * (or session object) switches sessions; other options are read at creation.
 * @param source Options, a session, or a ref/getter of either.
 * @returns Readonly refs (`snapshot`, `state`, `turns`, `status`, `activeTurnId`, `error`) and `send`, `cancel`, `steer`, `emit`.
 * @example
 * <script setup lang="ts">
 * const { turns, status, send, cancel } = useDurableSession({ sessionId: 'chat-1', adapter });
 * </script>
 * <template>
 *   <p v-for="t in turns" :key="t.turnId">{{ t.prompt }}: {{ t.text }}</p>
 *   <button @click="send('Hello')">Send</button> <button @click="cancel()">Stop</button>
 * </template>
 */
export function useDurableSession<E extends AppEvent = never, S extends SessionState = SessionState>(
  source: MaybeRefOrGetter<DurableSessionSource<E, S>>,
): UseDurableSessionReturn<E, S> {
  // Vue never mounts twice: an owned session closes as soon as its scope is disposed.
  const open = (next: DurableSessionSource<E, S>): LazySession<E, S> => lazySession(next, { linger: false });
  let key = keyOf(toValue(source));
  let lazy = open(toValue(source));
  const raw = shallowRef(lazy.get());
  let stop: (() => void) | undefined;
  const connect = (): void => {
    const next = toValue(source);
    if (!Object.is(key, keyOf(next))) {
      stop?.();
      stop = undefined;
      key = keyOf(next);
      lazy = open(next);
    }
    stop ??= lazy.subscribe(() => (raw.value = lazy.get()));
  };
  const start = (): unknown => watch(() => keyOf(toValue(source)), connect, { immediate: true });
  if (getCurrentInstance()) onMounted(start);
  else if (typeof window !== 'undefined') start();
  if (getCurrentScope()) onScopeDispose(() => (stop?.(), (stop = undefined)));
  const snapshot = computed(() => raw.value);
  return {
    snapshot,
    state: computed(() => raw.value.state),
    turns: computed(() => raw.value.turns),
    status: computed(() => raw.value.status),
    activeTurnId: computed(() => raw.value.activeTurnId),
    error: computed(() => raw.value.error),
    ...sessionMethods<E, S>((method) => lazy.run(method)),
  };
}
