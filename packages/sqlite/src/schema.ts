import type Database from 'better-sqlite3';
import { ENTRY_OVERHEAD_BYTES, newInstance } from '@durable-session/server';

/**
 * The schema version this package writes (`PRAGMA user_version`). 2: instance ids of offsets
 * (issue 10), fork lineage, retained bytes per stream and in total, tombstones.
 */
export const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS streams (
  id TEXT PRIMARY KEY,
  instance TEXT NOT NULL,
  content_type TEXT NOT NULL,
  media_type TEXT NOT NULL,
  mode TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_access INTEGER NOT NULL,
  ttl_seconds INTEGER,
  expires_at INTEGER,
  req_content_type TEXT,
  req_ttl_seconds INTEGER,
  req_expires_at INTEGER,
  fork_source TEXT,
  fork_offset TEXT,
  fork_sub INTEGER NOT NULL DEFAULT 0,
  closed INTEGER NOT NULL DEFAULT 0,
  start_pos INTEGER NOT NULL,
  tail_pos INTEGER NOT NULL,
  last_stream_seq TEXT,
  forks INTEGER NOT NULL DEFAULT 0,
  soft_deleted INTEGER NOT NULL DEFAULT 0,
  ancestors TEXT NOT NULL DEFAULT '[]',
  bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS entries (
  stream TEXT NOT NULL,
  end_pos INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  at INTEGER NOT NULL,
  batch_end INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (stream, end_pos)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS producers (
  stream TEXT NOT NULL,
  producer TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (stream, producer)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS producers_by_age ON producers (stream, at);
CREATE TABLE IF NOT EXISTS tombstones (id TEXT PRIMARY KEY);
-- The newest snapshot of a stream (one row per stream; deleted with it, never inherited by forks).
CREATE TABLE IF NOT EXISTS snapshots (stream TEXT PRIMARY KEY, pos INTEGER NOT NULL, offset TEXT NOT NULL, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS totals (one INTEGER PRIMARY KEY CHECK (one = 1), bytes INTEGER NOT NULL);
INSERT OR IGNORE INTO totals (one, bytes) VALUES (1, 0);
`;

/** Version 1 to 2: new columns, instance ids offsets can name, the byte accounting. */
const MIGRATE_1_TO_2 = `
ALTER TABLE streams ADD COLUMN ancestors TEXT NOT NULL DEFAULT '[]';
ALTER TABLE streams ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
UPDATE streams SET bytes = (SELECT coalesce(sum(length(data)) + count(*) * ${ENTRY_OVERHEAD_BYTES}, 0) FROM entries WHERE stream = streams.id);
`;

/**
 * Open the schema on a database: WAL (readers never block the writer, and an append is
 * durable against a killed process once its transaction committed), foreign writers wait
 * up to 5 s for the lock.
 */
export function prepareDatabase(db: Database.Database, synchronous: 'normal' | 'full'): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === 1) migrateFrom1(db);
  db.exec(SCHEMA);
  if (version === 0) db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

function migrateFrom1(db: Database.Database): void {
  db.transaction(() => {
    db.exec(MIGRATE_1_TO_2);
    const setInstance = db.prepare('UPDATE streams SET instance = ? WHERE id = ?');
    for (const { id } of db.prepare('SELECT id FROM streams').all() as { id: string }[]) setInstance.run(newInstance(), id);
    db.exec(SCHEMA);
    db.prepare('UPDATE totals SET bytes = (SELECT coalesce(sum(bytes), 0) FROM streams)').run();
    db.pragma('user_version = 2');
  })();
}

/** A row of `streams`. */
export interface StreamRow {
  id: string;
  instance: string;
  content_type: string;
  media_type: string;
  mode: 'json' | 'bytes';
  created_at: number;
  last_access: number;
  ttl_seconds: number | null;
  expires_at: number | null;
  req_content_type: string | null;
  req_ttl_seconds: number | null;
  req_expires_at: number | null;
  fork_source: string | null;
  fork_offset: string | null;
  fork_sub: number;
  closed: number;
  start_pos: number;
  tail_pos: number;
  last_stream_seq: string | null;
  forks: number;
  soft_deleted: number;
  /** The fork lineage: JSON `[{ instance, upTo }]`. */
  ancestors: string;
  /** The retained entries' bytes in the store's accounting (data plus ENTRY_OVERHEAD_BYTES each). */
  bytes: number;
}

/** A row of `entries`: `pos` is where it starts, `end_pos` where the next one does. */
export interface EntryRow {
  end_pos: number;
  pos: number;
  at: number;
  batch_end: number;
  data: Buffer;
}
