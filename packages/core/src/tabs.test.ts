import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryAdapter, type MemoryAdapter } from './adapters/memory';
import { DurableSessionError } from './errors';
import type { AppEvent, DeltaEvent, SessionEvent } from './events';
import { initialSessionState, reduceSession } from './reducer';
import { createDurableSession } from './session';
import { linkTabs, tabChannelName, type TabHost, type TabMessage } from './tabs';
import type { DurableSession, ReadBatch, SessionAdapter, SessionSnapshot, SessionState } from './types';
import { waitFor } from './wait';

// Node 20 has a real BroadcastChannel between instances of one process, and no navigator.locks:
// a small in-memory LockManager (exclusive locks, FIFO waiters, `signal`) stands in for it.
type Ev = SessionEvent | AppEvent;
type Msg = TabMessage<Ev, SessionState>;

function fakeLocks() {
  const waiting = new Map<string, (() => void)[]>();
  const held = new Set<string>();
  const next = (name: string): void => {
    const grant = waiting.get(name)?.shift();
    if (grant) grant();
    else held.delete(name);
  };
  const locks = {
    held,
    waiting,
    request(name: string, options: { signal?: AbortSignal }, cb: () => unknown): Promise<unknown> {
      return new Promise((resolve, reject) => {
        const grant = (): void => {
          options.signal?.removeEventListener('abort', abort);
          held.add(name);
          Promise.resolve()
            .then(cb)
            .then(resolve, reject)
            .finally(() => next(name));
        };
        const abort = (): void => {
          const q = waiting.get(name) ?? [];
          q.splice(q.indexOf(grant), 1);
          reject(new DOMException('aborted', 'AbortError'));
        };
        if (!held.has(name)) return grant();
        if (!waiting.has(name)) waiting.set(name, []);
        waiting.get(name)!.push(grant);
        options.signal?.addEventListener('abort', abort);
      });
    },
  };
  return locks;
}

let locks: ReturnType<typeof fakeLocks>;
let agentSeq = 0;
const say = (a: MemoryAdapter<Ev>, ...events: Ev[]): Promise<void> =>
  events.reduce((p, e) => p.then(() => a.append('s1', e, { producerId: 'agent', epoch: 0, seq: agentSeq++ })), Promise.resolve());
const deltas = (n: number, from = 0): DeltaEvent[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'delta', turnId: 't1', agentId: 'a', text: `w${from + i} ` }));
const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Counts the live reads each adapter opens (what would reach the server), in flight and in total. */
function counted(a: MemoryAdapter<Ev>) {
  const stats = { live: 0, total: 0 };
  const adapter: SessionAdapter<Ev> = {
    append: (id, e, o) => a.append(id, e, o),
    async *read(id, offset, o) {
      if (!o.live) return yield* a.read(id, offset, o);
      stats.live++;
      stats.total++;
      try {
        yield* a.read(id, offset, o);
      } finally {
        stats.live--;
      }
    },
  };
  return { adapter, stats };
}

const open: DurableSession<AppEvent>[] = [];
const channels: BroadcastChannel[] = [];
function tab(adapter: SessionAdapter<Ev>, extra: Partial<Parameters<typeof createDurableSession>[0]> = {}) {
  const s = createDurableSession<AppEvent>({ sessionId: 's1', adapter, persistence: 'memory', clientId: 'me', ...extra });
  open.push(s);
  const applied: string[] = [];
  s.on('event', ({ event }) => applied.push(event.type === 'delta' ? (event.text as string) : event.type));
  return Object.assign(s, { applied });
}
/** A raw channel on the session, to play the leader or a follower by hand. */
function raw() {
  const ch = new BroadcastChannel(tabChannelName('s1'));
  channels.push(ch);
  const got: Msg[] = [];
  ch.onmessage = (e: MessageEvent<Msg>) => got.push(e.data);
  return { ch, got, post: (m: Msg) => ch.postMessage(m) };
}
const until = async (check: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await tick(2);
  }
};
const text = (s: DurableSession<AppEvent>) => s.get().turns[0]?.text ?? '';

beforeEach(() => {
  locks = fakeLocks();
  vi.stubGlobal('navigator', { locks });
  agentSeq = 0;
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  channels.splice(0).forEach((c) => c.close());
  vi.unstubAllGlobals();
});

describe('tabs: election and fallback', () => {
  it('falls back to solo without Web Locks (Node), and with tabs: false', async () => {
    const { adapter, stats } = counted(memoryAdapter<Ev>());
    vi.stubGlobal('navigator', {});
    const a = tab(adapter);
    expect(a.get().tabs).toBe('solo');
    vi.stubGlobal('navigator', { locks });
    const b = tab(adapter, { tabs: false });
    expect(b.get().tabs).toBe('solo');
    await waitFor(a, (s) => s.status === 'live', 2000);
    await waitFor(b, (s) => s.status === 'live', 2000);
    expect(stats.live).toBe(2);
    vi.stubGlobal('BroadcastChannel', undefined);
    expect(linkTabs('s1', {} as TabHost<Ev, SessionState>)).toBeUndefined();
  });

  it('one leader, the others follow; exactly one live read for three tabs', async () => {
    const mem = memoryAdapter<Ev>();
    const { adapter, stats } = counted(mem);
    const tabs = [tab(adapter), tab(adapter), tab(adapter)];
    expect(tabs.map((t) => t.get().tabs)).toEqual(['follower', 'follower', 'follower']);
    await until(() => tabs.every((t) => t.get().status === 'live'));
    expect(tabs.map((t) => t.get().tabs)).toEqual(['leader', 'follower', 'follower']);
    await say(mem, { type: 'prompt', turnId: 't1', text: 'hi', clientId: 'c' }, { type: 'turn.start', turnId: 't1', agentId: 'a' }, ...deltas(50));
    await until(() => tabs.every((t) => t.get().offset === mem.tail('s1')));
    expect(stats).toEqual({ live: 1, total: 1 });
    const expected = deltas(50).map((e) => e.text).join('');
    for (const t of tabs) {
      expect(text(t)).toBe(expected);
      expect(t.applied.filter((x) => x.startsWith('w')).join('')).toBe(expected); // each event once, in order
    }
  });

  it('a lock request that fails makes the tab solo, with a warning', async () => {
    const mem = memoryAdapter<Ev>();
    vi.stubGlobal('navigator', { locks: { request: () => Promise.reject(new Error('SecurityError')) } });
    const a = tab(mem);
    const warnings: DurableSessionError[] = [];
    a.on('warning', (e) => warnings.push(e));
    await waitFor(a, (s) => s.status === 'live' && s.tabs === 'solo', 2000);
    expect(warnings.map((w) => w.message)).toEqual([expect.stringContaining('Web Lock')]);
  });
});

describe('tabs: catching up and failover', () => {
  it('a tab opened later catches up from the leader (ring) without a read of its own, then follows live', async () => {
    const mem = memoryAdapter<Ev>();
    const { adapter, stats } = counted(mem);
    const a = tab(adapter);
    await waitFor(a, (s) => s.status === 'live', 2000);
    await say(mem, { type: 'prompt', turnId: 't1', text: 'hi', clientId: 'c' }, ...deltas(20));
    await until(() => a.get().offset === mem.tail('s1'));
    const b = tab(adapter);
    await until(() => b.get().offset === mem.tail('s1'));
    await say(mem, ...deltas(5, 20));
    await until(() => b.get().offset === mem.tail('s1'));
    expect(text(b)).toBe(text(a));
    expect(b.applied.filter((x) => x.startsWith('w'))).toHaveLength(25);
    expect(b.get().tabs).toBe('follower');
    expect(stats.total).toBe(1);
  });

  it('a need the ring cannot serve is answered with the state; the follower then chains on', async () => {
    const mem = memoryAdapter<Ev>();
    await say(mem, { type: 'prompt', turnId: 't1', text: 'hi', clientId: 'c' }, ...deltas(3)); // one batch from -1 to 4
    const a = tab(mem);
    await until(() => a.get().offset === mem.tail('s1') && a.get().tabs === 'leader');
    const r = raw();
    r.post({ type: 'need', from: '0000000000000001' }); // not a batch boundary the leader saw
    await until(() => r.got.some((m) => m.type === 'status'));
    expect(r.got[0]).toMatchObject({ type: 'state', offset: mem.tail('s1'), state: { turns: [{ text: 'w0 w1 w2 ' }] } });
    expect(r.got[1]).toEqual({ type: 'status', status: 'live', offset: mem.tail('s1') });
    r.got.length = 0;
    r.post({ type: 'need', from: '-1' }); // the leader read from -1: the whole chain is in its ring
    await until(() => r.got.some((m) => m.type === 'status'));
    expect(r.got[0]).toMatchObject({ type: 'batches', from: '-1' });
    r.got.length = 0;
    r.post({ type: 'need', from: mem.tail('s1') }); // up to date: only the status
    await until(() => r.got.length > 0);
    expect(r.got.map((m) => m.type)).toEqual(['status']);
  });

  it('the leader closes mid-answer: a follower takes the lock and resumes from its own offset, nothing lost or repeated', async () => {
    const mem = memoryAdapter<Ev>();
    const { adapter, stats } = counted(mem);
    const tabs = [tab(adapter), tab(adapter), tab(adapter)];
    await until(() => tabs.every((t) => t.get().status === 'live'));
    const writing = (async () => {
      for (let i = 0; i < 60; i++) {
        await say(mem, ...deltas(1, i));
        await tick(1);
      }
    })();
    await until(() => text(tabs[1]!).length > 40);
    await tabs[0]!.close();
    await writing;
    const [, b, c] = tabs;
    await until(() => b!.get().offset === mem.tail('s1') && c!.get().offset === mem.tail('s1'));
    expect(b!.get().tabs).toBe('leader');
    expect(c!.get().tabs).toBe('follower');
    const expected = deltas(60).map((e) => e.text).join('');
    for (const t of [b!, c!]) {
      expect(text(t)).toBe(expected);
      expect(t.applied.join('')).toBe(expected);
    }
    expect(stats).toEqual({ live: 1, total: 2 });
  });

  it('cancel from a follower is appended by the follower; every tab shows the turn cancelled', async () => {
    const mem = memoryAdapter<Ev>();
    const a = tab(mem);
    const b = tab(mem);
    await until(() => a.get().status === 'live' && b.get().status === 'live');
    await say(mem, { type: 'prompt', turnId: 't1', text: 'hi', clientId: 'c' }, { type: 'turn.start', turnId: 't1', agentId: 'a' });
    await until(() => b.get().activeTurnId === 't1');
    await b.cancel();
    await until(() => a.get().turns[0]?.status === 'cancelled' && b.get().turns[0]?.status === 'cancelled');
    expect(mem.events('s1').filter((e) => e.type === 'cancel')).toHaveLength(1);
  });
});

describe('tabs: follower protocol', () => {
  /** A follower session under a raw "leader" channel (the lock held elsewhere). */
  async function follower() {
    void locks.request(tabChannelName('s1'), {}, () => new Promise(() => {}));
    const leader = raw();
    const f = tab(memoryAdapter<Ev>());
    await until(() => leader.got.some((m) => m.type === 'need'));
    expect(leader.got.shift()).toEqual({ type: 'need', from: '-1' });
    return { f, leader };
  }
  const batch = (events: Ev[], offset: string, upToDate = true): ReadBatch<Ev> => ({ events, offset, upToDate });

  it('applies chained batches, drops repeats, asks once for a gap, and mirrors the leader status', async () => {
    const { f, leader } = await follower();
    expect(f.get()).toMatchObject({ tabs: 'follower', status: 'connecting' });
    leader.post({ type: 'batches', from: '-1', batches: [batch(deltas(1), '1'), batch(deltas(1, 1), '2')] });
    await until(() => f.get().offset === '2');
    expect(f.get().status).toBe('live');
    leader.post({ type: 'batches', from: '1', batches: [batch(deltas(1, 1), '2')] }); // a repeat
    leader.post({ type: 'batches', from: '3', batches: [batch(deltas(1, 3), '4')] }); // a gap
    leader.post({ type: 'batches', from: '4', batches: [batch(deltas(1, 4), '5')] }); // still a gap: no second need yet
    await until(() => leader.got.length > 0);
    await tick(20);
    expect(leader.got).toEqual([{ type: 'need', from: '2' }]);
    leader.post({ type: 'batches', from: '2', batches: [batch(deltas(1, 2), '3'), batch(deltas(1, 3), '4'), batch(deltas(1, 4), '5')] });
    await until(() => f.get().offset === '5');
    expect(f.applied.join('')).toBe('w0 w1 w2 w3 w4 ');
    await tick(300); // the gap was filled: no second need
    expect(leader.got).toHaveLength(1);
    leader.post({ type: 'status', status: 'reconnecting', offset: '5' });
    await waitFor(f, (s) => s.status === 'reconnecting', 1000);
    leader.post({ type: 'status', status: 'live', offset: '7' }); // the leader is ahead: ask
    await until(() => leader.got.length === 2);
    expect(leader.got[1]).toEqual({ type: 'need', from: '5' });
    expect(f.get().status).toBe('live');
  });

  it('takes a state ahead of it, ignores one behind it, and a reset (410 at the leader) in any case', async () => {
    const { f, leader } = await follower();
    const state = (n: number) => deltas(n).reduce(reduceSession, reduceSession(initialSessionState, { type: 'prompt', turnId: 't1', text: 'x', clientId: 'c' }));
    leader.post({ type: 'state', offset: '3', state: state(3) });
    await until(() => f.get().offset === '3');
    expect(text(f)).toBe('w0 w1 w2 ');
    leader.post({ type: 'state', offset: '2', state: state(2) });
    leader.post({ type: 'batches', from: '3', batches: [batch(deltas(1, 3), '4')] });
    await until(() => f.get().offset === '4');
    expect(text(f)).toBe('w0 w1 w2 w3 ');
    expect(f.get().recovered).toBe(true);
    leader.post({ type: 'state', offset: '-1', state: initialSessionState, reset: true });
    await until(() => f.get().offset === '-1');
    expect(f.get()).toMatchObject({ turns: [], recovered: false });
  });

  it('a follower that closes withdraws its lock request', async () => {
    const { f } = await follower();
    expect(locks.waiting.get(tabChannelName('s1'))).toHaveLength(1);
    await f.close();
    expect(f.get().status).toBe('closed');
    expect(locks.waiting.get(tabChannelName('s1'))).toHaveLength(0);
  });
});

describe('tabs: leader side', () => {
  it('broadcasts each applied batch chained from the previous offset, and its status', async () => {
    const mem = memoryAdapter<Ev>();
    const r = raw();
    const a = tab(mem);
    await waitFor(a, (s) => s.status === 'live' && s.tabs === 'leader', 2000);
    await until(() => r.got.some((m) => m.type === 'status' && m.status === 'live'));
    r.got.length = 0;
    await say(mem, ...deltas(1));
    await until(() => r.got.length >= 1);
    await say(mem, ...deltas(1, 1));
    await until(() => r.got.length >= 2);
    const froms = r.got.flatMap((m) => (m.type === 'batches' ? [m.from + '→' + m.batches.map((b) => b.offset).join()] : []));
    expect(froms).toEqual([`${'0'.repeat(16)}→${'0'.repeat(15)}1`, `${'0'.repeat(15)}1→${'0'.repeat(15)}2`]);
    await a.close();
    r.got.length = 0;
    await tick(10);
    expect(r.got).toEqual([]); // closing does not broadcast `closed` to the followers
    expect(locks.held.size).toBe(0);
  });

  it('followers show the leader status; a 410 at the leader resets every tab (recovered: false)', async () => {
    const reads: ((offset: string) => AsyncIterable<ReadBatch<Ev>>)[] = [
      async function* () {
        yield { events: deltas(2), offset: '2', upToDate: true };
        await tick(30);
        throw new DurableSessionError('network', 'cut');
      },
      async function* () {
        yield { events: deltas(1, 2), offset: '3', upToDate: true };
        await tick(30);
        throw new DurableSessionError('gone', 'gone', { status: 410 });
      },
      async function* (offset) {
        expect(offset).toBe('-1');
        yield { events: deltas(1, 7), offset: '8', upToDate: true };
        await new Promise(() => {});
      },
    ];
    const adapter: SessionAdapter<Ev> = {
      read: (_id, offset) => reads.shift()!(offset),
      append: async () => {},
    };
    const a = tab(adapter, { reconnect: { initialDelayMs: 50, maxDelayMs: 50 } });
    await waitFor(a, (s) => s.tabs === 'leader', 1000);
    const b = tab(adapter);
    const statuses: string[] = [];
    b.on('status', (x) => statuses.push(x));
    await waitFor(b, (s) => s.offset === '8', 2000);
    expect(statuses).toContain('reconnecting');
    expect(b.get()).toMatchObject({ tabs: 'follower', recovered: false, status: 'live' });
    expect(text(b)).toBe('w7 ');
    expect(text(a)).toBe('w7 ');
  });

  it('the snapshot status field tracks the mode through the session lifetime', async () => {
    const mem = memoryAdapter<Ev>();
    const a = tab(mem);
    const modes: SessionSnapshot['tabs'][] = [];
    a.subscribe((s) => modes.at(-1) !== s.tabs && modes.push(s.tabs));
    await waitFor(a, (s) => s.tabs === 'leader', 2000);
    expect(modes).toEqual(['follower', 'leader']);
  });
});
