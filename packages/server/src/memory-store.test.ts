import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryStore } from './memory-store';
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
