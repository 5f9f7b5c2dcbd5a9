import type { AppEvent, SessionEvent } from '@durable-session/core';
import { awaitAnswer } from './await-answer';
import { modeOf } from './content-type';
import { SessionServerError } from './errors';
import { utf8 } from './protocol/responses';
import type { SessionStore } from './store';
import type { TurnWriter } from './turn';
import { problemWithEvent } from './validate-events';

/**
 * Options of {@link SessionHandle.startTurn}.
 * @example
 * await session.startTurn({ turnId: prompt.turnId, agentId: 'researcher' });
 */
export interface StartTurnOptions {
  /** Default: a random UUID. */
  turnId?: string;
  /** Default `agent`. */
  agentId?: string;
}

/**
 * One event read back from a session: `offset` is where it starts, `next` where the next one does.
 * @example
 * const { events } = await session.read();
 * for (const { event, next } of events) console.log(next, event);
 */
export interface SessionEntry {
  event: unknown;
  offset: string;
  next: string;
}

/**
 * A batch read from a session.
 * @example
 * const { events, next, upToDate } = await session.read({ from: '-1' });
 */
export interface SessionRead {
  events: SessionEntry[];
  /** Read from here to get what follows. */
  next: string;
  upToDate: boolean;
  closed: boolean;
}

/**
 * One session, as seen by the server: read it, append to it, start turns in it.
 * @example
 * const session = host.session('chat-1');
 * await session.ensure();
 * await session.append({ type: 'note', text: 'server-side event' });
 * const turn = await session.startTurn({ agentId: 'writer' });
 */
export interface SessionHandle {
  readonly id: string;
  /**
   * Create the session (JSON mode) unless it exists, and make sure it is announced to every
   * node's host (idempotent). Fails with `conflict` if a non-JSON stream has this id.
   */
  ensure(): Promise<void>;
  /** Append one event (SDK events are validated). Resolves with the offset after it. */
  append(event: SessionEvent | AppEvent): Promise<string>;
  /** Read events from an offset (default `-1`, the beginning). */
  read(options?: { from?: string; limit?: number }): Promise<SessionRead>;
  /** Write `turn.start` (creating the session if needed) and return the turn's writer. */
  startTurn(options?: StartTurnOptions): Promise<TurnWriter>;
  /**
   * Wait for the answer to a question already asked in this session (by `turn.ask`, maybe in a
   * process that has since restarted): resolves with the chosen option. Rejects with `timeout` /
   * `turn-ended` when it closed unanswered, `not-found` without such a question, `cancelled` when
   * `signal` aborts.
   */
  awaitAnswer(askId: string, options?: { signal?: AbortSignal }): Promise<string>;
}

interface HandleDeps {
  store: SessionStore;
  register: (id: string, instance: string) => Promise<void>;
  startTurn: (id: string, options: StartTurnOptions) => Promise<TurnWriter>;
  onError: (error: unknown) => void;
}

/** A {@link SessionHandle} over a store (created by `host.session(id)`). */
export function openSessionHandle(id: string, deps: HandleDeps): SessionHandle {
  const { store } = deps;
  return {
    id,
    ensure: () => ensureSession(store, id, deps.register),
    async append(event) {
      const problem = problemWithEvent(event);
      if (problem !== undefined) throw new SessionServerError('invalid-event', problem);
      const outcome = await store.append(id, { entries: [utf8(JSON.stringify(event))], contentType: 'application/json' });
      switch (outcome.status) {
        case 'appended':
          return outcome.tail;
        case 'not-found':
        case 'gone':
          throw new SessionServerError(outcome.status, `no session ${id}`);
        case 'closed':
          throw new SessionServerError('stream-closed', `session ${id} is closed`);
        default:
          throw new SessionServerError('conflict', `append to session ${id} refused: ${outcome.status}`);
      }
    },
    async read(options = {}) {
      const read = await store.read(id, { from: options.from ?? '-1', ...(options.limit === undefined ? {} : { limit: options.limit }) });
      switch (read.status) {
        case 'ok': {
          const decoder = new TextDecoder();
          const events = read.entries.map((e) => ({ event: JSON.parse(decoder.decode(e.data)) as unknown, offset: e.offset, next: e.next }));
          return { events, next: read.next, upToDate: read.upToDate, closed: read.closed };
        }
        case 'not-found':
        case 'gone':
          throw new SessionServerError(read.status, `no session ${id}`);
        case 'offset-gone':
          throw new SessionServerError('gone', `offset ${options.from ?? '-1'} is no longer retained; the earliest is ${read.earliest}`);
        case 'offset-beyond-tail':
          throw new SessionServerError('invalid-offset', `offset ${options.from ?? '-1'} is beyond the tail ${read.tail}`);
      }
    },
    startTurn: (options = {}) => deps.startTurn(id, options),
    awaitAnswer: (askId, options = {}) => awaitAnswer(store, id, askId, options.signal ?? new AbortController().signal, deps.onError),
  };
}

/**
 * Create the JSON session `id` unless a JSON stream already has that id, and announce it.
 * Existing sessions are announced too: `register` is idempotent (cheap when already
 * listed), and this repairs a session whose first announcement failed.
 */
export async function ensureSession(store: SessionStore, id: string, register: (id: string, instance: string) => Promise<void>): Promise<void> {
  const existing = await store.head(id);
  if (existing.status === 'gone') throw new SessionServerError('gone', `session ${id} was deleted`);
  if (existing.status === 'ok') {
    if (modeOf(existing.stream.contentType) !== 'json') throw new SessionServerError('conflict', `stream ${id} is not a JSON session`);
    await register(id, existing.stream.instance);
    return;
  }
  const created = await store.create(id, { contentType: 'application/json' });
  if (created.status === 'created') {
    await register(id, created.stream.instance);
    return;
  }
  // Someone else created it meanwhile (maybe with a TTL): fine as long as it is JSON.
  const again = await store.head(id);
  if (again.status !== 'ok' || modeOf(again.stream.contentType) !== 'json') {
    throw new SessionServerError('conflict', `cannot create session ${id}: ${created.status}`);
  }
  await register(id, again.stream.instance);
}
