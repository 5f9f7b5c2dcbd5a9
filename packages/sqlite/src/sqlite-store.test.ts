import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { formatOffset, ZERO_OFFSET } from '@durable-session/server';
import { runStoreContract } from '@durable-session/server/testing';
import { sqliteStore, SqliteStoreError } from './sqlite-store';

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

const dir = mkdtempSync(join(tmpdir(), 'ds-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

// Every test gets its own database file; its stores (two "nodes" in one process) share it.
runStoreContract('sqliteStore', () => {
  const path = join(dir, `contract-${files++}.db`);
  return { open: (options) => sqliteStore({ path, ...options }) };
});

describe('sqliteStore on disk', () => {
  it('keeps sessions, producers and offsets across a reopen of the file', async () => {
    const path = join(dir, 'reopen.db');
    const first = sqliteStore({ path });
    await first.create('a', { contentType: 'application/json', entries: [json(1)] });
    await first.append('a', { entries: [json(2)], producer: { id: 'p', epoch: 0, seq: 0 } });
    await first.close();
    const second = sqliteStore({ path });
    expect((await second.read('a', { from: '-1' })).status).toBe('ok');
    const read = await second.read('a', { from: formatOffset(1) });
    expect(read.status === 'ok' && read.entries.map((e) => new TextDecoder().decode(e.data))).toEqual(['2']);
    expect((await second.append('a', { entries: [json(2)], producer: { id: 'p', epoch: 0, seq: 0 } })).status).toBe('duplicate');
    await second.close();
  });

  it('runs in WAL mode and refuses a file written by a newer schema', async () => {
    const path = join(dir, 'future.db');
    const store = sqliteStore({ path });
    await store.close();
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.pragma('user_version = 99');
    db.close();
    expect(() => sqliteStore({ path })).toThrow(SqliteStoreError);
  });

  it('waits without a timer of its own (no polling): the append wakes it', async () => {
    const store = sqliteStore({ path: join(dir, 'no-poll.db') });
    await store.create('a', { contentType: 'application/json' });
    vi.useFakeTimers();
    try {
      const timers = vi.getTimerCount();
      let outcome: string | undefined;
      const waiting = store.wait('a', ZERO_OFFSET, new AbortController().signal).then((o) => (outcome = o));
      await Promise.resolve();
      expect(vi.getTimerCount()).toBe(timers);
      expect(outcome).toBeUndefined();
      await store.append('a', { entries: [json(1)] });
      await waiting;
      expect(outcome).toBe('changed');
    } finally {
      vi.useRealTimers();
      await store.close();
    }
  });
});
