/**
 * The `SessionStore` contract: one vitest suite that every store runs (memory, Redis, SQLite,
 * and any store you write). Published as `@durable-session/server/testing`; it needs `vitest`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatOffset, ZERO_OFFSET } from './offsets';
import type { SessionStore } from './store';
export { runSnapshotContract, type SnapshotContractBackend } from './snapshot-contract';

/**
 * What a contract test asks of the store it opens.
 * @example
 * const options: ContractStoreOptions = { retention: { maxEvents: 3 }, now: () => 0 };
 */
export interface ContractStoreOptions {
  retention?: { maxEvents?: number; maxAgeMs?: number };
  /** The clock the store must use for TTLs, expiry, age retention and producer expiry. */
  now?: () => number;
  /** Forget an idle producer after this long (the store's own default otherwise). */
  producerTtlMs?: number;
}

/**
 * One empty backend (a Redis key prefix, a database file, a process). Every store opened from it
 * sees the same sessions: two opened stores are two server nodes.
 * @example
 * const backend: StoreBackend = { open: (options) => redisStore({ url, prefix, ...options }) };
 */
export interface StoreBackend {
  /** Open a store on this backend. Each test opens with the same options every time. */
  open(options?: ContractStoreOptions): SessionStore | Promise<SessionStore>;
  /** Remove what the test left (called after every store opened from it was closed). */
  dispose?(): void | Promise<void>;
}

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const json = (value: unknown): Uint8Array => enc(JSON.stringify(value));
const never = (): AbortSignal => new AbortController().signal;
const DAY = 24 * 60 * 60 * 1000;

/** The offset of `position` in the current instance of stream `id`. */
async function off(s: SessionStore, id: string, position: number): Promise<string> {
  const head = await s.head(id);
  if (head.status !== 'ok') throw new Error(`head ${id}: ${head.status}`);
  return formatOffset(head.stream.instance, position);
}

async function readAll(s: SessionStore, id: string, from = '-1'): Promise<string[]> {
  const r = await s.read(id, { from });
  if (r.status !== 'ok') throw new Error(`read ${id}: ${r.status}`);
  return r.entries.map((e) => dec(e.data));
}

/** Resolves with the wait's outcome, or `pending` when it has not settled within `ms`. */
async function settlesWithin(wait: Promise<string>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  const outcome = await Promise.race([wait, pending]);
  clearTimeout(timer);
  return outcome;
}

/**
 * Register the contract's tests for one store (call it at the top level of a test file).
 * `makeBackend` is called once per test and must return an empty backend.
 * @example
 * import { runStoreContract } from '@durable-session/server/testing';
 * runStoreContract('memoryStore', () => { let s; return { open: (o) => (s ??= memoryStore(o)) }; });
 */
export function runStoreContract(name: string, makeBackend: () => StoreBackend | Promise<StoreBackend>): void {
  let opened: SessionStore[] = [];
  let backends: StoreBackend[] = [];
  afterEach(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await Promise.all(backends.map((b) => b.dispose?.()));
    opened = [];
    backends = [];
  });
  /** Open `count` stores on one fresh backend. */
  const open = async (options: ContractStoreOptions = {}, count = 1): Promise<SessionStore[]> => {
    const backend = await makeBackend();
    backends.push(backend);
    const stores: SessionStore[] = [];
    for (let i = 0; i < count; i++) stores.push(await backend.open(options));
    opened.push(...stores.filter((s) => !opened.includes(s)));
    return stores;
  };
  const one = async (options: ContractStoreOptions = {}): Promise<SessionStore> => (await open(options))[0] as SessionStore;

  describe(`${name} (store contract)`, () => {
    offsetTests(one);
    lifecycleTests(one);
    appendTests(one);
    producerTests(one);
    retentionAndExpiryTests(one);
    forkTests(one);
    waitTests(one, open);
    identityTests(one);
    tombstoneAndLimitTests(one, open);
  });
}

type OpenOne = (options?: ContractStoreOptions) => Promise<SessionStore>;
type OpenMany = (options?: ContractStoreOptions, count?: number) => Promise<SessionStore[]>;

function offsetTests(one: OpenOne): void {
  describe('offsets and reads', () => {
    it('gives every JSON message its own offset, sorting lexicographically in log order', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json' });
      let last = '';
      for (let i = 0; i < 12; i++) {
        const r = await s.append('a', { entries: [json({ i }), json({ i, again: true })] });
        if (r.status !== 'appended') throw new Error(r.status);
        expect(r.first).toBe(await off(s, 'a', 2 * i));
        last = r.tail;
      }
      const read = await s.read('a', { from: '-1' });
      if (read.status !== 'ok') throw new Error(read.status);
      const offsets = read.entries.map((e) => e.offset);
      expect(offsets).toHaveLength(24);
      expect([...offsets].sort()).toEqual(offsets);
      expect(new Set(offsets).size).toBe(24);
      read.entries.slice(0, -1).forEach((e, i) => expect(e.next).toBe(read.entries[i + 1]?.offset));
      expect(read.next).toBe(await off(s, 'a', 24));
      expect(last).toBe(read.next);
      expect(read).toMatchObject({ upToDate: true, closed: false, stream: { id: 'a', tail: await off(s, 'a', 24) } });
    });

    it('counts bytes in byte mode and reads from inside a chunk', async () => {
      const s = await one();
      await s.create('b', { contentType: 'text/plain', entries: [enc('hello')] });
      await s.append('b', { entries: [enc(' world')] });
      const r = await s.read('b', { from: await off(s, 'b', 3) });
      if (r.status !== 'ok') throw new Error(r.status);
      expect(r.entries.map((e) => dec(e.data)).join('')).toBe('lo world');
      expect(r.entries[0]?.offset).toBe(await off(s, 'b', 3));
      expect(r.next).toBe(await off(s, 'b', 11));
      expect(r.upToDate).toBe(true);
    });

    it('keeps binary data byte for byte', async () => {
      const s = await one();
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      await s.create('bin', { contentType: 'application/octet-stream', entries: [bytes] });
      const r = await s.read('bin', { from: '-1' });
      if (r.status !== 'ok') throw new Error(r.status);
      expect([...(r.entries[0]?.data ?? [])]).toEqual([...bytes]);
    });

    it('reads at most `limit` entries, stops at `maxBytes` (always one entry) and says where to go on', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json', entries: [1, 2, 3, 4, 5].map((n) => json(n)) });
      const first = await s.read('a', { from: '-1', limit: 2 });
      if (first.status !== 'ok') throw new Error(first.status);
      expect(first.entries.map((e) => dec(e.data))).toEqual(['1', '2']);
      expect(first.upToDate).toBe(false);
      expect(await readAll(s, 'a', first.next)).toEqual(['3', '4', '5']);
      const small = await s.read('a', { from: '-1', maxBytes: 2 });
      expect(small.status === 'ok' && small.entries.map((e) => dec(e.data))).toEqual(['1', '2']);
      const tiny = await s.read('a', { from: '-1', maxBytes: 0 });
      expect(tiny.status === 'ok' && tiny.entries.length).toBe(1);
    });

    it('refuses offsets past the tail, reports unknown streams, throws invalid-offset on garbage', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json' });
      expect(await s.read('a', { from: await off(s, 'a', 9) })).toEqual({ status: 'offset-beyond-tail', tail: await off(s, 'a', 0) });
      expect((await s.read('nope', { from: '-1' })).status).toBe('not-found');
      expect((await s.head('nope')).status).toBe('not-found');
      expect((await s.append('nope', { entries: [json(1)] })).status).toBe('not-found');
      await expect(s.read('a', { from: 'garbage' })).rejects.toMatchObject({ code: 'invalid-offset' });
      await expect(s.wait('a', 'garbage', never())).rejects.toMatchObject({ code: 'invalid-offset' });
    });
  });
}

function lifecycleTests(one: OpenOne): void {
  describe('create, head, delete', () => {
    it('create is idempotent for the same configuration and conflicts otherwise', async () => {
      const s = await one();
      const created = await s.create('a', { contentType: 'application/json', ttlSeconds: 60 });
      expect(created).toMatchObject({ status: 'created', stream: { id: 'a', contentType: 'application/json', tail: await off(s, 'a', 0) } });
      expect((await s.create('a', { contentType: 'Application/JSON', ttlSeconds: 60 })).status).toBe('exists');
      expect((await s.create('a', { contentType: 'application/json' })).status).toBe('conflict');
      expect((await s.create('a', { contentType: 'text/plain', ttlSeconds: 60 })).status).toBe('conflict');
      expect((await s.create('a', { contentType: 'application/json', ttlSeconds: 60, closed: true })).status).toBe('conflict');
    });

    it('reports what it knows in head: content type, tail, start, closed, ttl, expiry, instance', async () => {
      const s = await one();
      const expiresAt = new Date(Date.now() + DAY).toISOString();
      await s.create('a', { contentType: 'application/json', expiresAt, entries: [json(1), json(2)], closed: true });
      const head = await s.head('a');
      expect(head).toMatchObject({
        status: 'ok',
        stream: { id: 'a', contentType: 'application/json', tail: await off(s, 'a', 2), start: await off(s, 'a', 0), closed: true, expiresAt, fork: undefined },
      });
      expect(head.status === 'ok' && head.stream.ttlSeconds).toBeUndefined();
      expect(head.status === 'ok' && typeof head.stream.createdAt).toBe('number');
    });

    it('delete removes the stream and its data; a new stream at the id is a new instance and starts empty', async () => {
      const s = await one();
      const before = await s.create('a', { contentType: 'application/json', entries: [json('old')] });
      expect(await s.delete('a')).toBe('deleted');
      expect(await s.delete('a')).toBe('not-found');
      expect((await s.head('a')).status).toBe('deleted');
      const after = await s.create('a', { contentType: 'application/json', entries: [json('new')] });
      expect(await readAll(s, 'a')).toEqual(['"new"']);
      if (before.status !== 'created' || after.status !== 'created') throw new Error('create failed');
      expect(after.stream.instance).not.toBe(before.stream.instance);
    });

    it('refuses every call once closed', async () => {
      const s = await one();
      await s.close();
      await expect(s.head('a')).rejects.toMatchObject({ code: 'closed' });
    });
  });
}

function appendTests(one: OpenOne): void {
  describe('append', () => {
    it('closing is atomic with the final append; later appends are refused with the tail', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json' });
      const closing = await s.append('a', { entries: [json('last')], close: true });
      expect(closing).toMatchObject({ status: 'appended', closed: true, tail: await off(s, 'a', 1) });
      expect(await s.append('a', { entries: [json('more')] })).toEqual({ status: 'closed', tail: await off(s, 'a', 1) });
      expect(await s.append('a', { entries: [], close: true })).toMatchObject({ status: 'appended', closed: true, tail: await off(s, 'a', 1) });
      const read = await s.read('a', { from: '-1' });
      expect(read.status === 'ok' && read.closed).toBe(true);
      expect(await readAll(s, 'a')).toEqual(['"last"']);
    });

    it('checks the content type and treats an empty append as nothing to do', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json' });
      expect(await s.append('a', { entries: [enc('x')], contentType: 'text/plain' })).toEqual({
        status: 'content-type-mismatch',
        contentType: 'application/json',
      });
      expect((await s.append('a', { entries: [json(1)], contentType: 'application/json; charset=utf-8' })).status).toBe('appended');
      expect(await s.append('a', { entries: [] })).toMatchObject({ status: 'appended', first: await off(s, 'a', 1), tail: await off(s, 'a', 1) });
    });

    it('refuses Stream-Seq regressions (lexicographic)', async () => {
      const s = await one();
      await s.create('a', { contentType: 'text/plain' });
      expect((await s.append('a', { entries: [enc('x')], streamSeq: '2' })).status).toBe('appended');
      expect(await s.append('a', { entries: [enc('y')], streamSeq: '10' })).toEqual({ status: 'stream-seq-regression', last: '2' });
      expect(await s.append('a', { entries: [enc('y')], streamSeq: '2' })).toEqual({ status: 'stream-seq-regression', last: '2' });
      expect((await s.append('a', { entries: [enc('z')], streamSeq: '3' })).status).toBe('appended');
    });

    it('applies concurrent appends one at a time: no offset is given twice', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json' });
      const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => s.append('a', { entries: [json(i)] })));
      const firsts = outcomes.map((o) => (o.status === 'appended' ? o.first : o.status));
      expect(new Set(firsts).size).toBe(40);
      expect((await readAll(s, 'a')).length).toBe(40);
    });
  });
}

function producerTests(one: OpenOne): void {
  describe('idempotent producers', () => {
    it('writes a retried (producer, epoch, seq) once and applies the epoch rules', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json' });
      const p = (seq: number, epoch = 0) => ({ id: 'p1', epoch, seq });
      expect(await s.append('a', { entries: [json(0)], producer: p(0) })).toMatchObject({ status: 'appended', producer: { epoch: 0, seq: 0 } });
      expect((await s.append('a', { entries: [json(1)], producer: p(1) })).status).toBe('appended');
      expect(await s.append('a', { entries: [json(0)], producer: p(0) })).toEqual({
        status: 'duplicate',
        tail: await off(s, 'a', 2),
        closed: false,
        producer: { epoch: 0, seq: 1 },
      });
      expect(await s.append('a', { entries: [json(3)], producer: p(3) })).toEqual({ status: 'seq-gap', expected: 2, received: 3 });
      expect((await s.append('a', { entries: [json('e1')], producer: p(0, 1) })).status).toBe('appended');
      expect(await s.append('a', { entries: [json('zombie')], producer: p(2, 0) })).toEqual({ status: 'stale-epoch', epoch: 1 });
      expect(await s.append('a', { entries: [json('bad')], producer: p(4, 2) })).toEqual({ status: 'invalid-epoch-seq', epoch: 2, seq: 4 });
      expect(await s.append('a', { entries: [json('new')], producer: { id: 'p2', epoch: 0, seq: 5 } })).toEqual({
        status: 'seq-gap',
        expected: 0,
        received: 5,
      });
      expect(await readAll(s, 'a')).toEqual(['0', '1', '"e1"']);
    });

    it('keeps producer state per stream and dedupes the closing append', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json' });
      await s.create('b', { contentType: 'application/json' });
      const p = { id: 'p1', epoch: 0, seq: 0 };
      expect((await s.append('a', { entries: [json('final')], producer: p, close: true })).status).toBe('appended');
      expect(await s.append('a', { entries: [json('final')], producer: p, close: true })).toMatchObject({ status: 'duplicate', closed: true });
      expect((await s.append('b', { entries: [json('other stream')], producer: p })).status).toBe('appended');
    });

    it('forgets a producer idle for producerTtlMs, and only that one', async () => {
      let now = 1_000_000;
      const s = await one({ now: () => now, producerTtlMs: 1000 });
      await s.create('a', { contentType: 'application/json' });
      await s.append('a', { entries: [json('i0')], producer: { id: 'idle', epoch: 0, seq: 0 } });
      now += 600;
      await s.append('a', { entries: [json('b0')], producer: { id: 'busy', epoch: 0, seq: 0 } });
      now += 500;
      await new Promise((resolve) => setTimeout(resolve, 40)); // room for a sweep, where a store sweeps
      expect(await s.append('a', { entries: [json('i1')], producer: { id: 'idle', epoch: 0, seq: 1 } })).toEqual({
        status: 'seq-gap',
        expected: 0,
        received: 1,
      });
      expect((await s.append('a', { entries: [json('b0')], producer: { id: 'busy', epoch: 0, seq: 0 } })).status).toBe('duplicate');
    });
  });
}

function retentionAndExpiryTests(one: OpenOne): void {
  describe('retention and expiry', () => {
    it('keeps the last maxEvents entries; reading before them is offset-gone (410)', async () => {
      const s = await one({ retention: { maxEvents: 3 } });
      await s.create('a', { contentType: 'application/json' });
      for (let i = 0; i < 5; i++) await s.append('a', { entries: [json(i)] });
      expect(await s.read('a', { from: ZERO_OFFSET })).toEqual({ status: 'offset-gone', earliest: await off(s, 'a', 2) });
      expect(await readAll(s, 'a')).toEqual(['2', '3', '4']);
      expect(await readAll(s, 'a', await off(s, 'a', 3))).toEqual(['3', '4']);
      const head = await s.head('a');
      expect(head.status === 'ok' && head.stream.start).toBe(await off(s, 'a', 2));
    });

    it('drops entries older than maxAgeMs', async () => {
      let now = 1_000_000;
      const s = await one({ retention: { maxAgeMs: 1000 }, now: () => now });
      await s.create('a', { contentType: 'application/json', entries: [json('old')] });
      now += 600;
      await s.append('a', { entries: [json('newer')] });
      now += 600;
      expect(await readAll(s, 'a')).toEqual(['"newer"']);
      expect((await s.read('a', { from: ZERO_OFFSET })).status).toBe('offset-gone');
    });

    it('expires a stream after its sliding TTL, reset by touching reads and writes but not by head', async () => {
      let now = 1_000_000;
      const s = await one({ now: () => now });
      await s.create('a', { contentType: 'application/json', ttlSeconds: 2 });
      now += 1500;
      await s.append('a', { entries: [json(1)] });
      now += 1500;
      expect((await s.head('a')).status).toBe('ok');
      await s.read('a', { from: '-1', touch: true });
      now += 1900;
      expect((await s.head('a')).status).toBe('ok');
      now += 200;
      expect((await s.head('a')).status).toBe('not-found');
      expect((await s.create('a', { contentType: 'application/json' })).status).toBe('created');
    });

    it('expires a stream at its absolute expiresAt', async () => {
      let now = Date.parse('2030-01-01T00:00:00.000Z');
      const s = await one({ now: () => now });
      await s.create('a', { contentType: 'application/json', expiresAt: '2030-01-01T00:00:10.000Z' });
      now += 9999;
      expect((await s.head('a')).status).toBe('ok');
      now += 1;
      expect((await s.read('a', { from: '-1' })).status).toBe('not-found');
    });
  });
}

function forkTests(one: OpenOne): void {
  describe('forks', () => {
    it('inherit data up to the offset plus sub-offset; a deleted source is gone until its last fork goes', async () => {
      const s = await one();
      await s.create('src', { contentType: 'text/plain', entries: [enc('hello')] });
      const fork = await s.create('fork', { fork: { source: 'src', offset: ZERO_OFFSET, subOffset: 3 } });
      expect(fork).toMatchObject({
        status: 'created',
        stream: { contentType: 'text/plain', tail: await off(s, 'fork', 3), fork: { source: 'src', offset: ZERO_OFFSET, subOffset: 3 } },
      });
      expect((await s.create('fork', { fork: { source: 'src', offset: ZERO_OFFSET, subOffset: 3 } })).status).toBe('exists');
      await s.append('fork', { entries: [enc('LO')] });
      expect((await readAll(s, 'fork')).join('')).toBe('helLO');
      expect((await readAll(s, 'src')).join('')).toBe('hello');
      expect(await s.delete('src')).toBe('soft-deleted');
      expect((await s.head('src')).status).toBe('gone');
      expect((await s.read('src', { from: '-1' })).status).toBe('gone');
      expect((await s.append('src', { entries: [enc('x')] })).status).toBe('gone');
      expect(await s.delete('src')).toBe('gone');
      expect((await s.create('src', { contentType: 'text/plain' })).status).toBe('conflict');
      expect((await readAll(s, 'fork')).join('')).toBe('helLO');
      expect(await s.delete('fork')).toBe('deleted');
      expect((await s.head('src')).status).toBe('deleted'); // deleted on request: a tombstone
    });

    it('fork JSON streams at the tail by default and inherit the TTL', async () => {
      const s = await one();
      await s.create('src', { contentType: 'application/json', ttlSeconds: 600, entries: [json(1), json(2)] });
      await s.append('src', { entries: [json(3)] });
      const fork = await s.create('f', { fork: { source: 'src' } });
      expect(fork).toMatchObject({ status: 'created', stream: { tail: await off(s, 'f', 3), ttlSeconds: 600, contentType: 'application/json' } });
      await s.append('src', { entries: [json(4)] });
      expect(await readAll(s, 'f')).toEqual(['1', '2', '3']);
      const mid = await s.create('g', { fork: { source: 'src', offset: ZERO_OFFSET, subOffset: 1 } });
      expect(mid.status === 'created' && mid.stream.tail).toBe(await off(s, 'g', 1));
      expect(await readAll(s, 'g')).toEqual(['1']);
    });

    it('refuses forks of unknown sources, past the tail, past a data boundary or of another type', async () => {
      const s = await one();
      await s.create('src', { contentType: 'application/json', entries: [json(1), json(2)] });
      await s.append('src', { entries: [json(3)] });
      expect((await s.create('f', { fork: { source: 'nope' } })).status).toBe('source-not-found');
      expect((await s.create('f', { fork: { source: 'src', offset: await off(s, 'src', 9) } })).status).toBe('invalid-fork');
      expect((await s.create('f', { fork: { source: 'src', offset: ZERO_OFFSET, subOffset: 3 } })).status).toBe('invalid-fork');
      expect((await s.create('f', { fork: { source: 'src', offset: 'bad' } })).status).toBe('invalid-fork');
      expect((await s.create('f', { contentType: 'text/plain', fork: { source: 'src' } })).status).toBe('conflict');
      expect((await s.head('f')).status).toBe('not-found');
      expect(await s.delete('src')).toBe('deleted'); // no fork was left referencing it
    });
  });
}

function waitTests(one: OpenOne, open: OpenMany): void {
  describe('wait', () => {
    it('answers at once when data is already past the offset or the stream is closed', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json', entries: [json(1)] });
      expect(await s.wait('a', ZERO_OFFSET, never())).toBe('changed');
      await s.create('c', { contentType: 'application/json', closed: true });
      expect(await s.wait('c', ZERO_OFFSET, never())).toBe('changed');
      expect(await s.wait('nope', ZERO_OFFSET, never())).toBe('not-found');
      const aborted = new AbortController();
      aborted.abort();
      await s.create('d', { contentType: 'application/json' });
      expect(await s.wait('d', ZERO_OFFSET, aborted.signal)).toBe('aborted');
    });

    it('is woken by an append through another store on the same backend (another node)', async () => {
      const [a, b] = (await open({}, 2)) as [SessionStore, SessionStore];
      await a.create('s', { contentType: 'application/json' });
      const waiting = b.wait('s', ZERO_OFFSET, never());
      expect(await settlesWithin(waiting, 150)).toBe('pending');
      await a.append('s', { entries: [json('hi')] });
      expect(await settlesWithin(waiting, 2000)).toBe('changed');
      expect(await readAll(b, 's')).toEqual(['"hi"']);
      // and by a close without data, and only after the offset it waits on
      const later = b.wait('s', await off(b, 's', 1), never());
      expect(await settlesWithin(later, 150)).toBe('pending');
      await a.append('s', { entries: [], close: true });
      expect(await settlesWithin(later, 2000)).toBe('changed');
    });

    it('many waiters on one stream are all woken by one append', async () => {
      const [a, b] = (await open({}, 2)) as [SessionStore, SessionStore];
      await a.create('s', { contentType: 'application/json' });
      const waits = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).wait('s', ZERO_OFFSET, never()));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await a.append('s', { entries: [json(1)] });
      expect(await Promise.all(waits.map((w) => settlesWithin(w, 2000)))).toEqual(Array.from({ length: 50 }, () => 'changed'));
    });

    it('is aborted by its signal, and a later append does not resurrect it', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json' });
      const controller = new AbortController();
      const waiting = s.wait('a', ZERO_OFFSET, controller.signal);
      controller.abort();
      expect(await waiting).toBe('aborted');
      expect((await s.append('a', { entries: [json(1)] })).status).toBe('appended');
    });

    it('tells waiters on every node when the stream is deleted; close() releases a store’s waiters', async () => {
      const [a, b] = (await open({}, 2)) as [SessionStore, SessionStore];
      await a.create('x', { contentType: 'application/json' });
      await a.create('y', { contentType: 'application/json' });
      const onX = b.wait('x', ZERO_OFFSET, never());
      const onY = b.wait('y', ZERO_OFFSET, never());
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await a.delete('x')).toBe('deleted');
      expect(await settlesWithin(onX, 2000)).toBe('not-found');
      await b.close();
      expect(await settlesWithin(onY, 2000)).toBe('aborted');
    });
  });
}

function identityTests(one: OpenOne): void {
  describe('stream identity', () => {
    it("offsets carry the stream's instance: another instance's offset is offset-gone, the zero offset is position 0 everywhere", async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json', entries: [json(1), json(2)] });
      const head = await s.head('a');
      const instance = head.status === 'ok' ? head.stream.instance : '';
      expect(instance).toMatch(/^[1-9a-z][0-9a-z]{15}$/);
      expect(head.status === 'ok' && head.stream.tail).toBe(`${instance}_0000000000000002`);
      const old = await off(s, 'a', 1);
      expect(await readAll(s, 'a', ZERO_OFFSET)).toEqual(['1', '2']);
      await s.delete('a');
      await s.create('a', { contentType: 'application/json', entries: [json(3), json(4)] });
      expect(await off(s, 'a', 1)).not.toBe(old);
      expect(await s.read('a', { from: old })).toEqual({ status: 'offset-gone', earliest: await off(s, 'a', 0) });
      expect(await s.wait('a', old, never())).toBe('changed'); // the read after it answers 410
      const elsewhere = await one(); // another backend: the same id, another instance
      await elsewhere.create('a', { contentType: 'application/json', entries: [json(5), json(6)] });
      expect((await elsewhere.read('a', { from: old })).status).toBe('offset-gone');
    });

    it("a fork accepts its source's offsets up to where it was cut, and its ancestors' too", async () => {
      const s = await one();
      await s.create('src', { contentType: 'application/json', entries: [json(1), json(2)] });
      const cut = await off(s, 'src', 2);
      await s.create('fork', { fork: { source: 'src' } });
      await s.append('src', { entries: [json('src only')] });
      await s.append('fork', { entries: [json('fork only')] });
      expect(await readAll(s, 'fork', cut)).toEqual(['"fork only"']);
      expect(await readAll(s, 'fork', await off(s, 'src', 1))).toEqual(['2', '"fork only"']);
      expect((await s.read('fork', { from: await off(s, 'src', 3) })).status).toBe('offset-gone');
      expect(await s.wait('fork', cut, never())).toBe('changed');
      // a fork of the fork, cut at position 1: the first source's offsets up to 1 still count
      await s.create('grand', { fork: { source: 'fork', offset: await off(s, 'fork', 1) } });
      expect(await readAll(s, 'grand', await off(s, 'src', 1))).toEqual([]);
      expect((await s.read('grand', { from: cut })).status).toBe('offset-gone');
      expect((await s.create('bad', { fork: { source: 'fork', offset: await off(s, 'grand', 0) } })).status).toBe('invalid-fork');
    });

  });
}

function tombstoneAndLimitTests(one: OpenOne, open: OpenMany): void {
  describe('tombstones and limits', () => {
    it('a deleted id leaves a tombstone that head reports (as every node sees it); a new stream at the id removes it', async () => {
      const [a, b] = (await open({}, 2)) as [SessionStore, SessionStore];
      await a.create('t', { contentType: 'application/json', entries: [json(1)] });
      expect(await a.delete('t')).toBe('deleted');
      expect((await a.head('t')).status).toBe('deleted');
      expect((await b.head('t')).status).toBe('deleted');
      expect((await b.head('never')).status).toBe('not-found');
      expect((await b.read('t', { from: '-1' })).status).toBe('not-found');
      expect((await b.append('t', { entries: [json(2)] })).status).toBe('not-found');
      expect(await b.delete('t')).toBe('not-found');
      await b.create('t', { contentType: 'application/json', entries: [json('new')] });
      expect(await readAll(a, 't')).toEqual(['"new"']);
      expect((await a.head('t')).status).toBe('ok');
    });

    it('an expired stream leaves no tombstone', async () => {
      let now = 1_000_000;
      const s = await one({ now: () => now });
      await s.create('x', { contentType: 'application/json', ttlSeconds: 1 });
      now += 1500;
      expect((await s.head('x')).status).toBe('not-found');
    });

    it('refuses an append past AppendOptions.limit (events or bytes) with session-full, writing nothing', async () => {
      const s = await one();
      await s.create('a', { contentType: 'application/json', entries: [json(1)] });
      const limit = { maxEvents: 2, maxBytes: 1_000_000 };
      expect(await s.append('a', { entries: [json(2), json(3)], limit })).toEqual({ status: 'session-full', limit: 'events', max: 2 });
      expect((await s.append('a', { entries: [json(2)], limit })).status).toBe('appended');
      expect(await s.append('a', { entries: [json(3)], limit })).toEqual({ status: 'session-full', limit: 'events', max: 2 });
      // bytes: the store's accounting of the retained entries, data plus ENTRY_OVERHEAD_BYTES each
      const bytes = { maxEvents: 1000, maxBytes: 2 * 128 + 10 + 128 + 100 };
      expect(await s.append('a', { entries: [enc('x'.repeat(150))], limit: bytes })).toEqual({ status: 'session-full', limit: 'bytes', max: bytes.maxBytes });
      expect((await s.append('a', { entries: [enc('x'.repeat(50))], limit: bytes })).status).toBe('appended');
      expect(await readAll(s, 'a')).toEqual(['1', '2', 'x'.repeat(50)]);
      expect((await s.append('a', { entries: [json(4)] })).status).toBe('appended'); // no limit given: none applies
    });

  });
}
