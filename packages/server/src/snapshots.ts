import { initialSessionState, reduceSession, type SessionEvent, type SessionState } from '@durable-session/core';
import { SessionServerError } from './errors';
import { BEGINNING, positionIn } from './offsets';
import { utf8 } from './protocol/responses';
import type { SessionStore, StoredEntry } from './store';

/**
 * A session folded with core's `reduceSession` up to `offset` (every entry before it), the form
 * snapshots take in the store (`{"v":1,"state":…}` as UTF-8 JSON next to the offset).
 * @example
 * const folded: FoldedSession = { offset: '-1', state: initialSessionState };
 */
export interface FoldedSession {
  offset: string;
  state: SessionState;
}

/** How often the host refreshes a watched session's snapshot: every this many events (and at every `turn.end`). */
export const SNAPSHOT_EVERY_EVENTS = 256;

const SNAPSHOT_VERSION = 1;
const FOLD_READ_BYTES = 1024 * 1024;

/** Decoded snapshots per store, newest use last: a page request of a long session skips the JSON parse. */
const decoded = new WeakMap<SessionStore, Map<string, FoldedSession>>();
/** Sessions whose decoded snapshot each store's cache holds. */
const DECODED_SESSIONS = 32;

/** The store's newest snapshot, decoded; the empty fold when it has none (or one this version cannot read). */
export async function storedSnapshot(store: SessionStore, id: string): Promise<FoldedSession> {
  const r = await store.getSnapshot(id);
  if (r.status === 'not-found' || r.status === 'gone') throw new SessionServerError(r.status, `no session ${id}`);
  if (r.status === 'none') return { offset: BEGINNING, state: initialSessionState };
  let cache = decoded.get(store);
  if (cache === undefined) decoded.set(store, (cache = new Map()));
  const hit = cache.get(id);
  cache.delete(id);
  if (hit?.offset === r.snapshot.offset) return remember(cache, id, hit);
  const value = JSON.parse(new TextDecoder().decode(r.snapshot.data)) as { v?: unknown; state?: SessionState };
  if (value.v !== SNAPSHOT_VERSION || !Array.isArray(value.state?.turns)) return { offset: BEGINNING, state: initialSessionState };
  return remember(cache, id, { offset: r.snapshot.offset, state: value.state });
}

function remember(cache: Map<string, FoldedSession>, id: string, folded: FoldedSession): FoldedSession {
  cache.set(id, folded);
  if (cache.size > DECODED_SESSIONS) cache.delete(cache.keys().next().value as string);
  return folded;
}

/**
 * Fold the log forward from `base` up to `target` (default: the tail), reading in bounded batches.
 * `target` before `base` folds nothing (a fold never goes back). Returns the fold and how many events it added.
 */
export async function foldForward(store: SessionStore, id: string, base: FoldedSession, target?: string): Promise<{ folded: FoldedSession; events: number }> {
  let { offset, state } = base;
  let events = 0;
  const reached = (at: string): boolean => target !== undefined && at !== BEGINNING && at >= target;
  while (!reached(offset)) {
    const r = await store.read(id, { from: offset, maxBytes: FOLD_READ_BYTES });
    if (r.status === 'offset-gone') throw new SessionServerError('gone', `session ${id}: offset ${offset} is no longer retained`);
    if (r.status !== 'ok') throw new SessionServerError(r.status === 'offset-beyond-tail' ? 'invalid-offset' : r.status, `session ${id}: ${r.status}`);
    for (const entry of r.entries) {
      if (reached(entry.offset)) return { folded: { offset: entry.offset, state }, events };
      state = foldEntry(state, entry);
      events++;
    }
    offset = r.next;
    if (r.upToDate) break;
  }
  return { folded: { offset, state }, events };
}

/** Keep `folded` as the session's snapshot (refused quietly when the store holds a newer one). */
export async function saveSnapshot(store: SessionStore, id: string, folded: FoldedSession): Promise<void> {
  if (folded.offset === BEGINNING) return;
  await store.putSnapshot(id, { offset: folded.offset, data: utf8(JSON.stringify({ v: SNAPSHOT_VERSION, state: folded.state })) });
}

/**
 * The session folded up to `at` (default: the tail, then stored as its snapshot when it moved on):
 * the store's snapshot plus the log after it. `at` before the snapshot answers at the snapshot.
 * @example
 * const { offset, state } = await foldedSession(store, 'chat-1');
 */
export async function foldedSession(store: SessionStore, id: string, at?: string): Promise<FoldedSession> {
  if (at !== undefined && at !== BEGINNING) await checkOffset(store, id, at);
  const base = await storedSnapshot(store, id);
  const { folded, events } = await foldForward(store, id, base, at === BEGINNING ? undefined : at);
  if (at === undefined && events > 0) await saveSnapshot(store, id, folded);
  return folded;
}

/** `at` must be an offset of this stream's instance, within its log (`gone` for another instance's). */
async function checkOffset(store: SessionStore, id: string, at: string): Promise<void> {
  const head = await store.head(id);
  if (head.status !== 'ok') throw new SessionServerError(head.status === 'deleted' ? 'deleted' : head.status, `no session ${id}`);
  const position = positionIn(at, head.stream.instance);
  if (position === undefined) throw new SessionServerError('invalid-offset', `not an offset: ${at}`);
  if (position === 'foreign') throw new SessionServerError('gone', `offset ${at} is not an offset of session ${id}`);
  const tail = positionIn(head.stream.tail, head.stream.instance);
  if (typeof tail === 'number' && position > tail) throw new SessionServerError('invalid-offset', `offset ${at} is beyond the tail`);
}

function foldEntry(state: SessionState, entry: StoredEntry): SessionState {
  let event: unknown;
  try {
    event = JSON.parse(new TextDecoder().decode(entry.data));
  } catch {
    return state; // the client's fold skips it too (the trust boundary keeps such entries out of sessions)
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return state;
  try {
    return reduceSession(state, event as SessionEvent);
  } catch {
    return state;
  }
}
