import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ZERO_OFFSET } from '@durable-session/server';
import { runSnapshotContract, runStoreContract } from '@durable-session/server/testing';
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

runSnapshotContract('sqliteStore', () => {
  const path = join(dir, `snapshot-${files++}.db`);
  return { open: (options) => sqliteStore({ path, ...options }) };
});

describe('sqliteStore on disk', () => {
  it('keeps sessions, producers and offsets across a reopen of the file', async () => {
    const path = join(dir, 'reopen.db');
    const first = sqliteStore({ path });
    await first.create('a', { contentType: 'application/json', entries: [json(1)] });
    const appended = await first.append('a', { entries: [json(2)], producer: { id: 'p', epoch: 0, seq: 0 } });
    await first.close();
    const second = sqliteStore({ path });
    expect((await second.read('a', { from: '-1' })).status).toBe('ok');
    // the stream keeps its instance: offsets handed out before the restart still read
    const read = await second.read('a', { from: appended.status === 'appended' ? appended.first : '' });
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

describe('sqliteStore bounds', () => {
  const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

  it('refuses streams past maxStreams and bytes past maxBytes (429), counting what deletes free', async () => {
    const store = sqliteStore({ path: join(dir, 'bounds.db'), maxStreams: 2, maxBytes: 1000, retention: { maxEvents: 2 } });
    try {
      await store.create('a', { contentType: 'application/json' });
      await store.create('b', { contentType: 'application/json' });
      await expect(store.create('c', { contentType: 'application/json' })).rejects.toMatchObject({ code: 'too-many-sessions' });
      await expect(store.append('a', { entries: [enc('x'.repeat(900))] })).rejects.toMatchObject({ code: 'store-full' });
      // two appends of 300 + 128 bytes each fill 856 of the 1000: 428 more do not fit
      for (let i = 0; i < 2; i++) expect((await store.append('a', { entries: [enc('y'.repeat(300))] })).status).toBe('appended');
      await expect(store.append('b', { entries: [enc('z'.repeat(300))] })).rejects.toMatchObject({ code: 'store-full' });
      await store.delete('a');
      expect((await store.append('b', { entries: [enc('z'.repeat(300))] })).status).toBe('appended');
      expect((await store.create('c', { contentType: 'application/json' })).status).toBe('created');
    } finally {
      await store.close();
    }
  });

  it('keeps at most maxTombstones deleted ids, oldest forgotten first, across a reopen', async () => {
    const path = join(dir, 'tombstones.db');
    const store = sqliteStore({ path, maxTombstones: 2 });
    for (const id of ['a', 'b', 'c']) {
      await store.create(id, { contentType: 'application/json' });
      await store.delete(id);
    }
    await store.close();
    const reopened = sqliteStore({ path, maxTombstones: 2 });
    try {
      expect([(await reopened.head('a')).status, (await reopened.head('b')).status, (await reopened.head('c')).status]).toEqual(['not-found', 'deleted', 'deleted']);
    } finally {
      await reopened.close();
    }
  });

  it('opens a version 1 file: its streams get instance ids and byte counts', async () => {
    const path = join(dir, 'v1.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE streams (id TEXT PRIMARY KEY, instance TEXT NOT NULL, content_type TEXT NOT NULL, media_type TEXT NOT NULL,
      mode TEXT NOT NULL, created_at INTEGER NOT NULL, last_access INTEGER NOT NULL, ttl_seconds INTEGER, expires_at INTEGER,
      req_content_type TEXT, req_ttl_seconds INTEGER, req_expires_at INTEGER, fork_source TEXT, fork_offset TEXT,
      fork_sub INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0, start_pos INTEGER NOT NULL, tail_pos INTEGER NOT NULL,
      last_stream_seq TEXT, forks INTEGER NOT NULL DEFAULT 0, soft_deleted INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE entries (stream TEXT NOT NULL, end_pos INTEGER NOT NULL, pos INTEGER NOT NULL, at INTEGER NOT NULL,
      batch_end INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (stream, end_pos)) WITHOUT ROWID;
      INSERT INTO streams (id, instance, content_type, media_type, mode, created_at, last_access, start_pos, tail_pos)
      VALUES ('old', '0a1b2c3d4e5f6789', 'application/json', 'application/json', 'json', 0, 0, 0, 1);
      INSERT INTO entries VALUES ('old', 1, 0, 0, 1, x'31');
      PRAGMA user_version = 1;`);
    db.close();
    const store = sqliteStore({ path });
    try {
      const head = await store.head('old');
      expect(head.status === 'ok' && head.stream.instance).toMatch(/^[1-9a-z][0-9a-z]{15}$/);
      const read = await store.read('old', { from: ZERO_OFFSET });
      expect(read.status === 'ok' && read.entries.map((e) => new TextDecoder().decode(e.data))).toEqual(['1']);
      const limit = { maxEvents: 100, maxBytes: 1 + 128 };
      expect(await store.append('old', { entries: [json(2)], limit })).toEqual({ status: 'session-full', limit: 'bytes', max: 129 });
    } finally {
      await store.close();
    }
  });
});
