/**
 * The seam to storage. Everything several server nodes must agree on lives behind
 * this interface: the log, the tail, the closed flag, idempotent-producer state,
 * `Stream-Seq` state, TTL/expiry and fork reference counts. Every method is async and
 * each one is a single atomic step, so a Redis Streams store can implement it with one
 * Lua script per method and `XREAD BLOCK` (or pub/sub) for {@link SessionStore.wait}.
 *
 * Offsets are minted by the store (see `offsets.ts`): strings that sort lexicographically
 * in log order. In JSON mode every message has its own offset; in byte mode an offset is
 * a byte position.
 */

/**
 * An idempotent producer's identity and position: `Producer-Id`, `Producer-Epoch`, `Producer-Seq`.
 * @example
 * await store.append(id, { entries, producer: { id: 'worker-1', epoch: 0, seq: 0 } });
 */
export interface ProducerTuple {
  id: string;
  epoch: number;
  seq: number;
}

/**
 * Where a fork branched off.
 * @example
 * const r = await store.head('fork-1');
 * if (r.status === 'ok' && r.stream.fork) console.log('forked from', r.stream.fork.source);
 */
export interface ForkOrigin {
  /** Id of the source stream. */
  source: string;
  /** The offset the client asked for (`undefined`: the source's tail at creation). */
  offset: string | undefined;
  /** Messages (JSON) or bytes inherited past `offset`. */
  subOffset: number;
}

/**
 * What the store knows about one stream.
 * @example
 * const info = await store.head('chat-1');
 * if (info.status === 'ok' && info.stream.closed) console.log('EOF at', info.stream.tail);
 */
export interface StreamInfo {
  id: string;
  /** Unique per creation: a stream deleted and created again gets a new one (used in ETags). */
  instance: string;
  /** The content type given at creation, as given. */
  contentType: string;
  /** The offset after the last byte/message: where the next append lands. */
  tail: string;
  /** The earliest offset still held (retention may have dropped what came before). */
  start: string;
  closed: boolean;
  /** Sliding time-to-live in seconds, reset by reads and writes. */
  ttlSeconds: number | undefined;
  /** Absolute expiry, as an RFC 3339 string. */
  expiresAt: string | undefined;
  createdAt: number;
  fork: ForkOrigin | undefined;
}

/**
 * The answer to a lookup. `gone`: deleted while forks still reference it (HTTP 410).
 * `deleted`: no such stream, but one with this id was deleted (a bounded tombstone the store
 * keeps, so clients can tell "deleted: never re-create" from "unknown"; HTTP 404 `deleted`).
 * Only `head` reports it; the other methods say `not-found` for a deleted stream.
 * @example
 * const r = await store.head('chat-1');
 * if (r.status === 'not-found') return new Response(null, { status: 404 });
 */
export type StreamLookup = { status: 'ok'; stream: StreamInfo } | { status: 'not-found' } | { status: 'gone' } | { status: 'deleted' };

/**
 * How to create a stream (HTTP PUT).
 * @example
 * await store.create('chat-1', { contentType: 'application/json' });
 */
export interface CreateStreamOptions {
  /** Required unless `fork` is given (a fork inherits its source's). */
  contentType?: string;
  ttlSeconds?: number;
  /** RFC 3339. */
  expiresAt?: string;
  /** Create the stream already closed (its initial entries are then its whole content). */
  closed?: boolean;
  /** Initial entries: one per JSON message, or one byte chunk. */
  entries?: readonly Uint8Array[];
  fork?: { source: string; offset?: string; subOffset?: number };
}

/**
 * The answer to {@link SessionStore.create}. `exists`: same configuration (idempotent, HTTP 200).
 * @example
 * const r = await store.create('chat-1', { contentType: 'application/json' });
 * const status = r.status === 'created' ? 201 : 200;
 */
export type CreateOutcome =
  | { status: 'created'; stream: StreamInfo }
  | { status: 'exists'; stream: StreamInfo }
  | { status: 'conflict'; reason: string }
  | { status: 'source-not-found' }
  | { status: 'invalid-fork'; reason: string };

/**
 * One append (HTTP POST), applied atomically with all its checks.
 * @example
 * await store.append('chat-1', { entries: [encode('{"type":"cancel","turnId":"*","clientId":"c1"}')] });
 */
export interface AppendOptions {
  /** One per JSON message, or one byte chunk. Empty only when closing. */
  entries: readonly Uint8Array[];
  /** When given, must have the stream's media type. */
  contentType?: string;
  /** Close the stream after appending (atomically). */
  close?: boolean;
  producer?: ProducerTuple;
  /** `Stream-Seq`: must be lexicographically greater than the last one. */
  streamSeq?: string;
  /**
   * Refuse the append (`session-full`) when the stream would then hold more than `maxEvents`
   * entries or more than `maxBytes` bytes (the store's own accounting), checked atomically.
   */
  limit?: { maxEvents: number; maxBytes: number };
}

/**
 * The answer to {@link SessionStore.append}.
 * - `appended`: `first` is the offset of the first new entry, `tail` the offset after the last.
 * - `duplicate`: an idempotent producer's retry; nothing was written. `producer.seq` is the highest accepted.
 * @example
 * const r = await store.append(id, { entries });
 * if (r.status === 'closed') console.log('stream ended at', r.tail);
 */
export type AppendOutcome =
  | { status: 'appended'; first: string; tail: string; closed: boolean; producer: { epoch: number; seq: number } | undefined }
  | { status: 'duplicate'; tail: string; closed: boolean; producer: { epoch: number; seq: number } }
  | { status: 'not-found' }
  | { status: 'gone' }
  | { status: 'closed'; tail: string }
  | { status: 'content-type-mismatch'; contentType: string }
  | { status: 'stale-epoch'; epoch: number }
  | { status: 'invalid-epoch-seq'; epoch: number; seq: number }
  | { status: 'seq-gap'; expected: number; received: number }
  | { status: 'stream-seq-regression'; last: string }
  | { status: 'session-full'; limit: 'events' | 'bytes'; max: number };

/**
 * A read from an offset.
 * @example
 * await store.read('chat-1', { from: '-1', limit: 100 });
 */
export interface ReadOptions {
  /** An offset, or `-1` for the earliest retained entry. */
  from: string;
  /** At most this many entries. */
  limit?: number;
  /** Stop adding entries once the batch holds this many bytes (always at least one entry). */
  maxBytes?: number;
  /** Count this read as activity for the sliding TTL. Default `false`. */
  touch?: boolean;
}

/**
 * One stored entry: a JSON message (its UTF-8 text) or a byte chunk.
 * `offset` is where it starts, `next` where the next one starts.
 * @example
 * const event: unknown = JSON.parse(new TextDecoder().decode(entry.data));
 */
export interface StoredEntry {
  offset: string;
  next: string;
  data: Uint8Array;
}

/**
 * The answer to {@link SessionStore.read}.
 * - `ok`: `next` is where to read from next; `upToDate` when it is the tail;
 *   `closed` when the stream is closed and `next` is its final offset.
 * - `offset-gone`: the offset is before the retained range (HTTP 410).
 * - `offset-beyond-tail`: the offset is past the tail (HTTP 400).
 * @example
 * const r = await store.read(id, { from });
 * if (r.status === 'ok') for (const e of r.entries) handle(e.data);
 */
export type ReadOutcome =
  | { status: 'ok'; entries: StoredEntry[]; next: string; upToDate: boolean; closed: boolean; stream: StreamInfo }
  | { status: 'not-found' }
  | { status: 'gone' }
  | { status: 'offset-gone'; earliest: string }
  | { status: 'offset-beyond-tail'; tail: string };

/**
 * Why {@link SessionStore.wait} returned: something changed after the offset (new entries,
 * closure), the signal aborted, or the stream no longer exists.
 * @example
 * if ((await store.wait(id, offset, signal)) === 'changed') await store.read(id, { from: offset });
 */
export type WaitOutcome = 'changed' | 'aborted' | 'not-found';

/**
 * The answer to {@link SessionStore.delete}. `soft-deleted`: forks still reference it;
 * it answers `gone` until the last fork is deleted.
 * @example
 * const status = (await store.delete(id)) === 'not-found' ? 404 : 204;
 */
export type DeleteOutcome = 'deleted' | 'soft-deleted' | 'not-found' | 'gone';

/**
 * A folded snapshot of a session (see `snapshots.ts`): opaque bytes and the offset of the log it
 * covers (every entry before `offset` is folded into `data`). Snapshots never replace the log.
 * @example
 * await store.putSnapshot('chat-1', { offset: r.tail, data: new TextEncoder().encode('{"v":1}') });
 */
export interface StoredSnapshot {
  offset: string;
  data: Uint8Array;
}

/**
 * The answer to {@link SessionStore.putSnapshot}. `stale`: the store already holds a snapshot at or
 * past `offset` (kept). `invalid-offset`: not an offset of this stream's instance, or past its tail.
 * @example
 * if ((await store.putSnapshot(id, snap)) === 'stored') console.log('snapshot at', snap.offset);
 */
export type PutSnapshotOutcome = 'stored' | 'stale' | 'invalid-offset' | 'not-found' | 'gone';

/**
 * The answer to {@link SessionStore.getSnapshot}: the newest snapshot, `none` when the stream has none.
 * @example
 * const r = await store.getSnapshot('chat-1');
 * if (r.status === 'ok') console.log('covers up to', r.snapshot.offset);
 */
export type SnapshotLookup = { status: 'ok'; snapshot: StoredSnapshot } | { status: 'none' } | { status: 'not-found' } | { status: 'gone' };

/**
 * Where sessions are kept. The memory store ({@link memoryStore}) is the embedded default;
 * a Redis Streams store can implement the same interface for many server nodes.
 * @example
 * const store: SessionStore = memoryStore({ retention: { maxEvents: 10_000 } });
 * await store.create('chat-1', { contentType: 'application/json' });
 * const r = await store.append('chat-1', { entries: [new TextEncoder().encode('{"type":"x"}')] });
 */
export interface SessionStore {
  /** Create a stream, or confirm an identical one (idempotent), or fork one. */
  create(id: string, options: CreateStreamOptions): Promise<CreateOutcome>;
  /** Metadata. `touch` counts as activity for the sliding TTL (HEAD does not touch). */
  head(id: string, options?: { touch?: boolean }): Promise<StreamLookup>;
  /** Append entries, with the closed / content-type / producer / `Stream-Seq` checks, atomically. */
  append(id: string, options: AppendOptions): Promise<AppendOutcome>;
  /** Read entries from an offset. */
  read(id: string, options: ReadOptions): Promise<ReadOutcome>;
  /**
   * Resolve once the stream changed after `after` (an offset): entries past it, or closure.
   * Resolves at once if that is already the case. Never polls: it is woken by the append.
   */
  wait(id: string, after: string, signal: AbortSignal): Promise<WaitOutcome>;
  /**
   * Keep `snapshot` as the stream's newest snapshot (one per stream; it goes with the stream on
   * delete or expiry, and a fork does not inherit it). Atomic: refused as `stale` unless `offset` is
   * past the held snapshot's. While a snapshot is held, retention never drops entries at or after
   * its offset (a reader sent 410 can always rebuild from the snapshot and read on).
   */
  putSnapshot(id: string, snapshot: StoredSnapshot): Promise<PutSnapshotOutcome>;
  /** The newest snapshot (see {@link SessionStore.putSnapshot}). */
  getSnapshot(id: string): Promise<SnapshotLookup>;
  /** Delete a stream (soft-delete while forks reference it). */
  delete(id: string): Promise<DeleteOutcome>;
  /** Release timers and wake every waiter with `aborted`. */
  close(): Promise<void>;
}
