import { SessionServerError } from './errors';
import type { StoredEntry, SessionStore } from './store';
import { foldForward, saveSnapshot, SNAPSHOT_EVERY_EVENTS, storedSnapshot, type FoldedSession } from './snapshots';

/** Per session: the fold kept in memory, events seen since the last refresh, the refresh running. */
interface Kept {
  folded: FoldedSession | undefined;
  pending: number;
  due: boolean;
  running: Promise<void> | undefined;
}

/**
 * Keeps the snapshots of the sessions a host watches fresh: every {@link SNAPSHOT_EVERY_EVENTS}
 * events and at every `turn.end`, it folds what the log gained since its last fold (kept in
 * memory, so a refresh costs the new events, not the session) and stores the snapshot. One refresh
 * per session at a time; what arrives meanwhile is folded by the next.
 */
export class SnapshotKeeper {
  readonly #sessions = new Map<string, Kept>();

  constructor(
    private readonly store: SessionStore,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The host read `entries` of session `id` (`ended`: one of them is a `turn.end`). */
  observe(id: string, entries: readonly StoredEntry[], ended: boolean): void {
    let kept = this.#sessions.get(id);
    if (kept === undefined) {
      kept = { folded: undefined, pending: 0, due: false, running: undefined };
      this.#sessions.set(id, kept);
    }
    kept.pending += entries.length;
    if (!ended && kept.pending < SNAPSHOT_EVERY_EVENTS) return;
    kept.pending = 0;
    kept.due = true;
    kept.running ??= this.#refresh(id, kept);
  }

  /** The host stopped watching `id`: drop what is kept in memory (the store keeps the snapshot). */
  forget(id: string): void {
    const kept = this.#sessions.get(id);
    if (kept !== undefined && kept.running === undefined) this.#sessions.delete(id);
  }

  /** Wait for the refreshes running now (for `close()`). */
  async settle(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((kept) => kept.running));
  }

  async #refresh(id: string, kept: Kept): Promise<void> {
    try {
      while (kept.due) {
        kept.due = false;
        const base = kept.folded ?? (await storedSnapshot(this.store, id));
        const { folded, events } = await foldForward(this.store, id, base);
        kept.folded = folded;
        if (events > 0) await saveSnapshot(this.store, id, folded);
      }
    } catch (error) {
      kept.folded = undefined; // start from the store's snapshot next time
      const quiet = SessionServerError.isInstance(error) && ['closed', 'not-found', 'gone'].includes(error.code);
      if (!quiet) this.onError(error);
    } finally {
      kept.running = undefined;
    }
  }
}
