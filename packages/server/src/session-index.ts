import { SessionServerError } from './errors';
import { utf8 } from './protocol/responses';
import type { AppendOptions, SessionStore, StoredEntry } from './store';

/**
 * One line of the session index: a session, and (for a fork) the offset its prompts are
 * answered after.
 */
export interface IndexEntry {
  sessionId: string;
  from: string | undefined;
}

/** The index lines of a batch of index entries (anything else is skipped). */
export function sessionsOf(entries: readonly StoredEntry[]): IndexEntry[] {
  const ids: IndexEntry[] = [];
  for (const entry of entries) {
    try {
      const value = JSON.parse(new TextDecoder().decode(entry.data)) as { type?: unknown; sessionId?: unknown; from?: unknown };
      if (value.type === 'session' && typeof value.sessionId === 'string') {
        ids.push({ sessionId: value.sessionId, from: typeof value.from === 'string' ? value.from : undefined });
      }
    } catch {
      continue; // the index only holds what the host wrote; anything else is not a session
    }
  }
  return ids;
}

/** The append that lists `id` (once per creation of it: an idempotent producer named after its instance). */
export function indexAppend(id: string, instance: string | undefined, from: string | undefined): AppendOptions {
  const entry = from === undefined ? { type: 'session', sessionId: id } : { type: 'session', sessionId: id, from };
  const options: AppendOptions = { entries: [utf8(JSON.stringify(entry))], contentType: 'application/json' };
  if (instance !== undefined) options.producer = { id: `__session/${id}/${instance}`, epoch: 0, seq: 0 };
  return options;
}

/**
 * Rewrite the session index with only the sessions that still exist, so deleted sessions
 * leave it (the store cannot remove entries from a stream). The index is deleted and
 * created again; hosts following it see it end and follow it again from the start.
 * Returns how many sessions it lists now.
 */
export async function compactSessionIndex(store: SessionStore, indexId: string): Promise<number> {
  const live: Array<{ entry: IndexEntry; instance: string }> = [];
  const seen = new Set<string>();
  for (let from = '-1'; ; ) {
    const read = await store.read(indexId, { from, limit: 1000 });
    if (read.status !== 'ok') return 0;
    for (const entry of sessionsOf(read.entries)) {
      if (seen.has(entry.sessionId)) continue;
      seen.add(entry.sessionId);
      const head = await store.head(entry.sessionId);
      if (head.status === 'ok') live.push({ entry, instance: head.stream.instance });
    }
    if (read.upToDate) break;
    from = read.next;
  }
  await store.delete(indexId);
  const created = await store.create(indexId, { contentType: 'application/json' });
  if (created.status !== 'created' && created.status !== 'exists') throw new SessionServerError('internal', `cannot re-create the session index: ${created.status}`);
  for (const { entry, instance } of live) await store.append(indexId, indexAppend(entry.sessionId, instance, entry.from));
  return live.length;
}
