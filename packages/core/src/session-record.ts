import { DurableSessionError } from './errors';
import { environment } from './environment';
import { createSaver, openPersistence, type PersistedSession, type SessionPersistence } from './persistence';
import type { PersistenceMode } from './types';

/** What the session's record needs from its session. */
export interface SessionRecordHost<S> {
  sessionId: string;
  /** What the caller asked for (`options.persistence`). */
  requested: PersistenceMode | undefined;
  /** Aborts when the session closes. */
  signal: AbortSignal;
  /** What to save now: the last applied offset and the state folded up to it. */
  current(): PersistedSession<S>;
  /** The session fell back to memory. */
  degraded(): void;
  warn(error: DurableSessionError): void;
}

/**
 * Where a session would persist to at creation: IndexedDB unless the caller asked for memory
 * or IndexedDB is missing.
 * @example
 * const mode = persistenceMode(options.persistence);
 */
export const persistenceMode = (requested: PersistenceMode | undefined): PersistenceMode =>
  requested === 'memory' || !environment.indexedDB() ? 'memory' : 'indexeddb';

/**
 * The session's IndexedDB record: `load()` reads what an earlier page saved, `save()` writes
 * offset and state together, coalesced (at once with `now`: turn end), `flush()` writes what is
 * pending (`pagehide`, close). Any failure degrades to memory, once, with a `persistence` warning.
 * @example
 * const record = sessionRecord(host);
 * const saved = await record.load();
 */
export function sessionRecord<S>(host: SessionRecordHost<S>): {
  load(): Promise<PersistedSession<S> | undefined>;
  save(now?: boolean): void;
  flush(): Promise<void>;
  close(): void;
} {
  let database: SessionPersistence<S> | undefined;
  let degraded = false;
  const degrade = (cause: unknown): void => {
    if (degraded) return;
    degraded = true;
    database?.close();
    database = undefined;
    host.degraded();
    const reason = cause instanceof Error ? cause.message : String(cause);
    host.warn(new DurableSessionError('persistence', `IndexedDB failed (${reason}): in memory`, { cause }));
  };
  const saver = createSaver<PersistedSession<S>>((record) => (database ? database.write(record).catch(degrade) : Promise.resolve()));
  return {
    async load() {
      if (persistenceMode(host.requested) === 'memory') {
        if (host.requested === 'memory') return undefined;
        await Promise.resolve(); // warn after creation, once the caller could listen
        degrade(new DurableSessionError('persistence', 'no IndexedDB'));
        return undefined;
      }
      try {
        const opened = await openPersistence<S>(host.sessionId);
        if (host.signal.aborted) return void opened.close();
        database = opened;
        return opened.saved;
      } catch (error) {
        degrade(error);
        return undefined;
      }
    },
    save: (now) => saver.save(host.current(), now),
    flush: () => saver.flush(),
    close: () => database?.close(),
  };
}
