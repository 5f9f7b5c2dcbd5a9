import { createNanoEvents, type Emitter } from 'nanoevents';
import type { DurableSessionError } from './errors';
import type { AppEvent } from './events';
import { environment } from './environment';
import { placeholderSnapshot } from './frame';
import { persistenceMode } from './session-record';
import type { DurableSessionEvents, DurableSessionOptions, SessionSnapshot, SessionState } from './types';

/** The session's events plus `change` (every new snapshot). */
export type SnapshotEvents<E extends AppEvent, S extends SessionState> = DurableSessionEvents<E> & { change: (snapshot: SessionSnapshot<S>) => void };

/**
 * The current snapshot of a session and its emitter: `set(patch)` makes a new snapshot only when
 * a field changes, then emits `change` (and `status` when the status changed).
 */
export interface SnapshotStore<E extends AppEvent, S extends SessionState> {
  get(): SessionSnapshot<S>;
  set(patch: Partial<SessionSnapshot<S>>): void;
  /** A new folded state (copied to `turns`, `activeTurnId` and `olderTurns`), plus other fields. */
  setState(state: S, patch: Partial<SessionSnapshot<S>>): void;
  emitter: Emitter<SnapshotEvents<E, S>>;
  warn(error: DurableSessionError): void;
  fail(error: DurableSessionError): void;
}

/** The snapshot of a session just created: `connecting`, offset `-1`, the initial state. */
export function initialSnapshot<E extends AppEvent, S extends SessionState>(options: DurableSessionOptions<E, S>): SessionSnapshot<S> {
  return {
    ...placeholderSnapshot(options),
    persistence: persistenceMode(options.persistence),
    // A coordinated tab follows until it gets the lock (and only looks for a leader once IndexedDB was read).
    tabs: options.tabs !== false && environment.tabs() ? 'follower' : 'solo',
  };
}

/**
 * Hold a session's snapshot.
 * @example
 * const store = createSnapshotStore(initialSnapshot(options, initialSessionState));
 * store.set({ status: 'live' });
 */
export function createSnapshotStore<E extends AppEvent, S extends SessionState>(first: SessionSnapshot<S>): SnapshotStore<E, S> {
  const emitter = createNanoEvents<SnapshotEvents<E, S>>();
  let snapshot = first;
  const set = (patch: Partial<SessionSnapshot<S>>): void => {
    const previous = snapshot;
    if ((Object.keys(patch) as (keyof SessionSnapshot<S>)[]).every((key) => patch[key] === previous[key])) return;
    snapshot = { ...previous, ...patch };
    emitter.emit('change', snapshot);
    if (snapshot.status !== previous.status) emitter.emit('status', snapshot.status);
  };
  return {
    get: () => snapshot,
    set,
    setState: (state, patch) => set({ state, turns: state.turns, activeTurnId: state.activeTurnId, olderTurns: state.olderTurns ?? 0, ...patch }),
    emitter,
    warn: (error) => emitter.emit('warning', error),
    fail: (error) => emitter.emit('error', error),
  };
}
