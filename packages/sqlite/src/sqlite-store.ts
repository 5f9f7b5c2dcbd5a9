import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { checkProducer, ENTRY_OVERHEAD_BYTES, formatOffset, hasExpired, mediaType, modeOf, newInstance, parseOffset, positionIn, SessionServerError } from '@durable-session/server';
import type { AppendOptions, AppendOutcome, CreateOutcome, CreateStreamOptions, DeleteOutcome, PutSnapshotOutcome, ReadOptions, ReadOutcome, SessionStore, SnapshotLookup, StoredSnapshot, StoredEntry, StreamInfo, StreamLookup, WaitOutcome } from '@durable-session/server';
import { Waiters } from './waiters';
import { prepareDatabase, SCHEMA_VERSION, type EntryRow, type StreamRow } from './schema';

/**
 * Options of {@link sqliteStore}.
 * @example
 * sqliteStore({ path: './sessions.db', retention: { maxEvents: 10_000 } });
 */
export interface SqliteStoreOptions {
  /** The database file (created when missing). */
  path: string;
  /** Drop the oldest entries of every stream beyond `maxEvents`, or older than `maxAgeMs`. */
  retention?: { maxEvents?: number; maxAgeMs?: number };
  /** Forget an idempotent producer after this long without an append from it. Default 7 days. */
  producerTtlMs?: number;
  /** At most this many entries per read (a read without `limit` too). Default 1000. */
  maxReadEntries?: number;
  /** How often expired streams are removed, in ms. Default 60 000. */
  sweepIntervalMs?: number;
  /**
   * `normal` (default): a committed append survives the process being killed; `full`: it also
   * survives the machine losing power (an fsync per append).
   */
  synchronous?: 'normal' | 'full';
  /** The clock (ms), for tests. Default `Date.now`. */
  now?: () => number;
  /** Most streams the file holds; a create past it is refused (`too-many-sessions`, 429). Default 100 000. */
  maxStreams?: number;
  /**
   * Most bytes of entries the file holds (data plus ENTRY_OVERHEAD_BYTES each, as the memory
   * store counts); an append or create past it is refused (`store-full`, 429). Default 4 GiB.
   */
  maxBytes?: number;
  /** Most deleted ids remembered (`head` answers `deleted`), the oldest forgotten first. Default 10 000. */
  maxTombstones?: number;
}

/**
 * Why the SQLite store cannot open a database: `schema-version` (written by a newer version).
 * @example
 * try { sqliteStore({ path }); } catch (e) { if (e instanceof SqliteStoreError) console.error(e.code); }
 */
export class SqliteStoreError extends Error {
  override readonly name = 'SqliteStoreError';
  constructor(
    readonly code: 'schema-version',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A {@link SessionStore} in one SQLite file (better-sqlite3, WAL): the store for one node whose
 * sessions must survive restarts. Every method is one transaction, so an acknowledged append is
 * in the file even if the process is killed right after. Waits are woken in-process by the
 * append (stores opened on the same file in one process wake each other), never by polling.
 * @example
 * import { createSessionServer } from '@durable-session/server';
 * import { sqliteStore } from '@durable-session/sqlite';
 * const server = createSessionServer({ store: sqliteStore({ path: './sessions.db' }) });
 */
export function sqliteStore(options: SqliteStoreOptions): SessionStore {
  return new SqliteStore(options);
}

type Lookup = StreamRow | 'not-found' | 'gone';

/** An instance a fork inherited from, and its last position the fork holds. */
type Ancestor = { instance: string; upTo: number };

/** The offset of a position in a stream: the one place this store mints offsets. */
function offsetIn(stream: Pick<StreamRow, 'instance'>, position: number): string {
  return formatOffset(stream.instance, position);
}

/** Where `offset` is in `stream` (its instance or its fork lineage's): see `positionIn`. */
function positionOf(offset: string, stream: Pick<StreamRow, 'instance' | 'ancestors'>): number | 'foreign' | undefined {
  return positionIn(offset, stream.instance, JSON.parse(stream.ancestors) as Ancestor[]);
}

/** The bytes entries cost in the store's accounting (as the memory store counts them). */
function sizeOf(data: readonly Uint8Array[]): number {
  return data.reduce((sum, d) => sum + d.byteLength + ENTRY_OVERHEAD_BYTES, 0);
}

class SqliteStore implements SessionStore {
  readonly #db: Database.Database;
  readonly #waiters: Waiters;
  readonly #now: () => number;
  readonly #maxEvents: number | undefined;
  readonly #maxAgeMs: number | undefined;
  readonly #producerTtlMs: number;
  readonly #maxReadEntries: number;
  readonly #maxStreams: number;
  readonly #maxBytes: number;
  readonly #maxTombstones: number;
  readonly #sweep: ReturnType<typeof setInterval>;
  readonly #sql: ReturnType<typeof statements>;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    this.#db = new Database(options.path);
    prepareDatabase(this.#db, options.synchronous ?? 'normal');
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      this.#db.close();
      throw new SqliteStoreError('schema-version', `${options.path} has schema ${version}; this version reads ${SCHEMA_VERSION}`);
    }
    this.#sql = statements(this.#db);
    this.#waiters = Waiters.of(canonicalPath(options.path));
    this.#now = options.now ?? Date.now;
    this.#maxEvents = options.retention?.maxEvents;
    this.#maxAgeMs = options.retention?.maxAgeMs;
    this.#producerTtlMs = options.producerTtlMs ?? 7 * 24 * 60 * 60 * 1000;
    this.#maxReadEntries = options.maxReadEntries ?? 1000;
    this.#maxStreams = options.maxStreams ?? 100_000;
    this.#maxBytes = options.maxBytes ?? 4 * 1024 * 1024 * 1024;
    this.#maxTombstones = options.maxTombstones ?? 10_000;
    this.#sweep = setInterval(() => this.#sweepExpired(), options.sweepIntervalMs ?? 60_000);
    this.#sweep.unref?.();
  }

  async create(id: string, options: CreateStreamOptions): Promise<CreateOutcome> {
    this.#assertOpen();
    return this.#db.transaction(() => this.#create(id, options)).immediate();
  }

  #create(id: string, options: CreateStreamOptions): CreateOutcome {
    const now = this.#now();
    const existing = this.#lookup(id, now);
    if (existing === 'gone') return { status: 'conflict', reason: 'the stream was deleted but forks still reference it' };
    const expiresAt = options.expiresAt === undefined ? undefined : Date.parse(options.expiresAt);
    if (existing !== 'not-found') return this.#confirm(existing, options, expiresAt);
    if ((this.#sql.countStreams.get() as { n: number }).n >= this.#maxStreams) {
      throw new SessionServerError('too-many-sessions', `the store holds its maximum of ${this.#maxStreams} streams`);
    }
    let contentType = options.contentType ?? 'application/octet-stream';
    let ttl = options.ttlSeconds;
    let exp = expiresAt;
    let inherited: { rows: EntryRow[]; end: number } = { rows: [], end: 0 };
    let ancestors: Ancestor[] = [];
    if (options.fork !== undefined) {
      const source = this.#lookup(options.fork.source, now);
      if (source === 'not-found') return { status: 'source-not-found' };
      if (source === 'gone') return { status: 'conflict', reason: 'the source stream was deleted' };
      if (options.contentType !== undefined && mediaType(options.contentType) !== source.media_type) {
        return { status: 'conflict', reason: `the source stream's content type is ${source.content_type}` };
      }
      contentType = options.contentType ?? source.content_type;
      const sliced = this.#sliceForFork(source, options.fork.offset, options.fork.subOffset ?? 0);
      if (typeof sliced === 'string') return { status: 'invalid-fork', reason: sliced };
      inherited = sliced;
      ancestors = [
        ...(JSON.parse(source.ancestors) as Ancestor[]).map((a) => ({ instance: a.instance, upTo: Math.min(a.upTo, sliced.end) })),
        { instance: source.instance, upTo: sliced.end },
      ];
      if (ttl === undefined && exp === undefined) {
        ttl = source.ttl_seconds ?? undefined;
        exp = source.expires_at ?? undefined;
      }
      this.#sql.addFork.run(source.id);
    }
    const inheritedBytes = sizeOf(inherited.rows.map((r) => r.data));
    this.#reserve(inheritedBytes + sizeOf(options.entries ?? []));
    this.#sql.deleteEntries.run(id);
    this.#sql.deleteProducers.run(id);
    this.#sql.unbury.run(id);
    this.#sql.insertStream.run({
      id,
      instance: newInstance(),
      content_type: contentType,
      media_type: mediaType(contentType),
      mode: modeOf(contentType),
      now,
      ttl: ttl ?? null,
      exp: exp ?? null,
      req_ct: options.contentType ?? null,
      req_ttl: options.ttlSeconds ?? null,
      req_exp: expiresAt ?? null,
      fork_source: options.fork?.source ?? null,
      fork_offset: options.fork?.offset ?? null,
      fork_sub: options.fork === undefined ? 0 : (options.fork.subOffset ?? 0),
      closed: options.closed === true ? 1 : 0,
      start: inherited.rows[0]?.pos ?? inherited.end,
      tail: inherited.end,
      ancestors: JSON.stringify(ancestors),
    });
    for (const row of inherited.rows) this.#sql.insertEntry.run({ stream: id, ...row });
    const stream = this.#row(id);
    this.#addBytes(stream, inheritedBytes);
    this.#write(stream, options.entries ?? [], now);
    this.#trim(stream, now);
    return { status: 'created', stream: info(this.#row(id)) };
  }

  #confirm(stream: StreamRow, options: CreateStreamOptions, expiresAt: number | undefined): CreateOutcome {
    const sameType =
      options.contentType === undefined
        ? options.fork !== undefined || stream.media_type === 'application/octet-stream'
        : mediaType(options.contentType) === stream.media_type;
    const fork = options.fork;
    const sameFork =
      fork === undefined
        ? stream.fork_source === null
        : stream.fork_source === fork.source && stream.fork_offset === (fork.offset ?? null) && stream.fork_sub === (fork.subOffset ?? 0);
    const same =
      sameType &&
      sameFork &&
      stream.req_ttl_seconds === (options.ttlSeconds ?? null) &&
      stream.req_expires_at === (expiresAt ?? null) &&
      stream.closed === (options.closed === true ? 1 : 0);
    return same
      ? { status: 'exists', stream: info(stream) }
      : { status: 'conflict', reason: 'a stream with a different configuration exists at this path' };
  }

  /** The entries a fork inherits (see the memory store): a string is why the fork is invalid. */
  #sliceForFork(source: StreamRow, offset: string | undefined, subOffset: number): { rows: EntryRow[]; end: number } | string {
    const at = offset === undefined ? source.tail_pos : positionOf(offset, source);
    if (at === undefined) return `malformed fork offset: ${String(offset)}`;
    if (at === 'foreign') return 'the fork offset is not an offset of the source stream';
    if (at > source.tail_pos) return 'the fork offset is beyond the source stream';
    if (at < source.start_pos) return "the fork offset is before the source stream's retained data";
    let end = at;
    if (subOffset > 0) {
      const entry = this.#sql.entryEndingAfter.get(source.id, at) as EntryRow | undefined;
      if (entry === undefined) return 'the sub-offset is past the end of the source stream';
      const boundary = source.mode === 'json' ? entry.batch_end : entry.end_pos;
      if (at + subOffset > boundary) return 'the sub-offset is past the next data boundary';
      end = at + subOffset;
    }
    const rows = (this.#sql.entriesBefore.all(source.id, end) as EntryRow[]).map((row) => {
      const cut = Math.min(row.end_pos, end);
      if (cut === row.end_pos) return { ...row, batch_end: Math.min(row.batch_end, end) };
      return { ...row, end_pos: cut, batch_end: end, data: row.data.subarray(0, cut - row.pos) };
    });
    return { rows, end };
  }

  async head(id: string, options: { touch?: boolean } = {}): Promise<StreamLookup> {
    this.#assertOpen();
    return this.#db
      .transaction((): StreamLookup => {
        const now = this.#now();
        const stream = this.#lookup(id, now);
        if (stream === 'not-found' && this.#sql.tombstone.get(id) !== undefined) return { status: 'deleted' };
        if (typeof stream === 'string') return { status: stream };
        if (options.touch === true) this.#sql.touch.run(now, id);
        return { status: 'ok', stream: info(stream) };
      })
      .immediate();
  }

  async append(id: string, options: AppendOptions): Promise<AppendOutcome> {
    this.#assertOpen();
    const outcome = this.#db.transaction(() => this.#append(id, options)).immediate();
    const tail = outcome.status === 'appended' ? (parseOffset(outcome.tail)?.position ?? 0) : 0;
    if (outcome.status === 'appended' && outcome.first !== outcome.tail) this.#waiters.changed(id, tail, outcome.closed);
    else if (outcome.status === 'appended' && outcome.closed) this.#waiters.changed(id, tail, true);
    return outcome;
  }

  #append(id: string, options: AppendOptions): AppendOutcome {
    const now = this.#now();
    const stream = this.#lookup(id, now);
    if (typeof stream === 'string') return { status: stream };
    const size = options.entries.reduce((sum, e) => sum + (stream.mode === 'json' ? 1 : e.byteLength), 0);
    const closeOnly = size === 0;
    const producer = options.producer;
    this.#sql.forgetProducers.run(id, now - this.#producerTtlMs);
    const tail = offsetIn(stream, stream.tail_pos);
    let verdict: ReturnType<typeof checkProducer> | undefined;
    if (producer !== undefined) {
      const state = this.#sql.producer.get(id, producer.id) as { epoch: number; last_seq: number } | undefined;
      verdict = checkProducer(state && { epoch: state.epoch, lastSeq: state.last_seq }, producer.epoch, producer.seq);
      if (verdict.kind === 'stale-epoch') return { status: 'stale-epoch', epoch: verdict.epoch };
      if (verdict.kind === 'duplicate') {
        this.#sql.touch.run(now, id);
        return { status: 'duplicate', tail, closed: stream.closed === 1, producer: { epoch: verdict.epoch, seq: verdict.highest } };
      }
    }
    if (stream.closed === 1) {
      if (!closeOnly || options.close !== true) return { status: 'closed', tail };
      this.#sql.touch.run(now, id);
      return { status: 'appended', first: tail, tail, closed: true, producer: undefined };
    }
    if (!closeOnly && options.contentType !== undefined && mediaType(options.contentType) !== stream.media_type) {
      return { status: 'content-type-mismatch', contentType: stream.content_type };
    }
    if (verdict?.kind === 'invalid-epoch-seq' && producer !== undefined) return { status: 'invalid-epoch-seq', epoch: producer.epoch, seq: producer.seq };
    if (verdict?.kind === 'gap') return { status: 'seq-gap', expected: verdict.expected, received: verdict.received };
    if (options.streamSeq !== undefined && stream.last_stream_seq !== null && options.streamSeq <= stream.last_stream_seq) {
      return { status: 'stream-seq-regression', last: stream.last_stream_seq };
    }
    const full = this.#sessionFull(stream, options);
    if (full !== undefined) return full;
    if (closeOnly && options.close !== true) return { status: 'appended', first: tail, tail, closed: false, producer: undefined };
    this.#reserve(sizeOf(options.entries));
    this.#write(stream, options.entries, now);
    if (verdict?.kind === 'accept' && producer !== undefined) this.#sql.saveProducer.run(id, producer.id, producer.epoch, producer.seq, now);
    this.#sql.afterAppend.run(now, options.streamSeq ?? null, options.close === true ? 1 : 0, id);
    this.#trim(stream, now);
    return {
      status: 'appended',
      first: tail,
      tail: offsetIn(stream, stream.tail_pos),
      closed: stream.closed === 1 || options.close === true,
      producer: producer === undefined ? undefined : { epoch: producer.epoch, seq: producer.seq },
    };
  }

  /** `session-full` when the append would take the stream past `options.limit`. */
  #sessionFull(stream: StreamRow, options: AppendOptions): AppendOutcome | undefined {
    const limit = options.limit;
    if (limit === undefined) return undefined;
    const events = (this.#sql.countEntries.get(stream.id) as { n: number }).n;
    if (events + options.entries.length > limit.maxEvents) return { status: 'session-full', limit: 'events', max: limit.maxEvents };
    if (stream.bytes + sizeOf(options.entries) > limit.maxBytes) return { status: 'session-full', limit: 'bytes', max: limit.maxBytes };
    return undefined;
  }

  /** Refuse (`store-full`) when `bytes` more would take the file past `maxBytes`. */
  #reserve(bytes: number): void {
    const total = (this.#sql.totalBytes.get() as { bytes: number }).bytes;
    if (total + bytes > this.#maxBytes) throw new SessionServerError('store-full', `the store holds its maximum of ${this.#maxBytes} bytes`);
  }

  /** Count `delta` bytes more (or fewer) retained in `stream` and in the file. */
  #addBytes(stream: StreamRow, delta: number): void {
    if (delta === 0) return;
    stream.bytes += delta;
    this.#sql.addBytes.run(delta, stream.id);
    this.#sql.addTotal.run(delta);
  }

  /** Insert entries at the tail (updating `stream.tail_pos` in memory and in the row). */
  #write(stream: StreamRow, data: readonly Uint8Array[], now: number): void {
    const sizes = data.map((d) => (stream.mode === 'json' ? 1 : d.byteLength));
    const batchEnd = stream.tail_pos + sizes.reduce((a, b) => a + b, 0);
    let written = 0;
    data.forEach((d, i) => {
      const size = sizes[i] ?? 0;
      if (size === 0) return;
      const row = { stream: stream.id, pos: stream.tail_pos, end_pos: stream.tail_pos + size, at: now, batch_end: batchEnd, data: Buffer.from(d) };
      this.#sql.insertEntry.run(row);
      stream.tail_pos += size;
      written += d.byteLength + ENTRY_OVERHEAD_BYTES;
    });
    this.#sql.setTail.run(stream.tail_pos, stream.id);
    this.#addBytes(stream, written);
  }

  async read(id: string, options: ReadOptions): Promise<ReadOutcome> {
    this.#assertOpen();
    if (options.from !== '-1' && parseOffset(options.from) === undefined) throw new SessionServerError('invalid-offset', `not an offset: ${options.from}`);
    return this.#db.transaction(() => this.#read(id, options)).immediate();
  }

  #read(id: string, options: ReadOptions): ReadOutcome {
    const now = this.#now();
    const stream = this.#lookup(id, now);
    if (typeof stream === 'string') return { status: stream };
    if (options.touch === true) this.#sql.touch.run(now, id);
    this.#trim(stream, now);
    const from = options.from === '-1' ? stream.start_pos : (positionOf(options.from, stream) ?? stream.start_pos);
    if (from === 'foreign' || from < stream.start_pos) return { status: 'offset-gone', earliest: offsetIn(stream, stream.start_pos) };
    if (from > stream.tail_pos) return { status: 'offset-beyond-tail', tail: offsetIn(stream, stream.tail_pos) };
    const limit = Math.max(1, Math.min(options.limit ?? this.#maxReadEntries, this.#maxReadEntries));
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const entries: StoredEntry[] = [];
    let bytes = 0;
    let next = from;
    for (const row of this.#sql.entriesFrom.all(id, from, limit) as EntryRow[]) {
      const skip = next - row.pos; // > 0 only when starting inside a byte chunk
      const data = new Uint8Array(skip > 0 ? row.data.subarray(skip) : row.data);
      if (entries.length > 0 && bytes + data.byteLength > maxBytes) break;
      entries.push({ offset: offsetIn(stream, next), next: offsetIn(stream, row.end_pos), data });
      bytes += data.byteLength;
      next = row.end_pos;
    }
    const upToDate = next === stream.tail_pos;
    return { status: 'ok', entries, next: offsetIn(stream, next), upToDate, closed: upToDate && stream.closed === 1, stream: info(stream) };
  }

  async wait(id: string, after: string, signal: AbortSignal): Promise<WaitOutcome> {
    this.#assertOpen();
    if (parseOffset(after) === undefined) throw new SessionServerError('invalid-offset', `not an offset: ${after}`);
    const stream = this.#db.transaction(() => this.#lookup(id, this.#now())).immediate();
    if (typeof stream === 'string') return 'not-found';
    const position = positionOf(after, stream) ?? 0;
    if (position === 'foreign') return 'changed'; // the read that follows answers 410
    if (signal.aborted) return 'aborted';
    if (stream.tail_pos > position || stream.closed === 1) return 'changed';
    // Registered synchronously after the check: no append of this process can slip in between.
    return this.#waiters.wait(this, id, position, signal);
  }

  async delete(id: string): Promise<DeleteOutcome> {
    this.#assertOpen();
    const outcome = this.#db
      .transaction((): DeleteOutcome => {
        const stream = this.#lookup(id, this.#now());
        if (typeof stream === 'string') return stream;
        this.#bury(id);
        return this.#remove(stream);
      })
      .immediate();
    return outcome;
  }

  async putSnapshot(id: string, snapshot: StoredSnapshot): Promise<PutSnapshotOutcome> {
    this.#assertOpen();
    return this.#db
      .transaction((): PutSnapshotOutcome => {
        const stream = this.#lookup(id, this.#now());
        if (typeof stream === 'string') return stream;
        const pos = positionIn(snapshot.offset, stream.instance, []);
        if (typeof pos !== 'number' || pos > stream.tail_pos) return 'invalid-offset';
        const held = this.#sql.snapshot.get(id) as { pos: number } | undefined;
        if (held !== undefined && held.pos >= pos) return 'stale';
        this.#sql.putSnapshot.run(id, pos, snapshot.offset, Buffer.from(snapshot.data));
        return 'stored';
      })
      .immediate();
  }

  async getSnapshot(id: string): Promise<SnapshotLookup> {
    this.#assertOpen();
    return this.#db
      .transaction((): SnapshotLookup => {
        const stream = this.#lookup(id, this.#now());
        if (typeof stream === 'string') return { status: stream };
        const held = this.#sql.snapshot.get(id) as { offset: string; data: Buffer } | undefined;
        return held === undefined ? { status: 'none' } : { status: 'ok', snapshot: { offset: held.offset, data: new Uint8Array(held.data) } };
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#waiters.abortAll(this);
    this.#db.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new SessionServerError('closed', 'the store is closed');
  }

  #row(id: string): StreamRow {
    return this.#sql.stream.get(id) as StreamRow;
  }

  /** The live stream, removing it first when its time is up. */
  #lookup(id: string, now: number): Lookup {
    const stream = this.#sql.stream.get(id) as StreamRow | undefined;
    if (stream === undefined) return 'not-found';
    if (stream.soft_deleted === 1) return 'gone';
    if (expired(stream, now)) return this.#remove(stream) === 'deleted' ? 'not-found' : 'gone';
    return stream;
  }

  /** Remember a deleted id (bounded: the oldest tombstones go first). */
  #bury(id: string): void {
    this.#sql.bury.run(id);
    this.#sql.forgetTombstones.run(this.#maxTombstones);
  }

  #remove(stream: StreamRow): 'deleted' | 'soft-deleted' {
    this.#waiters.deleted(stream.id);
    this.#addBytes(stream, -stream.bytes);
    this.#sql.deleteEntries.run(stream.id);
    this.#sql.deleteProducers.run(stream.id);
    this.#sql.deleteSnapshot.run(stream.id);
    if (stream.forks > 0) {
      this.#sql.softDelete.run(stream.id);
      return 'soft-deleted';
    }
    this.#sql.deleteStream.run(stream.id);
    if (stream.fork_source !== null) this.#release(stream.fork_source);
    return 'deleted';
  }

  /** A fork of `id` went away: drop `id` too when it was soft-deleted and this was its last fork. */
  #release(id: string): void {
    this.#sql.releaseFork.run(id);
    const source = this.#sql.stream.get(id) as StreamRow | undefined;
    if (source === undefined || source.forks > 0 || source.soft_deleted !== 1) return;
    this.#sql.deleteStream.run(id);
    if (source.fork_source !== null) this.#release(source.fork_source);
  }

  /** Retention: drop entries beyond `maxEvents` or older than `maxAgeMs`. */
  #trim(stream: StreamRow, now: number): void {
    const dropped: { size: number }[] = [];
    if (this.#maxEvents !== undefined) dropped.push(...(this.#sql.trimCount.all(stream.id, stream.id, this.#maxEvents, stream.id) as { size: number }[]));
    if (this.#maxAgeMs !== undefined) dropped.push(...(this.#sql.trimAge.all(stream.id, now - this.#maxAgeMs, stream.id) as { size: number }[]));
    if (dropped.length === 0) return;
    this.#addBytes(stream, -dropped.reduce((sum, d) => sum + d.size + ENTRY_OVERHEAD_BYTES, 0));
    const first = this.#sql.firstEntry.get(stream.id) as { pos: number } | undefined;
    stream.start_pos = first?.pos ?? stream.tail_pos;
    this.#sql.setStart.run(stream.start_pos, stream.id);
  }

  #sweepExpired(): void {
    if (this.#closed) return;
    const now = this.#now();
    this.#db
      .transaction(() => {
        for (const row of this.#sql.live.all() as StreamRow[]) if (expired(row, now)) this.#remove(row);
      })
      .immediate();
  }
}

function expired(stream: StreamRow, now: number): boolean {
  return hasExpired({ expiresAtMs: stream.expires_at, ttlSeconds: stream.ttl_seconds, lastAccessMs: stream.last_access }, now);
}

function info(stream: StreamRow): StreamInfo {
  return {
    id: stream.id,
    instance: stream.instance,
    contentType: stream.content_type,
    tail: offsetIn(stream, stream.tail_pos),
    start: offsetIn(stream, stream.start_pos),
    closed: stream.closed === 1,
    ttlSeconds: stream.ttl_seconds ?? undefined,
    expiresAt: stream.expires_at === null ? undefined : new Date(stream.expires_at).toISOString(),
    createdAt: stream.created_at,
    fork: stream.fork_source === null ? undefined : { source: stream.fork_source, offset: stream.fork_offset ?? undefined, subOffset: stream.fork_sub },
  };
}

/** One key per database file, however it was named (a missing file: its directory's real path). */
function canonicalPath(path: string): string {
  if (path === ':memory:' || path === '') return `${path}#${randomBytes(8).toString('hex')}`;
  try {
    return realpathSync(path);
  } catch {
    return join(realpathSync(dirname(resolve(path))), basename(path));
  }
}

/** Retention never drops what the stream's snapshot does not cover (its last `?`: the stream id). */
const COVERED = '(SELECT coalesce(max(pos), 9007199254740991) FROM snapshots WHERE stream = ?)';

function statements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    stream: p('SELECT * FROM streams WHERE id = ?'),
    live: p('SELECT * FROM streams WHERE soft_deleted = 0 AND (ttl_seconds IS NOT NULL OR expires_at IS NOT NULL)'),
    insertStream: p(`INSERT INTO streams (id, instance, content_type, media_type, mode, created_at, last_access, ttl_seconds, expires_at,
      req_content_type, req_ttl_seconds, req_expires_at, fork_source, fork_offset, fork_sub, closed, start_pos, tail_pos, ancestors)
      VALUES (@id, @instance, @content_type, @media_type, @mode, @now, @now, @ttl, @exp, @req_ct, @req_ttl, @req_exp,
      @fork_source, @fork_offset, @fork_sub, @closed, @start, @tail, @ancestors)`),
    countStreams: p('SELECT count(*) AS n FROM streams'),
    countEntries: p('SELECT count(*) AS n FROM entries WHERE stream = ?'),
    addBytes: p('UPDATE streams SET bytes = bytes + ? WHERE id = ?'),
    totalBytes: p('SELECT bytes FROM totals WHERE one = 1'),
    addTotal: p('UPDATE totals SET bytes = bytes + ? WHERE one = 1'),
    tombstone: p('SELECT 1 FROM tombstones WHERE id = ?'),
    bury: p('INSERT OR REPLACE INTO tombstones (id) VALUES (?)'),
    unbury: p('DELETE FROM tombstones WHERE id = ?'),
    forgetTombstones: p('DELETE FROM tombstones WHERE rowid IN (SELECT rowid FROM tombstones ORDER BY rowid DESC LIMIT -1 OFFSET ?)'),
    deleteStream: p('DELETE FROM streams WHERE id = ?'),
    softDelete: p('UPDATE streams SET soft_deleted = 1 WHERE id = ?'),
    addFork: p('UPDATE streams SET forks = forks + 1 WHERE id = ?'),
    releaseFork: p('UPDATE streams SET forks = forks - 1 WHERE id = ?'),
    touch: p('UPDATE streams SET last_access = ? WHERE id = ?'),
    setTail: p('UPDATE streams SET tail_pos = ? WHERE id = ?'),
    setStart: p('UPDATE streams SET start_pos = ? WHERE id = ?'),
    afterAppend: p('UPDATE streams SET last_access = ?, last_stream_seq = coalesce(?, last_stream_seq), closed = max(closed, ?) WHERE id = ?'),
    insertEntry: p('INSERT INTO entries (stream, end_pos, pos, at, batch_end, data) VALUES (@stream, @end_pos, @pos, @at, @batch_end, @data)'),
    deleteEntries: p('DELETE FROM entries WHERE stream = ?'),
    entriesFrom: p('SELECT end_pos, pos, at, batch_end, data FROM entries WHERE stream = ? AND end_pos > ? ORDER BY end_pos LIMIT ?'),
    entryEndingAfter: p('SELECT end_pos, pos, at, batch_end, data FROM entries WHERE stream = ? AND end_pos > ? ORDER BY end_pos LIMIT 1'),
    entriesBefore: p('SELECT end_pos, pos, at, batch_end, data FROM entries WHERE stream = ? AND pos < ? ORDER BY end_pos'),
    firstEntry: p('SELECT pos FROM entries WHERE stream = ? ORDER BY end_pos LIMIT 1'),
    trimCount: p(`DELETE FROM entries WHERE stream = ? AND end_pos <= coalesce((SELECT end_pos FROM entries WHERE stream = ?
      ORDER BY end_pos DESC LIMIT 1 OFFSET ?), -1) AND pos < ${COVERED} RETURNING length(data) AS size`),
    trimAge: p(`DELETE FROM entries WHERE stream = ? AND at < ? AND pos < ${COVERED} RETURNING length(data) AS size`),
    snapshot: p('SELECT pos, offset, data FROM snapshots WHERE stream = ?'),
    putSnapshot: p('INSERT OR REPLACE INTO snapshots (stream, pos, offset, data) VALUES (?, ?, ?, ?)'),
    deleteSnapshot: p('DELETE FROM snapshots WHERE stream = ?'),
    producer: p('SELECT epoch, last_seq FROM producers WHERE stream = ? AND producer = ?'),
    saveProducer: p('INSERT OR REPLACE INTO producers (stream, producer, epoch, last_seq, at) VALUES (?, ?, ?, ?, ?)'),
    forgetProducers: p('DELETE FROM producers WHERE stream = ? AND at <= ?'),
    deleteProducers: p('DELETE FROM producers WHERE stream = ?'),
  };
}
