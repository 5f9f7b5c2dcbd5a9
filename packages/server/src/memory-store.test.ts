import { afterEach, describe, expect, it, vi } from 'vitest';
import { SEGMENT_BYTES, SEGMENT_ENTRIES } from './memory-log';
import { ENTRY_OVERHEAD_BYTES, memoryStore } from './memory-store';
import { ZERO_OFFSET } from './offsets';
import type { SessionStore } from './store';
import { runStoreContract } from './store-contract';
import { runSnapshotContract } from './snapshot-contract';

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const json = (value: unknown): Uint8Array => enc(JSON.stringify(value));

const stores: SessionStore[] = [];
function store(options: Parameters<typeof memoryStore>[0] = {}): SessionStore {
  const s = memoryStore(options);
  stores.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  vi.useRealTimers();
});

async function readAll(s: SessionStore, id: string, from = '-1'): Promise<string[]> {
  const r = await s.read(id, { from });
  if (r.status !== 'ok') throw new Error(r.status);
  return r.entries.map((e) => dec(e.data));
}

describe('memoryStore wait', () => {
  it('is woken by an append, with no timer of its own (no polling)', async () => {
    vi.useFakeTimers();
    const s = store();
    await s.create('a', { contentType: 'application/json' });
    const timersBefore = vi.getTimerCount();
    const waiting = s.wait('a', ZERO_OFFSET, new AbortController().signal);
    expect(vi.getTimerCount()).toBe(timersBefore);
    let outcome: string | undefined;
    void waiting.then((o) => {
      outcome = o;
    });
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    await s.append('a', { entries: [json({ type: 'x' })] });
    expect(await waiting).toBe('changed');
  });
});

describe('memoryStore idempotent producers', () => {
  it('forgets a producer after 7 days without an append from it (by default), in the sweep', async () => {
    const DAY = 24 * 60 * 60 * 1000;
    let now = 0;
    const s = store({ now: () => now, sweepIntervalMs: 5 });
    const sweep = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));
    await s.create('a', { contentType: 'application/json' });
    const idle = (seq: number) => ({ id: 'idle', epoch: 0, seq });
    const busy = (seq: number) => ({ id: 'busy', epoch: 0, seq });
    await s.append('a', { entries: [json('i0')], producer: idle(0) });
    await s.append('a', { entries: [json('i1')], producer: idle(1) });
    await s.append('a', { entries: [json('b0')], producer: busy(0) });
    now = 6 * DAY;
    await s.append('a', { entries: [json('b1')], producer: busy(1) });
    await sweep();
    expect((await s.append('a', { entries: [json('i1')], producer: idle(1) })).status).toBe('duplicate'); // still known
    now = 7 * DAY;
    await sweep();
    // `idle` is forgotten: it must start again at seq 0; `busy` (appended a day ago) is still known
    expect(await s.append('a', { entries: [json('i2')], producer: idle(2) })).toEqual({ status: 'seq-gap', expected: 0, received: 2 });
    expect((await s.append('a', { entries: [json('b1')], producer: busy(1) })).status).toBe('duplicate');
    now = 13 * DAY;
    await sweep();
    expect((await s.append('a', { entries: [json('b1')], producer: busy(1) })).status).toBe('seq-gap');
    expect(await readAll(s, 'a')).toEqual(['"i0"', '"i1"', '"b0"', '"b1"']);
  });

  it('producerTtlMs sets how long an idle producer is remembered', async () => {
    let now = 0;
    const s = store({ now: () => now, sweepIntervalMs: 5, producerTtlMs: 1000 });
    await s.create('a', { contentType: 'application/json' });
    const p = { id: 'p', epoch: 0, seq: 0 };
    await s.append('a', { entries: [json(0)], producer: p });
    now = 999;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((await s.append('a', { entries: [json(0)], producer: p })).status).toBe('duplicate');
    now = 1000;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((await s.append('a', { entries: [json(0)], producer: p })).status).toBe('appended');
  });
});

// Everything else a store promises (offsets, reads, retention, TTL, forks, producers, waits) is
// the contract every store passes. One process has one memory store: every "node" is that store.
runStoreContract('memoryStore', () => {
  let shared: SessionStore | undefined;
  return { open: (options) => (shared ??= memoryStore({ ...options, sweepIntervalMs: 5 })) };
});

// Instance-tagged offsets, fork lineage, tombstones and AppendOptions.limit are in the contract.
describe('memoryStore bounds', () => {
  it('refuses streams past maxStreams, bytes past maxBytes, and appends past a per-stream limit', async () => {
    const s = store({ maxStreams: 2, maxBytes: 1000 });
    await s.create('a', { contentType: 'application/json' });
    await s.create('b', { contentType: 'application/json' });
    await expect(s.create('c', { contentType: 'application/json' })).rejects.toMatchObject({ code: 'too-many-sessions' });
    await expect(s.append('a', { entries: [enc('x'.repeat(900))] })).rejects.toMatchObject({ code: 'store-full' });
    expect(await s.append('a', { entries: [json(1), json(2)], limit: { maxEvents: 1, maxBytes: 10_000 } })).toEqual({ status: 'session-full', limit: 'events', max: 1 });
    expect(await readAll(s, 'a')).toEqual([]);
    await s.delete('b');
    expect((await s.create('c', { contentType: 'application/json' })).status).toBe('created');
  });

  it('keeps at most maxTombstones deleted ids, oldest forgotten first', async () => {
    const s = store({ maxTombstones: 2 });
    for (const id of ['a', 'b', 'c']) {
      await s.create(id, { contentType: 'application/json' });
      await s.delete(id);
    }
    expect([(await s.head('a')).status, (await s.head('b')).status, (await s.head('c')).status]).toEqual(['not-found', 'deleted', 'deleted']);
  });
});

runSnapshotContract('memoryStore', () => ({ open: (options) => memoryStore(options) }));

// The store packs entries into segments (memory-log.ts): SEGMENT_ENTRIES entries or SEGMENT_BYTES
// bytes each, a larger entry alone. These cross those boundaries through the store's own API.
describe('memoryStore segments', () => {
  const event = (i: number): Uint8Array => json({ i, pad: 'x'.repeat(i % 50) });
  async function pages(s: SessionStore, id: string, options: { limit?: number; maxBytes?: number }, from = '-1'): Promise<{ offset: string; next: string; data: string }[][]> {
    const out: { offset: string; next: string; data: string }[][] = [];
    for (;;) {
      const r = await s.read(id, { from, ...options });
      if (r.status !== 'ok') throw new Error(r.status);
      out.push(r.entries.map((e) => ({ offset: e.offset, next: e.next, data: dec(e.data) })));
      if (r.upToDate) return out;
      from = r.next;
    }
  }
  const offsetAt = async (s: SessionStore, id: string, position: number): Promise<string> => {
    const head = await s.head(id);
    if (head.status !== 'ok') throw new Error(head.status);
    return `${head.stream.instance}_${String(position).padStart(16, '0')}`;
  };

  it('reads back many segments of JSON entries in order, paged by limit and by maxBytes', async () => {
    const s = store({ maxBytes: 2 ** 40 });
    await s.create('a', { contentType: 'application/json' });
    const n = SEGMENT_ENTRIES * 3 + 123;
    for (let i = 0; i < n; i += 7) await s.append('a', { entries: Array.from({ length: Math.min(7, n - i) }, (_, k) => event(i + k)) });
    const expected = Array.from({ length: n }, (_, i) => dec(event(i)));
    const byLimit = await pages(s, 'a', { limit: 1000 });
    expect(byLimit.map((p) => p.length)).toEqual([...Array.from({ length: Math.floor(n / 1000) }, () => 1000), n % 1000]);
    const flat = byLimit.flat();
    expect(flat.map((e) => e.data)).toEqual(expected);
    flat.forEach((e, i) => {
      expect(e.offset).toBe(i === 0 ? e.offset : flat[i - 1]?.next);
      expect(Number(e.next.slice(17))).toBe(i + 1);
    });
    const byBytes = await pages(s, 'a', { maxBytes: 5000 });
    expect(byBytes.flat().map((e) => e.data)).toEqual(expected);
    for (const page of byBytes) {
      const size = page.reduce((sum, e) => sum + enc(e.data).byteLength, 0);
      expect(size).toBeLessThanOrEqual(5000);
      expect(page.length).toBeGreaterThan(0);
    }
    // every page is as full as maxBytes allows: the next entry would not have fitted
    byBytes.slice(0, -1).forEach((page, p) => {
      const size = page.reduce((sum, e) => sum + enc(e.data).byteLength, 0);
      expect(size + enc(byBytes[p + 1]?.[0]?.data ?? '').byteLength).toBeGreaterThan(5000);
    });
    const middle = await s.read('a', { from: await offsetAt(s, 'a', SEGMENT_ENTRIES - 2), limit: 4 });
    expect(middle.status === 'ok' && middle.entries.map((e) => dec(e.data))).toEqual(expected.slice(SEGMENT_ENTRIES - 2, SEGMENT_ENTRIES + 2));
  });

  it('stores entries larger than a segment, between small ones, and reads them whole or past maxBytes', async () => {
    const s = store({ maxBytes: 2 ** 40 });
    await s.create('a', { contentType: 'application/json' });
    const big = (c: string): string => JSON.stringify(c.repeat(SEGMENT_BYTES + 1000));
    await s.append('a', { entries: [json('small'), enc(big('a')), json('after')] });
    await s.append('a', { entries: [enc(big('b'))] });
    await s.append('a', { entries: [json('last')] });
    expect(await readAll(s, 'a')).toEqual(['"small"', big('a'), '"after"', big('b'), '"last"']);
    expect((await pages(s, 'a', { maxBytes: 100 })).map((p) => p.map((e) => e.data.length))).toEqual([[7], [big('a').length], [7], [big('b').length], [6]]);
    expect(await readAll(s, 'a', await offsetAt(s, 'a', 3))).toEqual([big('b'), '"last"']);
  });

  it('trims the oldest entries across segments by count and by age, keeping reads and byte accounting right', async () => {
    let now = 0;
    const s = store({ retention: { maxEvents: SEGMENT_ENTRIES + 10 }, now: () => now, maxBytes: (SEGMENT_ENTRIES + 20) * (ENTRY_OVERHEAD_BYTES + 20) });
    await s.create('a', { contentType: 'application/json' });
    // far more than maxBytes in total: retention must give the bytes back for this to fit
    for (let i = 0; i < SEGMENT_ENTRIES * 4; i += 64) {
      now = i;
      await s.append('a', { entries: Array.from({ length: 64 }, (_, k) => json(i + k)) });
    }
    const total = SEGMENT_ENTRIES * 4;
    const kept = await readAll(s, 'a');
    expect(kept).toEqual(Array.from({ length: SEGMENT_ENTRIES + 10 }, (_, k) => String(total - SEGMENT_ENTRIES - 10 + k)));
    expect(await s.read('a', { from: await offsetAt(s, 'a', total - SEGMENT_ENTRIES - 11) })).toMatchObject({ status: 'offset-gone' });
    const aged = store({ retention: { maxAgeMs: 1000 }, now: () => now });
    await aged.create('b', { contentType: 'application/json' });
    for (let i = 0; i < SEGMENT_ENTRIES * 2; i++) {
      now = i;
      await aged.append('b', { entries: [json(i)] });
    }
    expect(await readAll(aged, 'b')).toEqual(Array.from({ length: 1001 }, (_, k) => String(SEGMENT_ENTRIES * 2 - 1001 + k)));
  });

  it('forks from the middle of a segment and of an append, copying exactly what is inherited', async () => {
    const s = store({ maxBytes: 2 ** 40 });
    await s.create('src', { contentType: 'application/json' });
    const n = SEGMENT_ENTRIES + 500;
    for (let i = 0; i < n; i += 10) await s.append('src', { entries: Array.from({ length: 10 }, (_, k) => json(i + k)) });
    const cut = SEGMENT_ENTRIES + 200; // an append starts here (a multiple of 10)
    const fork = await s.create('f', { fork: { source: 'src', offset: await offsetAt(s, 'src', cut), subOffset: 3 } });
    expect(fork.status).toBe('created');
    await s.append('f', { entries: [json('fork')] });
    await s.append('src', { entries: [json('src')] });
    const inherited = Array.from({ length: cut + 3 }, (_, i) => String(i));
    expect(await readAll(s, 'f')).toEqual([...inherited, '"fork"']);
    expect((await readAll(s, 'src')).slice(cut, cut + 4)).toEqual([String(cut), String(cut + 1), String(cut + 2), String(cut + 3)]);
    // the fork's last inherited append ends where it was cut: a fork of the fork cannot reach past it
    const at = await offsetAt(s, 'f', cut);
    expect((await s.create('g', { fork: { source: 'f', offset: at, subOffset: 4 } })).status).toBe('invalid-fork');
    expect((await s.create('g', { fork: { source: 'f', offset: at, subOffset: 3 } })).status).toBe('created');
    expect(await readAll(s, 'g')).toEqual(inherited);
    expect((await s.create('h', { fork: { source: 'src', offset: await offsetAt(s, 'src', cut + 3), subOffset: 8 } })).status).toBe('invalid-fork');
  });

  it('keeps byte streams right across segments: chunk sizes, reads inside a chunk, forks inside a chunk', async () => {
    const s = store({ maxBytes: 2 ** 40 });
    await s.create('b', { contentType: 'text/plain' });
    const chunks = [1, 5000, SEGMENT_BYTES - 3000, 10, SEGMENT_BYTES * 2, 7, 0, 3].map((size, i) => enc(String.fromCharCode(97 + i).repeat(size)));
    for (const chunk of chunks) await s.append('b', { entries: [chunk] });
    await s.append('b', { entries: [enc('xy'), new Uint8Array(0), enc('z')] });
    const text = [...chunks, enc('xyz')].map(dec).join('');
    const all = await s.read('b', { from: '-1' });
    expect(all.status === 'ok' && all.entries.map((e) => e.data.byteLength)).toEqual([1, 5000, SEGMENT_BYTES - 3000, 10, SEGMENT_BYTES * 2, 7, 3, 2, 1]);
    expect(all.status === 'ok' && all.next).toBe(await offsetAt(s, 'b', text.length));
    const inside = 5000 + SEGMENT_BYTES - 3000 + 5; // the 4th chunk, 4 bytes in
    const r = await s.read('b', { from: await offsetAt(s, 'b', inside), limit: 2 });
    expect(r.status === 'ok' && r.entries.map((e) => [e.offset.slice(17), dec(e.data)])).toEqual([
      [String(inside).padStart(16, '0'), 'd'.repeat(6)],
      [String(inside + 6).padStart(16, '0'), 'e'.repeat(SEGMENT_BYTES * 2)],
    ]);
    const bigStart = inside + 6;
    await s.create('f', { fork: { source: 'b', offset: await offsetAt(s, 'b', bigStart), subOffset: 1000 } });
    expect((await readAll(s, 'f')).join('')).toBe(text.slice(0, bigStart + 1000));
    expect((await s.create('g', { fork: { source: 'f', offset: await offsetAt(s, 'f', bigStart), subOffset: 1001 } })).status).toBe('invalid-fork');
    await s.append('f', { entries: [enc('!')] });
    expect((await readAll(s, 'f')).slice(-2)).toEqual(['e'.repeat(1000), '!']);
  });

  it('never changes the bytes of an entry already read, whatever is appended or trimmed after', async () => {
    const s = store({ retention: { maxEvents: 100 }, maxBytes: 2 ** 40 });
    await s.create('a', { contentType: 'application/json' });
    await s.append('a', { entries: [json('first'), json('second')] });
    const r = await s.read('a', { from: '-1' });
    if (r.status !== 'ok') throw new Error(r.status);
    for (let i = 0; i < SEGMENT_ENTRIES * 2; i++) await s.append('a', { entries: [json(`later ${i}`)] });
    expect(r.entries.map((e) => dec(e.data))).toEqual(['"first"', '"second"']);
    expect((await readAll(s, 'a'))[0]).toBe(`"later ${SEGMENT_ENTRIES * 2 - 100}"`);
  });
});
