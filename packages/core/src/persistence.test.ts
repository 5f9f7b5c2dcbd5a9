import 'fake-indexeddb/auto';
import { IDBFactory, IDBOpenDBRequest } from 'fake-indexeddb';
import { openDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryAdapter, type MemoryAdapter } from './adapters/memory';
import type { AppEvent, SessionEvent } from './events';
import { createSaver, DB_NAME, openPersistence } from './persistence';
import { CLIENT_ID_KEY, createDurableSession } from './session';
import type { DurableSession, SessionAdapter } from './types';
import { waitFor } from './wait';

type Ev = SessionEvent | AppEvent;
const open: DurableSession<AppEvent>[] = [];
const start = (adapter: SessionAdapter<Ev>, extra: { persistence?: 'indexeddb' | 'memory'; clientId?: string } = {}) => {
  const s = createDurableSession<AppEvent>({ sessionId: 'chat', adapter, clientId: 'me', ...extra });
  open.push(s);
  return s;
};
let agentSeq = 0;
const say = (a: MemoryAdapter<Ev>, ...events: Ev[]): Promise<void> =>
  events.reduce((p, e) => p.then(() => a.append('chat', e, { producerId: 'agent', epoch: 0, seq: agentSeq++ })), Promise.resolve());
const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A real macrotask, even under fake timers (fake-indexeddb schedules with setImmediate). */
const macrotask = (): Promise<void> => new Promise((r) => setImmediate(r));

beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory()); // a fresh, empty IndexedDB per test
  agentSeq = 0;
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('createSaver', () => {
  it('writes at most 4 times a second at any rate, plus every immediate save', async () => {
    vi.useFakeTimers();
    const writes: number[] = [];
    const saver = createSaver<number>(async (v) => void writes.push(v));
    let n = 0;
    let urgent = 0;
    for (let ms = 0; ms < 3000; ms++) {
      // 3 saves per millisecond: 3,000 a second; a turn end every 700 ms.
      for (let k = 0; k < 3; k++) saver.save(++n);
      if (ms % 700 === 699) {
        saver.save(++n, true);
        urgent++;
      }
      await vi.advanceTimersByTimeAsync(1);
    }
    await saver.flush();
    expect(writes.length).toBeLessThanOrEqual(3 * 4 + urgent + 1);
    expect(writes.length).toBeGreaterThanOrEqual(3 * 4);
    expect(writes.at(-1)).toBe(n); // the latest value always lands
    expect([...writes].sort((x, y) => x - y)).toEqual(writes); // in order
  });

  it('flush() writes the pending value once and nothing when idle', async () => {
    const writes: number[] = [];
    const saver = createSaver<number>(async (v) => void writes.push(v));
    await saver.flush();
    saver.save(1);
    saver.save(2);
    await saver.flush();
    await saver.flush();
    await tick(300);
    expect(writes).toEqual([2]);
  });
});

describe('IndexedDB persistence', () => {
  it('renders the saved state before the network answers, then reads only what follows', async () => {
    const a = memoryAdapter<Ev>();
    const first = start(a);
    await waitFor(first, (s) => s.status === 'live', 1000);
    expect(first.get()).toMatchObject({ persistence: 'indexeddb', resumed: false });
    await say(a, { type: 'prompt', turnId: 't', text: 'Q', clientId: 'me' }, { type: 'turn.start', turnId: 't', agentId: 'bot' }, { type: 'delta', turnId: 't', agentId: 'bot', text: 'A' }, { type: 'turn.end', turnId: 't', agentId: 'bot', reason: 'complete' });
    const done = await waitFor(first, (s) => s.turns[0]?.status === 'complete', 1000);
    await first.close();

    // "Reload": the network never answers, yet the saved turn renders.
    const reads: string[] = [];
    const silent: SessionAdapter<Ev> = {
      read: (_id, offset, { signal }) => {
        reads.push(offset);
        // oxlint-disable-next-line require-yield -- a read that never yields, until aborted
        return (async function* () {
          await new Promise((r) => signal.addEventListener('abort', r));
        })();
      },
      append: a.append,
    };
    const second = start(silent);
    const resumed = await waitFor(second, (s) => s.resumed, 1000);
    expect(resumed).toMatchObject({ status: 'connecting', offset: done.offset, persistence: 'indexeddb' });
    expect(resumed.turns).toEqual(done.turns);
    await tick(5);
    expect(reads).toEqual([done.offset]);
  });

  it('coalesces writes under a high delta rate: ≤ 4 a second plus one per turn end', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }); // fake-indexeddb keeps its real setImmediate
    const put = vi.spyOn(IDBObjectStore.prototype, 'put');
    const a = memoryAdapter<Ev>();
    const s = start(a);
    while (s.get().status !== 'live') await macrotask();
    put.mockClear();
    let deltas = 0;
    for (let turn = 0; turn < 2; turn++) {
      const turnId = `t${turn}`;
      await say(a, { type: 'turn.start', turnId, agentId: 'bot' });
      for (let ms = 0; ms < 1000; ms += 2) {
        for (let k = 0; k < 4; k++) await say(a, { type: 'delta', turnId, agentId: 'bot', text: 'x' }); // 2,000 deltas a second
        deltas += 4;
        await vi.advanceTimersByTimeAsync(2);
      }
      const before = put.mock.calls.length;
      await say(a, { type: 'turn.end', turnId, agentId: 'bot', reason: 'complete' });
      await macrotask();
      expect(put.mock.calls.length).toBe(before + 1); // the turn end is written at once
    }
    expect(deltas).toBe(4000);
    expect(s.get().persistence).toBe('indexeddb');
    expect(s.get().turns.map((t) => t.text.length)).toEqual([2000, 2000]);
    // 2 seconds → at most 8 throttled writes (+1 at the boundaries), plus 2 turn ends.
    expect(put.mock.calls.length).toBeLessThanOrEqual(8 + 1 + 2);
    expect(put.mock.calls.length).toBeGreaterThanOrEqual(6);
  });

  it('flushes on pagehide', async () => {
    const target = new EventTarget();
    vi.stubGlobal('addEventListener', target.addEventListener.bind(target));
    vi.stubGlobal('removeEventListener', target.removeEventListener.bind(target));
    const a = memoryAdapter<Ev>();
    const s = start(a);
    await waitFor(s, (x) => x.status === 'live', 1000);
    const put = vi.spyOn(IDBObjectStore.prototype, 'put');
    await say(a, { type: 'delta', turnId: 't', agentId: 'bot', text: 'x' });
    await waitFor(s, (x) => x.turns.length === 1, 1000);
    expect(put).not.toHaveBeenCalled(); // coalesced: not yet
    target.dispatchEvent(new Event('pagehide'));
    await tick(0);
    expect(put).toHaveBeenCalledTimes(1);
  });

  it('saves offset and state together in one record with a schema', async () => {
    const a = memoryAdapter<Ev>();
    const s = start(a);
    await say(a, { type: 'prompt', turnId: 't', text: 'Q', clientId: 'me' });
    await waitFor(s, (x) => x.turns.length === 1, 1000);
    await s.close();
    const db = await openDB(DB_NAME);
    const rec = await db.get('sessions', 'chat');
    db.close();
    expect(rec).toMatchObject({ schema: 1, offset: a.tail('chat'), state: { turns: [{ turnId: 't' }] } });
  });

  it('ignores a record of an unknown schema and rebuilds from the start', async () => {
    const db = await openDB(DB_NAME, 1, { upgrade: (d) => void d.createObjectStore('sessions') });
    await db.put('sessions', { schema: 99, offset: '0000000000000005', state: { whatever: true } }, 'chat');
    db.close();
    const p = await openPersistence('chat');
    expect(p.saved).toBeUndefined();
    p.close();
    const a = memoryAdapter<Ev>();
    const reads: string[] = [];
    const s = start({ read: (id, o, opts) => (reads.push(o), a.read(id, o, opts)), append: a.append });
    await waitFor(s, (x) => x.status === 'live', 1000);
    expect(s.get().resumed).toBe(false);
    expect(reads).toEqual(['-1']);
  });
});

describe('fallback to memory', () => {
  const expectMemory = async (s: DurableSession<AppEvent>, warnings: { code: string }[]) => {
    await waitFor(s, (x) => x.persistence === 'memory' && x.status === 'live', 1000);
    expect(warnings.map((w) => w.code)).toContain('persistence');
  };
  const withWarnings = (s: DurableSession<AppEvent>) => {
    const warnings: { code: string }[] = [];
    s.on('warning', (w) => warnings.push(w));
    return warnings;
  };

  it('when IndexedDB is missing (SSR, Node)', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const s = start(memoryAdapter<Ev>());
    expect(s.get().persistence).toBe('memory');
    await expectMemory(s, withWarnings(s));
  });

  it('when opening throws', async () => {
    vi.stubGlobal('indexedDB', {
      open() {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    const s = start(memoryAdapter<Ev>());
    await expectMemory(s, withWarnings(s));
  });

  it('when the open request fails (a newer database version)', async () => {
    const newer = await openDB(DB_NAME, 7);
    newer.close();
    const s = start(memoryAdapter<Ev>());
    await expectMemory(s, withWarnings(s));
  });

  it('when opening hangs (a known WebKit bug): after 2 s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.spyOn(indexedDB, 'open').mockImplementation(() => new IDBOpenDBRequest()); // never answers
    const s = start(memoryAdapter<Ev>());
    const warnings = withWarnings(s);
    await vi.advanceTimersByTimeAsync(1999);
    expect(s.get()).toMatchObject({ persistence: 'indexeddb', status: 'connecting' });
    await vi.advanceTimersByTimeAsync(1);
    await expectMemory(s, warnings);
    expect(warnings[0]).toMatchObject({ message: expect.stringContaining('did not open within 2000 ms') });
  });

  it('a database that opens after the timeout is closed at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const close = vi.spyOn(IDBDatabase.prototype, 'close');
    const opening = openPersistence('chat');
    vi.advanceTimersByTime(2000); // before fake-indexeddb's own macrotasks answer
    await expect(opening).rejects.toMatchObject({ code: 'persistence' });
    for (let i = 0; i < 20 && !close.mock.calls.length; i++) await macrotask();
    expect(close).toHaveBeenCalled();
  });

  it('when a write fails (quota): keeps going in memory', async () => {
    const a = memoryAdapter<Ev>();
    const s = start(a);
    const warnings = withWarnings(s);
    await waitFor(s, (x) => x.status === 'live' && x.persistence === 'indexeddb', 1000);
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    await say(a, { type: 'turn.start', turnId: 't', agentId: 'bot' }, { type: 'turn.end', turnId: 't', agentId: 'bot', reason: 'complete' });
    await waitFor(s, (x) => x.persistence === 'memory', 1000);
    expect(warnings.map((w) => w.code)).toEqual(['persistence']);
    await say(a, { type: 'prompt', turnId: 'u', text: 'still works', clientId: 'me' });
    await waitFor(s, (x) => x.turns.length === 2, 1000);
  });

  it('persistence: "memory" never touches IndexedDB and warns nothing', async () => {
    const openSpy = vi.spyOn(indexedDB, 'open');
    const s = start(memoryAdapter<Ev>(), { persistence: 'memory' });
    const warnings = withWarnings(s);
    await waitFor(s, (x) => x.status === 'live', 1000);
    expect(openSpy).not.toHaveBeenCalled();
    expect(warnings).toEqual([]);
  });
});

describe('client id', () => {
  const storage = () => {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), map: m };
  };

  it('defaults to a random id kept in localStorage', async () => {
    const ls = storage();
    vi.stubGlobal('localStorage', ls);
    const a = memoryAdapter<Ev>();
    const one = createDurableSession({ sessionId: 'x', adapter: a, persistence: 'memory' });
    const two = createDurableSession({ sessionId: 'y', adapter: a, persistence: 'memory' });
    expect(one.clientId).toMatch(/.{8,}/);
    expect(two.clientId).toBe(one.clientId);
    expect(ls.map.get(CLIENT_ID_KEY)).toBe(one.clientId);
    await Promise.all([one.close(), two.close()]);
  });

  it('is random per session object when localStorage throws, with a warning', async () => {
    vi.stubGlobal('localStorage', {
      getItem() {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    const s = createDurableSession({ sessionId: 'x', adapter: memoryAdapter<Ev>(), persistence: 'memory' });
    const warnings: string[] = [];
    s.on('warning', (w) => warnings.push(w.code));
    await tick(0);
    expect(s.clientId).toMatch(/.{8,}/);
    expect(warnings).toEqual(['persistence']);
    await s.close();
  });
});
