import { mediaType, modeOf, type StreamMode } from './content-type';
import { hasExpired } from './expiry';
import { SessionServerError } from './errors';
import { EntryLog } from './memory-log';
import { BEGINNING, formatOffset, newInstance, offsetsOf, positionIn } from './offsets';
import { checkProducer, type ProducerState, type ProducerVerdict } from './producer';
import type {
  AppendOptions,
  AppendOutcome,
  CreateOutcome,
  CreateStreamOptions,
  DeleteOutcome,
  ForkOrigin,
  PutSnapshotOutcome,
  ReadOptions,
  ReadOutcome,
  SessionStore,
  SnapshotLookup,
  StoredSnapshot,
  StreamInfo,
  StreamLookup,
  WaitOutcome,
} from './store';

/**
 * Options of {@link memoryStore}.
 * @example
 * memoryStore({ retention: { maxEvents: 1000, maxAgeMs: 3_600_000 } });
 */
export interface MemoryStoreOptions {
  /**
   * Drop the oldest entries of every stream beyond `maxEvents` entries, or older than
   * `maxAgeMs`. A read from an offset before what is retained answers 410 Gone.
   */
  retention?: { maxEvents?: number; maxAgeMs?: number };
  /** How often expired streams, aged-out entries and idle producers are swept, in ms. Default 1000. */
  sweepIntervalMs?: number;
  /**
   * Forget an idempotent producer's state (`Producer-Id` → epoch and seq) after this long
   * without an append from it, so the state of finished producers (one per turn and agent)
   * does not pile up. A producer heard from again after that must start at seq 0.
   * Default 7 days (what the protocol suggests).
   */
  producerTtlMs?: number;
  /**
   * Most streams the store holds (sessions, plus the host's session index). A create past it
   * is refused with `too-many-sessions` (HTTP 429); nothing is evicted. Default 10,000.
   */
  maxStreams?: number;
  /**
   * Most bytes the store holds, all streams together (each entry counts its data plus
   * {@link ENTRY_OVERHEAD_BYTES}). An append or create past it is refused with `store-full`
   * (HTTP 507 is not used: 429 tells the caller to come back later). Default 256 MiB.
   */
  maxBytes?: number;
  /**
   * How many deleted stream ids are remembered (so requests for them answer 404 `deleted`
   * rather than `not-found`); the oldest are forgotten first. Default 10,000.
   */
  maxTombstones?: number;
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * What one stored entry costs beyond its data, in the byte accounting of every store
 * (`maxBytes`, `AppendOptions.limit`). A unit of accounting shared by the memory, Redis and
 * SQLite stores (and SQLite's stored totals), not the memory store's real cost, which is less
 * (see `memory-log.ts`: 16 bytes of metadata per entry).
 */
export const ENTRY_OVERHEAD_BYTES = 128;

interface MemoryStream {
  id: string;
  instance: string;
  contentType: string;
  mode: StreamMode;
  createdAt: number;
  lastAccess: number;
  /** Effective sliding TTL (own or inherited). */
  ttlSeconds: number | undefined;
  /** Effective absolute expiry in ms (own or inherited). */
  expiresAtMs: number | undefined;
  /** What the creating request asked for, to recognise an identical PUT. */
  requested: { contentType: string | undefined; ttlSeconds: number | undefined; expiresAtMs: number | undefined; fork: ForkOrigin | undefined };
  closed: boolean;
  /** The retained entries, and the start and tail positions. */
  log: EntryLog;
  /** Idempotent producers' state, with when each last appended: oldest first (re-inserted on every append). */
  producers: Map<string, { state: ProducerState; at: number }>;
  /** Instances whose offsets this stream accepts up to a position (a fork's sources). */
  ancestors: { instance: string; upTo: number }[];
  lastStreamSeq: string | undefined;
  /** Forks that reference this stream. */
  forks: number;
  softDeleted: boolean;
  /** The newest snapshot and the position it covers. */
  snapshot: { value: StoredSnapshot; pos: number } | undefined;
  waiters: Set<(outcome: WaitOutcome) => void>;
}

/**
 * The embedded, in-process {@link SessionStore}: the default of `createSessionServer`.
 * Appends are synchronous inside the store, so every check-and-append is atomic.
 * Waiters are woken by appends (no polling). Forks copy the inherited entries.
 * @example
 * const store = memoryStore();
 * await store.create('chat-1', { contentType: 'application/json' });
 * await store.append('chat-1', { entries: [new TextEncoder().encode('{"type":"hello"}')] });
 * const r = await store.read('chat-1', { from: '-1' });
 */
export function memoryStore(options: MemoryStoreOptions = {}): SessionStore {
  return new MemoryStore(options);
}

class MemoryStore implements SessionStore {
  readonly #streams = new Map<string, MemoryStream>();
  /** Deleted ids, oldest first. */
  readonly #tombstones = new Set<string>();
  readonly #now: () => number;
  readonly #maxEvents: number | undefined;
  readonly #maxAgeMs: number | undefined;
  readonly #producerTtlMs: number;
  readonly #maxStreams: number;
  readonly #maxBytes: number;
  readonly #maxTombstones: number;
  readonly #sweep: ReturnType<typeof setInterval>;
  #bytes = 0;
  #closed = false;

  constructor(options: MemoryStoreOptions) {
    this.#now = options.now ?? Date.now;
    this.#maxEvents = options.retention?.maxEvents;
    this.#maxAgeMs = options.retention?.maxAgeMs;
    this.#producerTtlMs = options.producerTtlMs ?? 7 * 24 * 60 * 60 * 1000;
    this.#maxStreams = options.maxStreams ?? 10_000;
    this.#maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.#maxTombstones = options.maxTombstones ?? 10_000;
    this.#sweep = setInterval(() => this.#sweepAll(), options.sweepIntervalMs ?? 1000);
    this.#sweep.unref?.();
  }

  async create(id: string, options: CreateStreamOptions): Promise<CreateOutcome> {
    this.#assertOpen();
    const now = this.#now();
    const existing = this.#lookup(id, now);
    if (existing === 'gone') return { status: 'conflict', reason: 'the stream was deleted but forks still reference it' };
    const requestedExpiresAtMs = options.expiresAt === undefined ? undefined : Date.parse(options.expiresAt);
    if (existing !== 'not-found') return this.#confirm(existing, options, requestedExpiresAtMs);
    if (this.#streams.size >= this.#maxStreams) {
      throw new SessionServerError('too-many-sessions', `the store holds its maximum of ${this.#maxStreams} streams`);
    }
    const origin = this.#forkOrigin(options, now);
    if ('status' in origin) return origin;
    const stream = newStream(id, options, origin, requestedExpiresAtMs, now);
    this.#reserve(sizeOf(options.entries ?? []));
    stream.log.append(options.entries ?? [], now);
    this.#bytes += held(stream);
    if (origin.source !== undefined) origin.source.forks++;
    this.#tombstones.delete(id);
    this.#streams.set(id, stream);
    this.#trim(stream, now);
    return { status: 'created', stream: info(stream) };
  }

  /** What a new stream inherits: from its fork source, or nothing. */
  #forkOrigin(options: CreateStreamOptions, now: number): Inherited | Extract<CreateOutcome, { status: 'source-not-found' | 'conflict' | 'invalid-fork' }> {
    const expiresAtMs = options.expiresAt === undefined ? undefined : Date.parse(options.expiresAt);
    const base: Inherited = {
      contentType: options.contentType ?? 'application/octet-stream',
      ttlSeconds: options.ttlSeconds,
      expiresAtMs,
      log: undefined,
      source: undefined,
      fork: undefined,
      ancestors: [],
    };
    if (options.fork === undefined) return base;
    const found = this.#lookup(options.fork.source, now);
    if (found === 'not-found') return { status: 'source-not-found' };
    if (found === 'gone') return { status: 'conflict', reason: 'the source stream was deleted' };
    if (options.contentType !== undefined && mediaType(options.contentType) !== mediaType(found.contentType)) {
      return { status: 'conflict', reason: `the source stream's content type is ${found.contentType}` };
    }
    const subOffset = options.fork.subOffset ?? 0;
    const log = sliceForFork(found, options.fork.offset, subOffset);
    if (typeof log === 'string') return { status: 'invalid-fork', reason: log };
    const inheritsExpiry = options.ttlSeconds === undefined && expiresAtMs === undefined;
    return {
      contentType: options.contentType ?? found.contentType,
      ttlSeconds: inheritsExpiry ? found.ttlSeconds : options.ttlSeconds,
      expiresAtMs: inheritsExpiry ? found.expiresAtMs : expiresAtMs,
      log,
      source: found,
      fork: { source: found.id, offset: options.fork.offset, subOffset },
      ancestors: [
        ...found.ancestors.map((a) => ({ instance: a.instance, upTo: Math.min(a.upTo, log.tailPos) })),
        { instance: found.instance, upTo: log.tailPos },
      ],
    };
  }

  /** Refuse (`store-full`) when `bytes` more would exceed the store's byte bound. */
  #reserve(bytes: number): void {
    if (this.#bytes + bytes > this.#maxBytes) {
      throw new SessionServerError('store-full', `the store holds its maximum of ${this.#maxBytes} bytes`);
    }
  }

  async head(id: string, options: { touch?: boolean } = {}): Promise<StreamLookup> {
    this.#assertOpen();
    const now = this.#now();
    const stream = this.#lookup(id, now);
    if (stream === 'not-found') return { status: this.#tombstones.has(id) ? 'deleted' : 'not-found' };
    if (typeof stream === 'string') return { status: stream };
    if (options.touch === true) stream.lastAccess = now;
    return { status: 'ok', stream: info(stream) };
  }

  async append(id: string, options: AppendOptions): Promise<AppendOutcome> {
    this.#assertOpen();
    const now = this.#now();
    const stream = this.#lookup(id, now);
    if (typeof stream === 'string') return { status: stream };
    const size = options.entries.reduce((sum, e) => sum + (stream.mode === 'json' ? 1 : e.byteLength), 0);
    const closeOnly = size === 0;
    const producer = options.producer;
    const verdict = producer === undefined ? undefined : checkProducer(stream.producers.get(producer.id)?.state, producer.epoch, producer.seq);
    const refused = this.#refusal(stream, options, verdict, closeOnly, now);
    if (refused !== undefined) return refused;

    const first = stream.log.tailPos;
    if (closeOnly && options.close !== true) {
      const tail = formatOffset(stream.instance, first); // nothing to write: no change to announce
      return { status: 'appended', first: tail, tail, closed: false, producer: undefined };
    }
    this.#reserve(sizeOf(options.entries));
    const before = held(stream);
    stream.log.append(options.entries, now);
    this.#bytes += held(stream) - before;
    if (verdict?.kind === 'accept' && producer !== undefined) {
      stream.producers.delete(producer.id); // re-inserted last: the map stays ordered by last append
      stream.producers.set(producer.id, { state: verdict.state, at: now });
    }
    if (options.streamSeq !== undefined) stream.lastStreamSeq = options.streamSeq;
    if (options.close === true) stream.closed = true;
    stream.lastAccess = now;
    this.#trim(stream, now);
    notify(stream, 'changed');
    return {
      status: 'appended',
      first: formatOffset(stream.instance, first),
      tail: formatOffset(stream.instance, stream.log.tailPos),
      closed: stream.closed,
      producer: producer === undefined ? undefined : { epoch: producer.epoch, seq: producer.seq },
    };
  }

  /** Every check of an append, in the protocol's order; `undefined` when it may be written. */
  #refusal(stream: MemoryStream, options: AppendOptions, verdict: ProducerVerdict | undefined, closeOnly: boolean, now: number): AppendOutcome | undefined {
    const tail = (): string => formatOffset(stream.instance, stream.log.tailPos);
    if (verdict?.kind === 'stale-epoch') return { status: 'stale-epoch', epoch: verdict.epoch };
    if (verdict?.kind === 'duplicate') {
      stream.lastAccess = now;
      return { status: 'duplicate', tail: tail(), closed: stream.closed, producer: { epoch: verdict.epoch, seq: verdict.highest } };
    }
    if (stream.closed) {
      if (closeOnly && options.close === true) {
        stream.lastAccess = now;
        return { status: 'appended', first: tail(), tail: tail(), closed: true, producer: undefined };
      }
      return { status: 'closed', tail: tail() };
    }
    if (!closeOnly && options.contentType !== undefined && mediaType(options.contentType) !== mediaType(stream.contentType)) {
      return { status: 'content-type-mismatch', contentType: stream.contentType };
    }
    if (verdict?.kind === 'invalid-epoch-seq' && options.producer !== undefined) {
      return { status: 'invalid-epoch-seq', epoch: options.producer.epoch, seq: options.producer.seq };
    }
    if (verdict?.kind === 'gap') return { status: 'seq-gap', expected: verdict.expected, received: verdict.received };
    if (options.streamSeq !== undefined && stream.lastStreamSeq !== undefined && options.streamSeq <= stream.lastStreamSeq) {
      return { status: 'stream-seq-regression', last: stream.lastStreamSeq };
    }
    const limit = options.limit;
    if (limit !== undefined && stream.log.count + options.entries.length > limit.maxEvents) {
      return { status: 'session-full', limit: 'events', max: limit.maxEvents };
    }
    if (limit !== undefined && held(stream) + sizeOf(options.entries) > limit.maxBytes) {
      return { status: 'session-full', limit: 'bytes', max: limit.maxBytes };
    }
    return undefined;
  }

  async read(id: string, options: ReadOptions): Promise<ReadOutcome> {
    this.#assertOpen();
    const now = this.#now();
    const stream = this.#lookup(id, now);
    if (typeof stream === 'string') return { status: stream };
    if (options.touch === true) stream.lastAccess = now;
    this.#trim(stream, now);
    const { log } = stream;
    const from = options.from === BEGINNING ? log.startPos : positionIn(options.from, stream.instance, stream.ancestors);
    if (from === undefined) throw new SessionServerError('invalid-offset', `not an offset: ${options.from}`);
    const at = offsetsOf(stream.instance);
    if (from === 'foreign') return { status: 'offset-gone', earliest: at(log.startPos) };
    if (from < log.startPos) return { status: 'offset-gone', earliest: at(log.startPos) };
    if (from > log.tailPos) return { status: 'offset-beyond-tail', tail: at(log.tailPos) };
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const { entries, next } = log.read(from, limit, maxBytes, at);
    const upToDate = next === log.tailPos;
    return { status: 'ok', entries, next: at(next), upToDate, closed: upToDate && stream.closed, stream: info(stream) };
  }

  async wait(id: string, after: string, signal: AbortSignal): Promise<WaitOutcome> {
    this.#assertOpen();
    const stream = this.#lookup(id, this.#now());
    if (typeof stream === 'string') return 'not-found';
    const position = positionIn(after, stream.instance, stream.ancestors);
    if (position === undefined) throw new SessionServerError('invalid-offset', `not an offset: ${after}`);
    if (position === 'foreign') return 'changed'; // the read that follows answers 410
    if (signal.aborted) return 'aborted';
    if (stream.log.tailPos > position || stream.closed) return 'changed';
    return new Promise<WaitOutcome>((resolve) => {
      const finish = (outcome: WaitOutcome): void => {
        stream.waiters.delete(finish);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = (): void => finish('aborted');
      stream.waiters.add(finish);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async putSnapshot(id: string, snapshot: StoredSnapshot): Promise<PutSnapshotOutcome> {
    this.#assertOpen();
    const stream = this.#lookup(id, this.#now());
    if (typeof stream === 'string') return stream;
    const pos = positionIn(snapshot.offset, stream.instance, []);
    if (typeof pos !== 'number' || pos > stream.log.tailPos) return 'invalid-offset';
    const held = stream.snapshot;
    if (held !== undefined && held.pos >= pos) return 'stale';
    const data = snapshot.data.slice();
    this.#bytes += data.byteLength - (held?.value.data.byteLength ?? 0);
    stream.snapshot = { value: { offset: snapshot.offset, data }, pos };
    return 'stored';
  }

  async getSnapshot(id: string): Promise<SnapshotLookup> {
    this.#assertOpen();
    const stream = this.#lookup(id, this.#now());
    if (typeof stream === 'string') return { status: stream };
    const held = stream.snapshot;
    return held === undefined ? { status: 'none' } : { status: 'ok', snapshot: { offset: held.value.offset, data: held.value.data.slice() } };
  }

  async delete(id: string): Promise<DeleteOutcome> {
    this.#assertOpen();
    const stream = this.#lookup(id, this.#now());
    if (typeof stream === 'string') return stream;
    return this.#remove(stream, true);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const stream of this.#streams.values()) notify(stream, 'aborted');
    this.#streams.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new SessionServerError('closed', 'the store is closed');
  }

  /** The live stream, expiring it first when its time is up. */
  #lookup(id: string, now: number): MemoryStream | 'not-found' | 'gone' {
    const stream = this.#streams.get(id);
    if (stream === undefined) return 'not-found';
    if (stream.softDeleted) return 'gone';
    if (expired(stream, now)) return this.#remove(stream, false) === 'deleted' ? 'not-found' : 'gone';
    return stream;
  }

  #confirm(stream: MemoryStream, options: CreateStreamOptions, expiresAtMs: number | undefined): CreateOutcome {
    const asked = stream.requested;
    const sameType =
      options.contentType === undefined
        ? options.fork !== undefined || mediaType(stream.contentType) === 'application/octet-stream'
        : mediaType(options.contentType) === mediaType(stream.contentType);
    const fork = options.fork;
    const sameFork =
      fork === undefined
        ? asked.fork === undefined
        : asked.fork !== undefined &&
          asked.fork.source === fork.source &&
          asked.fork.offset === fork.offset &&
          asked.fork.subOffset === (fork.subOffset ?? 0);
    const same =
      sameType &&
      sameFork &&
      asked.ttlSeconds === options.ttlSeconds &&
      asked.expiresAtMs === expiresAtMs &&
      stream.closed === (options.closed === true);
    return same
      ? { status: 'exists', stream: info(stream) }
      : { status: 'conflict', reason: 'a stream with a different configuration exists at this path' };
  }

  /** Remove a stream (`bury`: deleted on request, so leave a tombstone; expiry leaves none). */
  #remove(stream: MemoryStream, bury: boolean): 'deleted' | 'soft-deleted' {
    notify(stream, 'not-found');
    this.#bytes -= held(stream) + (stream.snapshot?.value.data.byteLength ?? 0);
    stream.log.clear();
    stream.snapshot = undefined;
    if (bury) this.#bury(stream.id);
    if (stream.forks > 0) {
      stream.softDeleted = true;
      stream.producers.clear();
      return 'soft-deleted';
    }
    this.#streams.delete(stream.id);
    if (stream.requested.fork !== undefined) this.#release(stream.requested.fork.source);
    return 'deleted';
  }

  /** Remember a deleted id (bounded: the oldest tombstones go first). */
  #bury(id: string): void {
    this.#tombstones.delete(id);
    this.#tombstones.add(id);
    while (this.#tombstones.size > this.#maxTombstones) this.#tombstones.delete(this.#tombstones.values().next().value as string);
  }

  /** A fork of `id` went away: drop `id` too when it was soft-deleted and this was its last fork. */
  #release(id: string): void {
    const source = this.#streams.get(id);
    if (source === undefined) return;
    source.forks--;
    if (source.forks <= 0 && source.softDeleted) {
      this.#streams.delete(id);
      if (source.requested.fork !== undefined) this.#release(source.requested.fork.source);
    }
  }

  /** Apply retention: drop entries beyond `maxEvents` or older than `maxAgeMs`. */
  #trim(stream: MemoryStream, now: number): void {
    const { log } = stream;
    let drop = 0;
    if (this.#maxEvents !== undefined && log.count > this.#maxEvents) drop = log.count - this.#maxEvents;
    if (this.#maxAgeMs !== undefined) drop = log.firstNotOlder(drop, now - this.#maxAgeMs);
    // Never drop what the newest snapshot does not cover: a reader sent 410 rebuilds from it.
    const covered = stream.snapshot?.pos;
    if (covered !== undefined && drop > 0) drop = Math.min(drop, log.countBefore(covered));
    if (drop === 0) return;
    const before = held(stream);
    log.drop(drop);
    this.#bytes -= before - held(stream);
  }

  #sweepAll(): void {
    const now = this.#now();
    for (const stream of this.#streams.values()) {
      if (stream.softDeleted) continue;
      if (expired(stream, now)) {
        this.#remove(stream, false);
        continue;
      }
      this.#trim(stream, now);
      this.#forgetIdleProducers(stream, now);
    }
  }

  /** Drop the state of producers without an append for `producerTtlMs` (the map is ordered by last append). */
  #forgetIdleProducers(stream: MemoryStream, now: number): void {
    for (const [id, { at }] of stream.producers) {
      if (now - at < this.#producerTtlMs) return;
      stream.producers.delete(id);
    }
  }
}

/** What a new stream starts from (its fork source's entries, or nothing). */
interface Inherited {
  contentType: string;
  ttlSeconds: number | undefined;
  expiresAtMs: number | undefined;
  /** The inherited entries (`undefined`: none, from position 0). */
  log: EntryLog | undefined;
  source: MemoryStream | undefined;
  fork: ForkOrigin | undefined;
  ancestors: { instance: string; upTo: number }[];
}

function newStream(id: string, options: CreateStreamOptions, from: Inherited, requestedExpiresAtMs: number | undefined, now: number): MemoryStream {
  const mode = modeOf(from.contentType);
  return {
    id,
    instance: newInstance(),
    contentType: from.contentType,
    mode,
    createdAt: now,
    lastAccess: now,
    ttlSeconds: from.ttlSeconds,
    expiresAtMs: from.expiresAtMs,
    requested: { contentType: options.contentType, ttlSeconds: options.ttlSeconds, expiresAtMs: requestedExpiresAtMs, fork: from.fork },
    closed: options.closed === true,
    log: from.log ?? new EntryLog(mode === 'json', 0),
    producers: new Map(),
    ancestors: from.ancestors,
    lastStreamSeq: undefined,
    forks: 0,
    softDeleted: false,
    snapshot: undefined,
    waiters: new Set(),
  };
}

/** The bytes entries cost in the store's accounting. */
function sizeOf(data: readonly Uint8Array[]): number {
  return data.reduce((sum, d) => sum + d.byteLength + ENTRY_OVERHEAD_BYTES, 0);
}

/** The bytes a stream's retained entries cost in the store's accounting (data plus overhead per entry). */
function held(stream: MemoryStream): number {
  return stream.log.dataBytes + stream.log.count * ENTRY_OVERHEAD_BYTES;
}

function expired(stream: MemoryStream, now: number): boolean {
  return hasExpired({ expiresAtMs: stream.expiresAtMs, ttlSeconds: stream.ttlSeconds, lastAccessMs: stream.lastAccess }, now);
}

function info(stream: MemoryStream): StreamInfo {
  return {
    id: stream.id,
    instance: stream.instance,
    contentType: stream.contentType,
    tail: formatOffset(stream.instance, stream.log.tailPos),
    start: formatOffset(stream.instance, stream.log.startPos),
    closed: stream.closed,
    ttlSeconds: stream.ttlSeconds,
    expiresAt: stream.expiresAtMs === undefined ? undefined : new Date(stream.expiresAtMs).toISOString(),
    createdAt: stream.createdAt,
    fork: stream.requested.fork,
  };
}

function notify(stream: MemoryStream, outcome: WaitOutcome): void {
  if (stream.waiters.size === 0) return;
  for (const waiter of [...stream.waiters]) waiter(outcome);
}

/**
 * The entries a fork inherits: everything retained before `offset` plus `subOffset`
 * messages/bytes of the append starting there. A string is the reason it is invalid.
 */
function sliceForFork(source: MemoryStream, offset: string | undefined, subOffset: number): EntryLog | string {
  const { log } = source;
  const at = offset === undefined ? log.tailPos : positionIn(offset, source.instance, source.ancestors);
  if (at === undefined) return `malformed fork offset: ${String(offset)}`;
  if (at === 'foreign') return 'the fork offset is not an offset of the source stream';
  if (at > log.tailPos) return 'the fork offset is beyond the source stream';
  if (at < log.startPos) return "the fork offset is before the source stream's retained data";
  if (subOffset > 0) {
    const boundary = log.boundaryAfter(at);
    if (boundary === undefined) return 'the sub-offset is past the end of the source stream';
    if (at + subOffset > boundary) return 'the sub-offset is past the next data boundary';
  }
  return log.copyUpTo(at + subOffset);
}
