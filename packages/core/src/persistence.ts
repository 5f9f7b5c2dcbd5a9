import { openDB, type IDBPDatabase } from 'idb';
import { DurableSessionError } from './errors';

/**
 * The IndexedDB database holding every session's saved state (one record per session id).
 * @example
 * indexedDB.deleteDatabase(DB_NAME); // forget every saved session (e.g. on logout)
 */
export const DB_NAME = 'durable-session';
/** Bumped when the database layout changes: an upgrade drops every old store and starts empty. */
const DB_VERSION = 1;
/** Bumped when the record layout changes: a record of another schema is ignored (the session rebuilds). */
const SCHEMA = 1;
const STORE = 'sessions';

/**
 * What is saved per session: the last applied offset and the state folded up to it.
 * @example
 * const saved: PersistedSession<SessionState> = { offset: '0000_0042', state };
 */
export interface PersistedSession<S> {
  offset: string;
  state: S;
}

/**
 * An open IndexedDB persistence for one session.
 * @example
 * const p = await openPersistence<SessionState>('chat-1');
 * if (p.saved) render(p.saved.state);
 * await p.write({ offset, state });
 */
export interface SessionPersistence<S> {
  /** The record saved by an earlier page, if it has the current schema. */
  saved: PersistedSession<S> | undefined;
  /** Save offset and state together, in one transaction. */
  write(record: PersistedSession<S>): Promise<void>;
  close(): void;
}

/**
 * Open the session's IndexedDB record. Rejects when IndexedDB is missing, the open fails
 * (e.g. a newer database version), is blocked by another tab, or has not finished after
 * `timeoutMs` (WebKit's IndexedDB can hang forever); the session then falls back to memory and
 * reports a `persistence` warning. A database that opens after the timeout is closed at once.
 * @example
 * const p = await openPersistence<SessionState>('chat-1').catch(() => undefined);
 */
export function openPersistence<S>(sessionId: string, timeoutMs = 2000): Promise<SessionPersistence<S>> {
  return new Promise((resolve, reject) => {
    let failed = false;
    let db: IDBPDatabase | undefined;
    const fail = (message: string): void => {
      failed = true;
      db?.close();
      reject(new DurableSessionError('persistence', message));
    };
    const timer = setTimeout(fail, timeoutMs, `IndexedDB did not open within ${timeoutMs} ms`);
    (async () => {
      const d = (db = await openDB(DB_NAME, DB_VERSION, {
        upgrade(u) {
          for (const name of Array.from(u.objectStoreNames)) u.deleteObjectStore(name);
          u.createObjectStore(STORE);
        },
        blocked: () => fail('IndexedDB is blocked by another tab'),
        // A newer version wants the database: let it have it (our next write fails and falls back to memory).
        blocking: () => d.close(),
      }));
      const rec = (await d.get(STORE, sessionId)) as ({ schema: unknown } & PersistedSession<S>) | undefined;
      if (failed) return d.close();
      resolve({
        saved: rec?.schema === SCHEMA && typeof rec.offset === 'string' ? { offset: rec.offset, state: rec.state } : undefined,
        write: async ({ offset, state }) => {
          await d.put(STORE, { schema: SCHEMA, offset, state }, sessionId);
        },
        close: () => d.close(),
      });
    })()
      .catch(reject)
      .finally(() => clearTimeout(timer));
  });
}

/**
 * Coalesces saves (`write` must not reject): the latest value is written at most once per `intervalMs`
 * (a trailing write), or at once with `save(value, true)` or `flush()`.
 * @example
 * const saver = createSaver((v) => db.write(v));
 * saver.save(record);        // written within 250 ms, with whatever came later
 * saver.save(record, true);  // written now (turn end)
 * await saver.flush();       // pagehide, close
 */
export function createSaver<T>(write: (value: T) => Promise<void>, intervalMs = 250): {
  save(value: T, now?: boolean): void;
  flush(): Promise<void>;
} {
  let pending: [T] | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const p = pending;
    pending = undefined;
    return p ? write(p[0]) : Promise.resolve();
  };
  return {
    save(value, now) {
      pending = [value];
      if (now) void flush();
      else timer ??= setTimeout(flush, intervalMs);
    },
    flush,
  };
}
