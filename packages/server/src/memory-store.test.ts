import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryStore } from './memory-store';
import { formatOffset, ZERO_OFFSET } from './offsets';
import type { SessionStore } from './store';
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

/** The offset of `position` in the current instance of stream `id`. */
async function off(s: SessionStore, id: string, position: number): Promise<string> {
  const head = await s.head(id);
  if (head.status !== 'ok') throw new Error(head.status);
  return formatOffset(head.stream.instance, position);
}

async function readAll(s: SessionStore, id: string, from = '-1'): Promise<string[]> {
  const r = await s.read(id, { from });
  if (r.status !== 'ok') throw new Error(r.status);
  return r.entries.map((e) => dec(e.data));
}

describe('memoryStore offsets', () => {
  it('gives every JSON message its own offset, sorting lexicographically in log order', async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json' });
    const offsets: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await s.append('a', { entries: [json({ i }), json({ i, again: true })] });
      if (r.status !== 'appended') throw new Error(r.status);
      offsets.push(r.first, r.tail);
    }
    const read = await s.read('a', { from: '-1' });
    if (read.status !== 'ok') throw new Error(read.status);
    const entryOffsets = read.entries.map((e) => e.offset);
    expect(entryOffsets).toHaveLength(24);
    expect([...entryOffsets].sort()).toEqual(entryOffsets);
    expect(new Set(entryOffsets).size).toBe(24);
    // each entry's `next` is the following entry's offset
    read.entries.slice(0, -1).forEach((e, i) => expect(e.next).toBe(read.entries[i + 1]?.offset));
    expect(read.next).toBe(await off(s, 'a', 24));
    expect(offsets.at(-1)).toBe(read.next);
  });

  it('counts bytes in byte mode and can read from inside a chunk', async () => {
    const s = store();
    await s.create('b', { contentType: 'text/plain', entries: [enc('hello')] });
    await s.append('b', { entries: [enc(' world')] });
    const r = await s.read('b', { from: await off(s, 'b', 3) });
    if (r.status !== 'ok') throw new Error(r.status);
    expect(r.entries.map((e) => dec(e.data)).join('')).toBe('lo world');
    expect(r.next).toBe(await off(s, 'b', 11));
    expect(r.upToDate).toBe(true);
  });

  it('reads at most `limit` entries and reports where to continue', async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json', entries: [1, 2, 3, 4, 5].map((n) => json(n)) });
    const first = await s.read('a', { from: '-1', limit: 2 });
    if (first.status !== 'ok') throw new Error(first.status);
    expect(first.entries.map((e) => dec(e.data))).toEqual(['1', '2']);
    expect(first.upToDate).toBe(false);
    const rest = await s.read('a', { from: first.next, limit: 10 });
    if (rest.status !== 'ok') throw new Error(rest.status);
    expect(rest.entries.map((e) => dec(e.data))).toEqual(['3', '4', '5']);
    expect(rest.upToDate).toBe(true);
  });

  it('refuses offsets past the tail and reports unknown streams', async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json' });
    expect((await s.read('a', { from: await off(s, 'a', 9) })).status).toBe('offset-beyond-tail');
    expect((await s.read('nope', { from: '-1' })).status).toBe('not-found');
    await expect(s.read('a', { from: 'garbage' })).rejects.toMatchObject({ code: 'invalid-offset' });
  });
});

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

  it('answers at once when data is already past the offset or the stream is closed', async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json', entries: [json(1)] });
    expect(await s.wait('a', ZERO_OFFSET, new AbortController().signal)).toBe('changed');
    await s.create('c', { contentType: 'application/json', closed: true });
    expect(await s.wait('c', ZERO_OFFSET, new AbortController().signal)).toBe('changed');
  });

  it('is aborted by its signal and forgets the waiter', async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json' });
    const controller = new AbortController();
    const waiting = s.wait('a', ZERO_OFFSET, controller.signal);
    controller.abort();
    expect(await waiting).toBe('aborted');
    // a later append must not resurrect the finished wait
    expect((await s.append('a', { entries: [json(1)] })).status).toBe('appended');
  });

  it('tells waiters when the stream is deleted, and close() releases every waiter', async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json' });
    await s.create('b', { contentType: 'application/json' });
    const onA = s.wait('a', ZERO_OFFSET, new AbortController().signal);
    const onB = s.wait('b', ZERO_OFFSET, new AbortController().signal);
    expect(await s.delete('a')).toBe('deleted');
    expect(await onA).toBe('not-found');
    await s.close();
    expect(await onB).toBe('aborted');
  });
});

describe('memoryStore retention', () => {
  it('keeps the last maxEvents entries; reading before them is offset-gone (410)', async () => {
    const s = store({ retention: { maxEvents: 3 } });
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
    const s = store({ retention: { maxAgeMs: 1000 }, now: () => now });
    await s.create('a', { contentType: 'application/json', entries: [json('old')] });
    now += 600;
    await s.append('a', { entries: [json('newer')] });
    now += 600;
    expect(await readAll(s, 'a')).toEqual(['"newer"']);
    expect((await s.read('a', { from: ZERO_OFFSET })).status).toBe('offset-gone');
  });
});

describe('memoryStore lifecycle', () => {
  it('create is idempotent for the same config and conflicts otherwise', async () => {
    const s = store();
    expect((await s.create('a', { contentType: 'application/json', ttlSeconds: 60 })).status).toBe('created');
    expect((await s.create('a', { contentType: 'Application/JSON', ttlSeconds: 60 })).status).toBe('exists');
    expect((await s.create('a', { contentType: 'application/json' })).status).toBe('conflict');
    expect((await s.create('a', { contentType: 'text/plain', ttlSeconds: 60 })).status).toBe('conflict');
    expect((await s.create('a', { contentType: 'application/json', ttlSeconds: 60, closed: true })).status).toBe('conflict');
  });

  it('delete removes the stream and its data; a new stream at the id starts empty', async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json', entries: [json('old')] });
    expect(await s.delete('a')).toBe('deleted');
    expect(await s.delete('a')).toBe('not-found');
    // A bounded tombstone tells a deleted stream from an unknown one.
    expect((await s.head('a')).status).toBe('deleted');
    expect((await s.head('never')).status).toBe('not-found');
    await s.create('a', { contentType: 'application/json', entries: [json('new')] });
    expect(await readAll(s, 'a')).toEqual(['"new"']);
  });

  it('expires a stream after its sliding TTL, reset by touching reads and writes but not by head', async () => {
    let now = 0;
    const s = store({ now: () => now });
    await s.create('a', { contentType: 'application/json', ttlSeconds: 2 });
    now = 1500;
    await s.append('a', { entries: [json(1)] });
    now = 3000;
    expect((await s.head('a')).status).toBe('ok');
    now = 3600;
    expect((await s.head('a')).status).toBe('not-found');
  });

  it('closing is atomic with the final append; later appends are refused with the tail', async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json' });
    const closing = await s.append('a', { entries: [json('last')], close: true });
    expect(closing).toMatchObject({ status: 'appended', closed: true, tail: await off(s, 'a', 1) });
    expect(await s.append('a', { entries: [json('more')] })).toEqual({ status: 'closed', tail: await off(s, 'a', 1) });
    expect((await s.append('a', { entries: [], close: true })).status).toBe('appended');
    const read = await s.read('a', { from: '-1' });
    expect(read.status === 'ok' && read.closed).toBe(true);
  });

  it('forks copy the inherited data; a deleted source with forks is gone until its last fork goes', async () => {
    const s = store();
    await s.create('src', { contentType: 'text/plain', entries: [enc('hello')] });
    const fork = await s.create('fork', { fork: { source: 'src', offset: ZERO_OFFSET, subOffset: 3 } });
    expect(fork).toMatchObject({ status: 'created', stream: { contentType: 'text/plain', tail: await off(s, 'fork', 3) } });
    await s.append('fork', { entries: [enc('LO')] });
    expect((await readAll(s, 'fork')).join('')).toBe('helLO');
    expect(await s.delete('src')).toBe('soft-deleted');
    expect((await s.head('src')).status).toBe('gone');
    expect((await s.create('src', { contentType: 'text/plain' })).status).toBe('conflict');
    expect(await s.delete('fork')).toBe('deleted');
    expect((await s.head('src')).status).toBe('deleted');
  });
});

describe('memoryStore idempotent producers', () => {
  it('writes a retried (producer, epoch, seq) once and reports the highest accepted seq', async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json' });
    const p = (seq: number, epoch = 0) => ({ id: 'p1', epoch, seq });
    expect((await s.append('a', { entries: [json(0)], producer: p(0) })).status).toBe('appended');
    expect((await s.append('a', { entries: [json(1)], producer: p(1) })).status).toBe('appended');
    expect(await s.append('a', { entries: [json(0)], producer: p(0) })).toMatchObject({
      status: 'duplicate',
      producer: { epoch: 0, seq: 1 },
    });
    expect(await readAll(s, 'a')).toEqual(['0', '1']);
    expect(await s.append('a', { entries: [json(3)], producer: p(3) })).toEqual({ status: 'seq-gap', expected: 2, received: 3 });
    expect((await s.append('a', { entries: [json('e1')], producer: p(0, 1) })).status).toBe('appended');
    expect(await s.append('a', { entries: [json('zombie')], producer: p(2, 0) })).toEqual({ status: 'stale-epoch', epoch: 1 });
    expect((await s.append('a', { entries: [json('bad')], producer: p(4, 2) })).status).toBe('invalid-epoch-seq');
    expect(await readAll(s, 'a')).toEqual(['0', '1', '"e1"']);
  });

  it('keeps producer state per stream and dedupes the closing append', async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json' });
    await s.create('b', { contentType: 'application/json' });
    const p = { id: 'p1', epoch: 0, seq: 0 };
    expect((await s.append('a', { entries: [json('final')], producer: p, close: true })).status).toBe('appended');
    expect(await s.append('a', { entries: [json('final')], producer: p, close: true })).toMatchObject({ status: 'duplicate', closed: true });
    expect((await s.append('b', { entries: [json('other stream')], producer: p })).status).toBe('appended');
  });

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

  it('refuses Stream-Seq regressions (lexicographic)', async () => {
    const s = store();
    await s.create('a', { contentType: 'text/plain' });
    expect((await s.append('a', { entries: [enc('x')], streamSeq: '2' })).status).toBe('appended');
    expect(await s.append('a', { entries: [enc('y')], streamSeq: '10' })).toEqual({ status: 'stream-seq-regression', last: '2' });
  });
});

describe('memoryStore stream identity and bounds', () => {
  it("offsets carry the stream's instance: another instance's offset is offset-gone, the zero offset is position 0 everywhere", async () => {
    const s = store();
    await s.create('a', { contentType: 'application/json', entries: [json(1), json(2)] });
    const old = await off(s, 'a', 1);
    expect(await readAll(s, 'a', ZERO_OFFSET)).toEqual(['1', '2']);
    await s.delete('a');
    await s.create('a', { contentType: 'application/json', entries: [json(3), json(4)] });
    expect((await s.read('a', { from: old })).status).toBe('offset-gone');
    expect(await s.wait('a', old, new AbortController().signal)).toBe('changed'); // the read after it answers 410
    const restarted = store();
    await restarted.create('a', { contentType: 'application/json', entries: [json(5), json(6)] });
    expect((await restarted.read('a', { from: old })).status).toBe('offset-gone');
  });

  it("a fork accepts its source's offsets up to where it was cut", async () => {
    const s = store();
    await s.create('src', { contentType: 'application/json', entries: [json(1), json(2)] });
    const cut = await off(s, 'src', 2);
    await s.create('fork', { fork: { source: 'src' } });
    await s.append('src', { entries: [json('src only')] });
    await s.append('fork', { entries: [json('fork only')] });
    expect(await readAll(s, 'fork', cut)).toEqual(['"fork only"']);
    expect((await s.read('fork', { from: await off(s, 'src', 3) })).status).toBe('offset-gone');
  });

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
