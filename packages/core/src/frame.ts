import { initialSessionState } from './reducer';
import type { SessionSnapshot, SessionState } from './types';

/**
 * Anything that follows Svelte's store contract: `subscribe(callback)` calls `callback`
 * at once with the current value, then on every change, and returns an
 * unsubscribe function. A {@link DurableSession} is one.
 * @example
 * const store: Subscribable<SessionSnapshot> = session;
 */
export interface Subscribable<T> {
  subscribe(callback: (value: T) => void): () => void;
}

/**
 * Schedules `flush` once, for the next frame, and returns a function that
 * cancels it. {@link nextFrame} is the default; tests and non-DOM hosts can
 * pass their own.
 * @example
 * const microtask: FrameScheduler = (flush) => {
 *   let live = true;
 *   queueMicrotask(() => live && flush());
 *   return () => { live = false; };
 * };
 */
export type FrameScheduler = (flush: () => void) => () => void;

/**
 * The default {@link FrameScheduler}: `requestAnimationFrame` where it exists
 * (looked up at call time, so it can be stubbed), else a 16 ms timer (Node, workers).
 * @example
 * const cancel = nextFrame(() => console.log('next frame'));
 */
export const nextFrame: FrameScheduler = (flush) => {
  if (typeof requestAnimationFrame === 'function' && typeof cancelAnimationFrame === 'function') {
    const id = requestAnimationFrame(() => flush());
    return () => cancelAnimationFrame(id);
  }
  const id = setTimeout(flush, 16);
  return () => clearTimeout(id);
};

/**
 * Subscribe to a store with change notifications batched to at most one per
 * animation frame. The first value is delivered synchronously (as the store
 * contract requires); after that, every burst of changes within one frame
 * ends in a single call with the latest value. Since a session snapshot is
 * cumulative, no delta is ever missing from the text delivered last.
 *
 * This is what the React, Vue and Svelte bindings use, so that an answer
 * streaming at 2,000 deltas a second renders at most once per frame.
 * @param store A store, such as a {@link DurableSession}.
 * @param callback Called with the current value now, then at most once per frame.
 * @param schedule How to wait for the next frame. Default {@link nextFrame}.
 * @returns A function that unsubscribes and cancels a pending frame.
 * @example
 * const stop = subscribeFrames(session, (snapshot) => {
 *   output.textContent = snapshot.turns.at(-1)?.text ?? '';
 * });
 * // later
 * stop();
 */
export function subscribeFrames<T>(store: Subscribable<T>, callback: (value: T) => void, schedule: FrameScheduler = nextFrame): () => void {
  let subscribing = true;
  let active = true;
  let latest!: T;
  let delivered!: T;
  let cancel: (() => void) | undefined;
  const flush = (): void => {
    cancel = undefined;
    if (active && !Object.is(latest, delivered)) callback((delivered = latest));
  };
  const unsubscribe = store.subscribe((value) => {
    latest = value;
    if (subscribing) callback((delivered = value));
    else if (active) cancel ??= schedule(flush);
  });
  subscribing = false;
  return () => {
    active = false;
    cancel?.();
    cancel = undefined;
    unsubscribe();
  };
}

/**
 * The snapshot a UI binding renders before its session exists: on the server
 * (no network, no IndexedDB), during hydration, and before the first effect
 * ran. Status `connecting`, no turns (or `initialState`), offset `-1`.
 * @param options The `sessionId` and, when the state has custom fields, its `initialState`.
 * @example
 * const snapshot = placeholderSnapshot({ sessionId: 'chat-1' });
 * snapshot.turns; // []
 */
export function placeholderSnapshot<S extends SessionState = SessionState>(options: { sessionId: string; initialState?: S | undefined }): SessionSnapshot<S> {
  const state = options.initialState ?? (initialSessionState as S);
  return {
    sessionId: options.sessionId,
    status: 'connecting',
    offset: '-1',
    state,
    turns: state.turns,
    activeTurnId: state.activeTurnId,
    recovered: true,
    olderTurns: 0,
    resumed: false,
    persistence: 'memory',
    tabs: 'solo',
    error: undefined,
    presence: [],
  };
}
