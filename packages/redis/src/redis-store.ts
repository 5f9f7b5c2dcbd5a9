import { Redis } from 'ioredis';
import { formatOffset, mediaType, modeOf, newInstance, parseOffset, positionIn, SessionServerError } from '@durable-session/server';
import type { AppendOptions, AppendOutcome, CreateOutcome, CreateStreamOptions, DeleteOutcome, PutSnapshotOutcome, ReadOptions, ReadOutcome, SessionStore, SnapshotLookup, StoredSnapshot, StreamInfo, StreamLookup, WaitOutcome } from '@durable-session/server';
import { ChangeFeed } from './change-feed';
import { RedisConnection, RedisStoreError } from './connection';
import { APPEND, CREATE, DELETE, FORK_SOURCE, GET_SNAPSHOT, HEAD, PUT_SNAPSHOT, READ, RELEASE } from './scripts';

/**
 * Options of {@link redisStore}.
 * @example
 * redisStore({ url: 'redis://127.0.0.1:6379/0', prefix: 'chat:', retention: { maxEvents: 10_000 } });
 */
export interface RedisStoreOptions {
  /**
   * `redis://[user:password@]host:port[/db][?prefix=<prefix>]`. Default: `REDIS_URL`, else
   * `redis://127.0.0.1:6379`.
   */
  url?: string;
  /**
   * Prefix of every key and of the change channel, so several apps share one Redis. Default: the
   * URL's `prefix` parameter, else `ds:`.
   */
  prefix?: string;
  /** Drop the oldest entries of every stream beyond `maxEvents`, or older than `maxAgeMs` (by `XTRIM`). */
  retention?: { maxEvents?: number; maxAgeMs?: number };
  /** Forget an idempotent producer after this long without an append from it. Default 7 days. */
  producerTtlMs?: number;
  /** At most this many entries per read (a read without `limit` too): one Lua call holds Redis for its duration. Default 4000. */
  maxReadEntries?: number;
  /** The clock (ms), for tests. Every node must have the same time. Default `Date.now`. */
  now?: () => number;
  /** Background failures (the change feed's subscriber). Default `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * How long a deleted stream's tombstone lasts (`head` answers `deleted` meanwhile; a new stream
   * at the id removes it). One small key per deleted id, dropped by Redis after this. Default 7 days.
   */
  tombstoneTtlMs?: number;
}

/** The JSON header every script replies with (positions, never formatted offsets). */
interface Header {
  status: string;
  released?: string | false;
  [field: string]: unknown;
}

interface RawInfo {
  instance: string;
  contentType: string;
  tail: number;
  start: number;
  closed: boolean;
  ttl: number | false;
  exp: number | false;
  createdAt: number;
  fsrc: string | false;
  foff: string | false;
  fsub: number;
  /** The fork lineage: JSON `[{ instance, upTo }]`. */
  anc: string;
}

/** An instance a fork inherited from, and its last position the fork holds. */
type Ancestor = { instance: string; upTo: number };

const SCRIPTS = { dsHead: HEAD, dsCreate: CREATE, dsForkSource: FORK_SOURCE, dsRelease: RELEASE, dsDelete: DELETE, dsAppend: APPEND, dsRead: READ, dsPutSnapshot: PUT_SNAPSHOT, dsGetSnapshot: GET_SNAPSHOT };
type ScriptName = keyof typeof SCRIPTS;

/**
 * A {@link SessionStore} on Redis Streams, for many server nodes sharing sessions: one Redis
 * stream per session, every method one Lua script (atomic), live waits fanned out from one
 * pub/sub connection per process. Keys are `<prefix>{<sessionId>}:<part>`, so every script
 * touches one hash slot (Redis Cluster). An append whose reply was lost with the connection
 * rejects (`connection-lost`) and is never resent by the client library: a retry with the same
 * idempotent producer lands once.
 * @example
 * import { createSessionServer } from '@durable-session/server';
 * import { redisStore } from '@durable-session/redis';
 * const server = createSessionServer({ store: redisStore({ url: process.env.REDIS_URL }) });
 */
export function redisStore(options: RedisStoreOptions = {}): SessionStore {
  return new RedisStore(options);
}

class RedisStore implements SessionStore {
  readonly #connection: RedisConnection;
  readonly #subscriber: Redis;
  readonly #feed: ChangeFeed;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #now: () => number;
  readonly #config: [string, string];
  readonly #producerTtlMs: number;
  readonly #maxReadEntries: number;
  readonly #tombstoneTtlMs: number;
  #closed = false;

  constructor(options: RedisStoreOptions) {
    const { url, prefix } = connectionOf(options);
    // Named, so an operator (and the tests) can tell the store's connections apart in CLIENT LIST.
    const redis = new Redis(url, { autoResendUnfulfilledCommands: false, connectionName: `${prefix}store` });
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 6, lua });
    const onError = options.onError ?? ((error: unknown) => console.error('[durable-session redis]', error));
    this.#connection = new RedisConnection(redis, onError);
    this.#subscriber = new Redis(url, { autoResubscribe: false, connectionName: `${prefix}changes` });
    this.#subscriber.on('error', () => undefined); // reconnects by itself; waits recheck after it
    this.#prefix = prefix;
    this.#channel = `${this.#prefix}changes`;
    this.#now = options.now ?? Date.now;
    this.#config = [String(options.retention?.maxEvents ?? 0), String(options.retention?.maxAgeMs ?? 0)];
    this.#producerTtlMs = options.producerTtlMs ?? 7 * 24 * 60 * 60 * 1000;
    this.#maxReadEntries = options.maxReadEntries ?? 4000;
    this.#tombstoneTtlMs = options.tombstoneTtlMs ?? 7 * 24 * 60 * 60 * 1000;
    this.#feed = new ChangeFeed({
      subscriber: this.#subscriber,
      channel: this.#channel,
      recheck: (id, after) => this.#settledWait(id, after),
      onError,
    });
  }

  async create(id: string, options: CreateStreamOptions): Promise<CreateOutcome> {
    this.#assertOpen();
    if (options.fork === undefined) return this.#createStream(id, options, undefined);
    const fork = options.fork;
    const forkAt = fork.offset === undefined ? { instance: '', position: '' } : parseOffset(fork.offset);
    if (forkAt === undefined) return { status: 'invalid-fork', reason: `malformed fork offset: ${fork.offset}` };
    const given = options.contentType === undefined ? '' : mediaType(options.contentType);
    const args = [String(forkAt.position), String(fork.subOffset ?? 0), given, forkAt.instance];
    const [header, ...inherited] = await this.#run('dsForkSource', fork.source, args);
    if (header.status !== 'ok') return plain(header) as CreateOutcome;
    const created = await this.#createStream(id, options, { header, inherited });
    if (created.status !== 'created') await this.#release(fork.source);
    return created;
  }

  async #createStream(id: string, options: CreateStreamOptions, fork: { header: Header; inherited: Buffer[] } | undefined): Promise<CreateOutcome> {
    const contentType = options.contentType ?? (fork?.header.contentType as string | undefined) ?? 'application/octet-stream';
    const expiresAtMs = options.expiresAt === undefined ? undefined : Date.parse(options.expiresAt);
    let ttl = options.ttlSeconds;
    let exp = expiresAtMs;
    if (fork !== undefined && ttl === undefined && exp === undefined) {
      ttl = fork.header.ttl === false ? undefined : (fork.header.ttl as number);
      exp = fork.header.exp === false ? undefined : (fork.header.exp as number);
    }
    const own = options.entries ?? [];
    const args: Array<string | Uint8Array> = [
      newInstance(),
      contentType,
      mediaType(contentType),
      modeOf(contentType),
      options.contentType ?? '',
      options.contentType === undefined ? '' : mediaType(options.contentType),
      optional(options.ttlSeconds),
      optional(expiresAtMs),
      optional(ttl),
      optional(exp),
      options.closed === true ? '1' : '0',
      options.fork?.source ?? '',
      options.fork?.offset ?? '',
      String(options.fork === undefined ? 0 : (options.fork.subOffset ?? 0)),
      String(fork === undefined ? 0 : (fork.header.tail as number)),
      fork === undefined ? '[]' : JSON.stringify(lineageOf(fork.header)),
      String(own.length),
      ...own,
      ...(fork?.inherited ?? []),
    ];
    const [header] = await this.#run('dsCreate', id, args);
    return header.status === 'created' || header.status === 'exists'
      ? { status: header.status, stream: this.#info(id, header.stream as RawInfo) }
      : (plain(header) as CreateOutcome);
  }

  async head(id: string, options: { touch?: boolean } = {}): Promise<StreamLookup> {
    this.#assertOpen();
    const [header] = await this.#run('dsHead', id, [options.touch === true ? '1' : '0']);
    return header.status === 'ok' ? { status: 'ok', stream: this.#info(id, header.stream as RawInfo) } : (plain(header) as StreamLookup);
  }

  async append(id: string, options: AppendOptions): Promise<AppendOutcome> {
    this.#assertOpen();
    const p = options.producer;
    const args: Array<string | Uint8Array> = [
      options.contentType === undefined ? '' : mediaType(options.contentType),
      options.close === true ? '1' : '0',
      p?.id ?? '',
      String(p?.epoch ?? 0),
      String(p?.seq ?? 0),
      options.streamSeq === undefined ? '0' : '1',
      options.streamSeq ?? '',
      String(this.#producerTtlMs),
      options.limit === undefined ? '' : String(options.limit.maxEvents),
      options.limit === undefined ? '' : String(options.limit.maxBytes),
      ...options.entries,
    ];
    const [h] = await this.#run('dsAppend', id, args);
    const at = (field: string): string => offsetIn(h.instance as string, h[field] as number);
    switch (h.status) {
      case 'appended':
        return { status: 'appended', first: at('first'), tail: at('tail'), closed: h.closed === true, producer: producerOf(h) };
      case 'duplicate':
        return { status: 'duplicate', tail: at('tail'), closed: h.closed === true, producer: producerOf(h) ?? { epoch: 0, seq: 0 } };
      case 'closed':
        return { status: 'closed', tail: at('tail') };
      default:
        return plain(h) as AppendOutcome;
    }
  }

  async read(id: string, options: ReadOptions): Promise<ReadOutcome> {
    this.#assertOpen();
    const from = options.from === '-1' ? { instance: '', position: '' } : parseOffset(options.from);
    if (from === undefined) throw new SessionServerError('invalid-offset', `not an offset: ${options.from}`);
    const limit = Math.max(1, Math.min(options.limit ?? this.#maxReadEntries, this.#maxReadEntries));
    const args = [String(from.position), String(limit), String(options.maxBytes ?? -1), options.touch === true ? '1' : '0', from.instance];
    const [h, ...data] = await this.#run('dsRead', id, args);
    const at = (position: number): string => offsetIn(h.instance as string, position);
    if (h.status === 'offset-gone') return { status: 'offset-gone', earliest: at(h.earliest as number) };
    if (h.status === 'offset-beyond-tail') return { status: 'offset-beyond-tail', tail: at(h.tail as number) };
    if (h.status !== 'ok') return plain(h) as ReadOutcome;
    const positions = Array.isArray(h.positions) ? (h.positions as Array<[number, number]>) : [];
    return {
      status: 'ok',
      entries: positions.map(([offset, next], i) => ({ offset: at(offset), next: at(next), data: bytes(data[i]) })),
      next: at(h.next as number),
      upToDate: h.upToDate === true,
      closed: h.closed === true,
      stream: this.#info(id, h.stream as RawInfo),
    };
  }

  async wait(id: string, after: string, signal: AbortSignal): Promise<WaitOutcome> {
    this.#assertOpen();
    const parsed = parseOffset(after);
    if (parsed === undefined) throw new SessionServerError('invalid-offset', `not an offset: ${after}`);
    const position = parsed.position;
    if (signal.aborted) return 'aborted';
    return new Promise<WaitOutcome>((resolve, reject) => {
      const finish = (outcome: WaitOutcome): void => {
        remove();
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = (): void => finish('aborted');
      // Registered before the check: an append after the check is announced to this waiter.
      const remove = this.#feed.add(id, { after: position, finish });
      signal.addEventListener('abort', onAbort, { once: true });
      this.#feed
        .ready()
        .then(() => this.#settledWait(id, position, after))
        .then(
          (outcome) => {
            if (outcome !== undefined) finish(outcome);
          },
          (error: unknown) => {
            remove();
            signal.removeEventListener('abort', onAbort);
            reject(error);
          },
        );
    });
  }

  async putSnapshot(id: string, snapshot: StoredSnapshot): Promise<PutSnapshotOutcome> {
    this.#assertOpen();
    const at = parseOffset(snapshot.offset);
    const args = [at?.instance ?? '', at === undefined ? '' : String(at.position), snapshot.offset, snapshot.data];
    const [header] = await this.#run('dsPutSnapshot', id, args);
    return header.status as PutSnapshotOutcome;
  }

  async getSnapshot(id: string): Promise<SnapshotLookup> {
    this.#assertOpen();
    const [header, data] = await this.#run('dsGetSnapshot', id, []);
    if (header.status !== 'ok') return plain(header) as SnapshotLookup;
    return { status: 'ok', snapshot: { offset: header.offset as string, data: new Uint8Array(bytes(data)) } };
  }

  async delete(id: string): Promise<DeleteOutcome> {
    this.#assertOpen();
    const [header] = await this.#run('dsDelete', id, [String(this.#tombstoneTtlMs)]);
    return header.status as DeleteOutcome;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#feed.wakeAll('aborted');
    await Promise.all([this.#connection.quit(), this.#subscriber.quit().catch(() => this.#subscriber.disconnect())]);
  }

  /**
   * The outcome of a wait on `id` after `position` (of offset `after`, when known) if it is
   * already settled: another instance's offset is `changed` (the read that follows answers 410).
   */
  async #settledWait(id: string, position: number, after?: string): Promise<WaitOutcome | undefined> {
    const [header] = await this.#run('dsHead', id, ['0']);
    if (header.status !== 'ok') return 'not-found';
    const stream = header.stream as RawInfo;
    if (after !== undefined && positionIn(after, stream.instance, JSON.parse(stream.anc) as Ancestor[]) === 'foreign') return 'changed';
    return stream.tail > position || stream.closed ? 'changed' : undefined;
  }

  /** Run one script on the keys of `id`; follow up on fork sources it released. */
  async #run(name: ScriptName, id: string, args: ReadonlyArray<string | Uint8Array>): Promise<[Header, ...Buffer[]]> {
    const base = `${this.#prefix}{${id}}:`;
    const keys = [`${base}m`, `${base}l`, `${base}p`, `${base}z`, `${base}t`, `${base}s`];
    const argv = [this.#channel, id, String(this.#now()), ...this.#config, ...args];
    const reply = await this.#connection.script(name, keys, argv).catch((error: unknown) => {
      throw storeFailure(error);
    });
    const [first, ...rest] = reply;
    if (first === undefined) throw new RedisStoreError('bad-reply', `script ${name} answered nothing`);
    const header = JSON.parse(first.toString('utf8')) as Header;
    const released = header.released;
    delete header.released;
    if (typeof released === 'string') await this.#release(released);
    return [header, ...rest];
  }

  /** A fork of `source` went away (one step on the source's keys, which may release its own source). */
  async #release(source: string): Promise<void> {
    await this.#run('dsRelease', source, []);
  }

  #info(id: string, raw: RawInfo): StreamInfo {
    return {
      id,
      instance: raw.instance,
      contentType: raw.contentType,
      tail: offsetIn(raw.instance, raw.tail),
      start: offsetIn(raw.instance, raw.start),
      closed: raw.closed,
      ttlSeconds: raw.ttl === false ? undefined : raw.ttl,
      expiresAt: raw.exp === false ? undefined : new Date(raw.exp).toISOString(),
      createdAt: raw.createdAt,
      fork: raw.fsrc === false ? undefined : { source: raw.fsrc, offset: raw.foff === false ? undefined : raw.foff, subOffset: raw.fsub },
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new SessionServerError('closed', 'the store is closed');
  }
}

/** The URL for ioredis (without our `prefix` parameter) and the key prefix. */
function connectionOf(options: RedisStoreOptions): { url: string; prefix: string } {
  const given = options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const query = given.indexOf('?');
  const params = new URLSearchParams(query < 0 ? '' : given.slice(query + 1));
  const fromUrl = params.get('prefix');
  params.delete('prefix');
  const rest = params.toString();
  const url = (query < 0 ? given : given.slice(0, query)) + (rest === '' ? '' : `?${rest}`);
  return { url, prefix: options.prefix ?? fromUrl ?? 'ds:' };
}

/** The offset of a position in a stream (of `instance`): the one place this store mints offsets. */
function offsetIn(instance: string, position: number): string {
  return formatOffset(instance, position);
}

/** A fork's lineage: its source's, each cut where the fork was, and the source itself. */
function lineageOf(source: Header): Ancestor[] {
  const cut = source.tail as number;
  const inherited = JSON.parse(source.anc as string) as Ancestor[];
  return [...inherited.map((a) => ({ instance: a.instance, upTo: Math.min(a.upTo, cut) })), { instance: source.source as string, upTo: cut }];
}

/**
 * A failed script call as the store reports it: Redis refusing writes at its `maxmemory` (`OOM`)
 * is the store being full (`store-full`, 429: the client comes back later), not a server fault.
 */
export function storeFailure(error: unknown): unknown {
  if (!(error instanceof Error) || !/\bOOM\b/.test(error.message)) return error;
  return new SessionServerError('store-full', `Redis refused the write at its maxmemory: ${error.message}`);
}

/** A script's header as an outcome: without the instance it carries for minting offsets. */
function plain(header: Header): unknown {
  const { instance: _instance, ...outcome } = header;
  return outcome;
}

function optional(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

function producerOf(header: Header): { epoch: number; seq: number } | undefined {
  return typeof header.epoch === 'number' && typeof header.seq === 'number' ? { epoch: header.epoch, seq: header.seq } : undefined;
}

function bytes(buffer: Buffer | undefined): Uint8Array {
  return buffer === undefined ? new Uint8Array(0) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
