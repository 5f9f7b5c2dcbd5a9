/**
 * The snapshot part of the `SessionStore` contract ({@link SessionStore.putSnapshot},
 * {@link SessionStore.getSnapshot}): vitest cases every store runs. Its backend shape is the
 * store contract's `StoreBackend` (one fresh backend per test), so a store's contract file can
 * call `runSnapshotContract` next to `runStoreContract` with the same factory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionStore } from './store';

/**
 * One empty backend for a snapshot contract test (structurally the store contract's `StoreBackend`).
 * @example
 * const backend: SnapshotContractBackend = { open: (options) => memoryStore(options) };
 */
export interface SnapshotContractBackend {
  open(options?: { retention?: { maxEvents?: number; maxAgeMs?: number }; now?: () => number }): SessionStore | Promise<SessionStore>;
  dispose?(): void | Promise<void>;
}

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const JSON_TYPE = { contentType: 'application/json' };

/** Create `id` and append `count` entries one by one; the tails after each. */
async function withEntries(store: SessionStore, id: string, count: number): Promise<string[]> {
  await store.create(id, JSON_TYPE);
  const tails: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await store.append(id, { entries: [enc(JSON.stringify({ type: 'x', i }))] });
    if (r.status !== 'appended') throw new Error(`append: ${r.status}`);
    tails.push(r.tail);
  }
  return tails;
}

type OpenStore = (options?: Parameters<SnapshotContractBackend['open']>[0]) => Promise<SessionStore>;

/** The cases on forks, malformed offsets, concurrent puts and retention (inside the contract's describe). */
function forkAndRaceCases(open: OpenStore): void {
  it('a fork does not inherit its source\'s snapshot; a malformed offset is invalid-offset', async () => {
    const store = await open();
    const tails = await withEntries(store, 'src', 2);
    expect(await store.putSnapshot('src', { offset: tails[1]!, data: enc('src') })).toBe('stored');
    expect((await store.create('fork', { fork: { source: 'src', offset: tails[1]! } })).status).toBe('created');
    expect(await store.getSnapshot('fork')).toEqual({ status: 'none' });
    expect(await store.putSnapshot('fork', { offset: 'not-an-offset', data: enc('x') })).toBe('invalid-offset');
    const r = await store.getSnapshot('src');
    expect(r.status === 'ok' && dec(r.snapshot.data)).toBe('src');
  });

  it('keeps the newest of concurrent puts', async () => {
    const store = await open();
    const tails = await withEntries(store, 's1', 4);
    const outcomes = await Promise.all(tails.map((offset, i) => store.putSnapshot('s1', { offset, data: enc(`at ${i}`) })));
    expect(outcomes).toContain('stored');
    const r = await store.getSnapshot('s1');
    expect(r.status === 'ok' && [r.snapshot.offset, dec(r.snapshot.data)]).toEqual([tails[3], 'at 3']);
  });

  it('retention never drops entries the snapshot does not cover', async () => {
    const store = await open({ retention: { maxEvents: 2 } });
    const tails = await withEntries(store, 's1', 3);
    await store.putSnapshot('s1', { offset: tails[0]!, data: enc('after entry 0') });
    for (let i = 0; i < 5; i++) await store.append('s1', { entries: [enc('{"type":"y"}')] });
    const r = await store.read('s1', { from: tails[0]! });
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect(r.entries.length).toBe(7);
    const older = await store.read('s1', { from: '-1' });
    expect(older.status === 'ok' && older.entries[0]?.offset).toBe(tails[0]);
  });
}

/**
 * Register the snapshot cases for one store (at the top level of a test file).
 * @example
 * runSnapshotContract('memoryStore', () => ({ open: (o) => memoryStore(o) }));
 */
export function runSnapshotContract(name: string, makeBackend: () => SnapshotContractBackend | Promise<SnapshotContractBackend>): void {
  let opened: SessionStore[] = [];
  let backends: SnapshotContractBackend[] = [];
  afterEach(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await Promise.all(backends.map((b) => b.dispose?.()));
    opened = [];
    backends = [];
  });
  const open = async (options: Parameters<SnapshotContractBackend['open']>[0] = {}): Promise<SessionStore> => {
    const backend = await makeBackend();
    backends.push(backend);
    const store = await backend.open(options);
    opened.push(store);
    return store;
  };
  describe(`${name} (snapshot contract)`, () => {
    it('has no snapshot until one is put, then returns the newest', async () => {
      const store = await open();
      const tails = await withEntries(store, 's1', 3);
      expect(await store.getSnapshot('s1')).toEqual({ status: 'none' });
      expect(await store.putSnapshot('s1', { offset: tails[0]!, data: enc('one') })).toBe('stored');
      expect(await store.putSnapshot('s1', { offset: tails[2]!, data: enc('three') })).toBe('stored');
      const r = await store.getSnapshot('s1');
      expect(r.status).toBe('ok');
      if (r.status === 'ok') expect([r.snapshot.offset, dec(r.snapshot.data)]).toEqual([tails[2], 'three']);
    });

    it('refuses a snapshot at or before the held one (stale) and keeps the held one', async () => {
      const store = await open();
      const tails = await withEntries(store, 's1', 2);
      await store.putSnapshot('s1', { offset: tails[1]!, data: enc('new') });
      expect(await store.putSnapshot('s1', { offset: tails[0]!, data: enc('old') })).toBe('stale');
      expect(await store.putSnapshot('s1', { offset: tails[1]!, data: enc('same') })).toBe('stale');
      const r = await store.getSnapshot('s1');
      expect(r.status === 'ok' && dec(r.snapshot.data)).toBe('new');
    });

    it('refuses offsets past the tail or of another stream instance', async () => {
      const store = await open();
      const [first] = await withEntries(store, 'a', 1);
      const other = await withEntries(store, 'b', 3);
      expect(await store.putSnapshot('a', { offset: other[2]!, data: enc('x') })).toBe('invalid-offset');
      await store.delete('a');
      await withEntries(store, 'a', 2);
      expect(await store.putSnapshot('a', { offset: first!, data: enc('x') })).toBe('invalid-offset');
    });

    it('answers not-found for unknown streams, and a deleted stream takes its snapshot with it', async () => {
      const store = await open();
      expect(await store.getSnapshot('nope')).toEqual({ status: 'not-found' });
      const tails = await withEntries(store, 's1', 1);
      expect(await store.putSnapshot('nope', { offset: tails[0]!, data: enc('x') })).toBe('not-found');
      await store.putSnapshot('s1', { offset: tails[0]!, data: enc('x') });
      await store.delete('s1');
      await withEntries(store, 's1', 1);
      expect(await store.getSnapshot('s1')).toEqual({ status: 'none' });
    });

    forkAndRaceCases(open);
  });
}
