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
 * The result of an IndexedDB request, as a promise.
 * @example
 * const record = await requested(store.get(key));
 */
export const requested = <T>(request: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

/**
 * Run one request on an object store, in its own transaction.
 * @example
 * await storeRequest(database, 'sessions', 'readwrite', (store) => store.put(record, key));
 */
export const storeRequest = <T>(database: IDBDatabase, name: string, mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> =>
  requested(run(database.transaction(name, mode).objectStore(name)));

/**
 * Open an IndexedDB database with the client's one policy: reject when IndexedDB is missing, the
 * open fails (e.g. a newer database version), is blocked by another tab, or has not finished
 * after `timeoutMs` (WebKit's IndexedDB can hang forever); a database that opens after the
 * timeout is closed at once. Once open, it gives way to a newer version that wants it (the next
 * write fails, and the caller falls back to memory).
 * @example
 * const db = await openDatabase('my-db', 1, (upgrade) => void upgrade.createObjectStore('things'));
 */
export function openDatabase(name: string, version: number, upgrade: (database: IDBDatabase) => void, timeoutMs = 2000): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version); // throws (rejects) where IndexedDB is missing or refused
    let failed = false;
    const fail = (message: string): void => {
      failed = true;
      reject(new DurableSessionError('persistence', message));
    };
    const timer = setTimeout(fail, timeoutMs, `IndexedDB did not open within ${timeoutMs} ms`);
    request.onupgradeneeded = () => upgrade(request.result);
    request.onblocked = () => fail('IndexedDB blocked');
    request.onerror = () => {
      clearTimeout(timer);
      reject(request.error);
    };
    request.onsuccess = () => {
      clearTimeout(timer);
      const database = request.result;
      // A newer version wants the database: let it have it.
      database.onversionchange = () => database.close();
      if (failed) database.close();
      else resolve(database);
    };
  });
}

/**
 * Open the session's IndexedDB record (with {@link openDatabase}'s timeout and blocked
 * handling). Rejects as it does, or when reading the record fails; the session then falls back
 * to memory and reports a `persistence` warning.
 * @example
 * const p = await openPersistence<SessionState>('chat-1').catch(() => undefined);
 */
export async function openPersistence<S>(sessionId: string, timeoutMs = 2000): Promise<SessionPersistence<S>> {
  const database = await openDatabase(
    DB_NAME,
    DB_VERSION,
    (upgrade) => {
      for (const name of Array.from(upgrade.objectStoreNames)) upgrade.deleteObjectStore(name);
      upgrade.createObjectStore(STORE);
    },
    timeoutMs,
  );
  try {
    const record = (await storeRequest(database, STORE, 'readonly', (store) => store.get(sessionId))) as ({ schema: unknown } & PersistedSession<S>) | undefined;
    return {
      saved: record?.schema === SCHEMA && typeof record.offset === 'string' ? { offset: record.offset, state: record.state } : undefined,
      write: async ({ offset, state }) => {
        await storeRequest(database, STORE, 'readwrite', (store) => store.put({ schema: SCHEMA, offset, state }, sessionId));
      },
      close: () => database.close(),
    };
  } catch (error) {
    database.close();
    throw error;
  }
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
    const latest = pending;
    pending = undefined;
    return latest ? write(latest[0]) : Promise.resolve();
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
