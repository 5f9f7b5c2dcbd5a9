import { afterEach, describe, expect, it, vi } from 'vitest';
import { httpAdapter } from './adapters/http';
import { memoryAdapter, type MemoryAdapter } from './adapters/memory';
import { DurableSessionError } from './errors';
import type { AppEvent, SessionEvent } from './events';
import { reduceSession } from './reducer';
import { createDurableSession } from './session';
import type { AppendOptions, ConnectionStatus, DurableSession, ReadBatch, SessionAdapter, SessionSnapshot, SessionState } from './types';
import { waitFor } from './wait';

type Ev = SessionEvent | AppEvent;
const agent = { producerId: 'agent', epoch: 0, seq: 0 };
/** Append as the agent, with its own gapless sequence. */
const say = (a: MemoryAdapter<Ev>, id: string, ...events: Ev[]): Promise<void> =>
  events.reduce((p, e) => p.then(() => a.append(id, e, { ...agent, seq: agent.seq++ })), Promise.resolve());
const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));
const open: DurableSession<AppEvent>[] = [];
function session(adapter: SessionAdapter<Ev>, extra: Partial<Parameters<typeof createDurableSession>[0]> = {}) {
  const s = createDurableSession<AppEvent>({ sessionId: 's1', adapter, persistence: 'memory', clientId: 'me', ...extra });
  open.push(s);
  return s;
}
const live = (s: DurableSession<AppEvent>) => waitFor(s, (x) => x.status === 'live', 2000);

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  agent.seq = 0;
});

/** An adapter whose reads are scripted batch by batch (for exactly-once and reconnect tests). */
function scripted(reads: ((offset: string) => AsyncIterable<ReadBatch<Ev>>)[]): SessionAdapter<Ev> & { offsets: string[] } {
  const offsets: string[] = [];
  return {
    offsets,
    read(_id, offset, { signal }) {
      offsets.push(offset);
      const next = reads.shift();
      if (next) return next(offset);
      // oxlint-disable-next-line require-yield -- a read that never yields, until aborted
      return (async function* () {
        await new Promise((r) => signal.addEventListener('abort', r));
      })();
    },
    append: async () => {},
  };
}
const batches = (...list: ReadBatch<Ev>[]) =>
  async function* () {
    for (const b of list) yield b;
    await new Promise(() => {});
  };
const failing = (code: 'network' | 'gone' | 'unauthorized') =>
  // eslint-disable-next-line require-yield
  async function* (): AsyncGenerator<ReadBatch<Ev>> {
    throw new DurableSessionError(code, code);
  };

/** Collect what callbacks throw: the session reports it through `queueMicrotask`, as an uncaught error. */
function uncaught(): unknown[] {
  const caught: unknown[] = [];
  const real = globalThis.queueMicrotask;
  vi.stubGlobal('queueMicrotask', (fn: () => void) =>
    real(() => {
      try {
        fn();
      } catch (e) {
        caught.push(e);
      }
    }),
  );
  return caught;
}

describe('createDurableSession: store contract', () => {
  it('subscribe calls back at once and on every change; get() keeps identity until a change', async () => {
    const a = memoryAdapter<Ev>();
    const s = session(a);
    const seen: SessionSnapshot[] = [];
    const stop = s.subscribe((x) => seen.push(x));
    expect(seen).toEqual([s.get()]);
    expect(s.get()).toBe(s.get());
    expect(s.get()).toMatchObject({ sessionId: 's1', status: 'connecting', offset: '-1', turns: [], recovered: true, resumed: false, persistence: 'memory', tabs: 'solo' });
    await live(s);
    const before = s.get();
    await tick(5);
    expect(s.get()).toBe(before); // nothing changed, same object
    stop();
    const count = seen.length;
    await say(a, 's1', { type: 'prompt', turnId: 't', text: 'x', clientId: 'c' });
    await tick(5);
    expect(seen.length).toBe(count);
    expect(s.get()).not.toBe(before);
  });

  it('on() reports events, status changes; unbind stops them', async () => {
    const a = memoryAdapter<Ev>();
    const s = session(a);
    const statuses: ConnectionStatus[] = [];
    const applied: string[] = [];
    s.on('status', (x) => statuses.push(x));
    const off = s.on('event', ({ event, offset }) => applied.push(`${event.type}@${offset}`));
    await live(s);
    await say(a, 's1', { type: 'prompt', turnId: 't', text: 'x', clientId: 'c' });
    await waitFor(s, (x) => x.turns.length === 1, 1000);
    expect(applied).toEqual([`prompt@${a.tail('s1')}`]);
    off();
    await say(a, 's1', { type: 'turn.start', turnId: 't', agentId: 'a' });
    await tick(5);
    expect(applied).toHaveLength(1);
    await s.close();
    expect(statuses).toEqual(['live', 'closed']);
  });
});

describe('createDurableSession: throwing callbacks', () => {
  it('a throwing subscriber or listener is reported as uncaught and harms nothing: the batch applies, the others run, reading goes on', async () => {
    const caught = uncaught();
    const a = memoryAdapter<Ev>();
    const s = session(a);
    const errors: string[] = [];
    s.on('error', (e) => errors.push(e.code));
    await live(s);
    s.subscribe((x) => {
      if (x.turns.length) throw new Error('render bug');
    });
    s.on('event', () => {
      throw new Error('listener bug');
    });
    const seen: string[] = [];
    s.on('event', ({ event }) => seen.push(event.type));
    let last: SessionSnapshot | undefined;
    s.subscribe((x) => (last = x));
    await say(a, 's1', { type: 'prompt', turnId: 't', text: 'x', clientId: 'c' }, { type: 'delta', turnId: 't', agentId: 'a', text: 'hi' });
    await waitFor(s, (x) => x.turns[0]?.text === 'hi', 1000);
    await tick(5);
    expect(seen).toEqual(['prompt', 'delta']);
    expect(last).toBe(s.get());
    expect(s.get()).toMatchObject({ status: 'live', offset: a.tail('s1'), error: undefined });
    expect(errors).toEqual([]); // app bugs are not connection errors
    expect(caught.map((e) => (e as Error).message)).toContain('render bug');
    expect(caught.map((e) => (e as Error).message)).toContain('listener bug');
    // still reading
    await say(a, 's1', { type: 'delta', turnId: 't', agentId: 'a', text: '!' });
    await waitFor(s, (x) => x.turns[0]?.text === 'hi!', 1000);
  });

  it('callbacks throwing while a read failure is reported do not kill the reconnect loop', async () => {
    const caught = uncaught();
    const adapter = scripted([failing('network'), failing('network'), batches({ events: [], offset: '0001', upToDate: true })]);
    const s = session(adapter, { reconnect: { initialDelayMs: 1, maxDelayMs: 2 } });
    s.subscribe((x) => {
      if (x.status === 'reconnecting') throw new Error('render bug');
    });
    s.on('status', () => {
      throw new Error('status listener bug');
    });
    s.on('error', () => {
      throw new Error('error listener bug');
    });
    await live(s);
    expect(adapter.offsets).toHaveLength(3);
    await tick(1);
    expect(caught.map((e) => (e as Error).message)).toEqual(expect.arrayContaining(['render bug', 'status listener bug', 'error listener bug']));
  });
});

describe('createDurableSession: methods', () => {
  it('send() writes a prompt and resolves with its turn id; the turn folds from the log', async () => {
    const a = memoryAdapter<Ev>();
    const s = session(a);
    const turnId = await s.send('Hello');
    expect(a.events('s1')).toEqual([{ type: 'prompt', turnId, text: 'Hello', clientId: 'me' }]);
    await say(a, 's1', { type: 'turn.start', turnId, agentId: 'bot' }, { type: 'delta', turnId, agentId: 'bot', text: 'Hi!' });
    const snap = await waitFor(s, (x) => x.turns[0]?.text === 'Hi!', 1000);
    expect(snap.turns[0]).toMatchObject({ turnId, prompt: 'Hello', clientId: 'me', status: 'streaming' });
    expect(snap.activeTurnId).toBe(turnId);
    expect(await s.send('again', { turnId: 'mine' })).toBe('mine');
  });

  it('cancel() targets the active turn by default, or a given turn, or "*"; steer() the active turn', async () => {
    const a = memoryAdapter<Ev>();
    const s = session(a);
    const t = await s.send('q');
    await waitFor(s, (x) => x.activeTurnId === t, 1000);
    const steerId = await s.steer('shorter');
    await s.cancel();
    await s.cancel('*');
    await s.cancel('other');
    expect(a.events('s1').slice(1)).toEqual([
      { type: 'steer', turnId: t, text: 'shorter', clientId: 'me', steerId },
      { type: 'cancel', turnId: t, clientId: 'me' },
      { type: 'cancel', turnId: '*', clientId: 'me' },
      { type: 'cancel', turnId: 'other', clientId: 'me' },
    ]);
    const snap = await waitFor(s, (x) => x.turns[0]?.status === 'cancelled', 1000);
    expect(snap.turns[0]!.steers).toEqual(['shorter']);
    expect(snap.turns[0]!.steerStates).toMatchObject([{ steerId, state: 'rejected', reason: 'turn-ended' }]);
    expect(snap.activeTurnId).toBeUndefined();
  });

  it('rejects bad input with bad-input, and everything after close with closed', async () => {
    const s = session(memoryAdapter<Ev>());
    const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: DurableSessionError) => (e instanceof DurableSessionError ? e.code : 'other'));
    expect(await code(s.send(''))).toBe('bad-input');
    expect(await code(s.send('   '))).toBe('bad-input');
    expect(await code(s.send(42 as unknown as string))).toBe('bad-input');
    expect(await code(s.cancel())).toBe('bad-input');
    expect(await code(s.steer('go'))).toBe('bad-input');
    expect(await code(s.steer('', 't'))).toBe('bad-input');
    expect(await code(s.emit({} as AppEvent))).toBe('bad-input');
    await s.close();
    await s.close(); // idempotent
    for (const p of [s.send('x'), s.cancel('t'), s.cancel('*'), s.steer('x', 't'), s.emit({ type: 'x' })]) expect(await code(p)).toBe('closed');
    expect(s.get().status).toBe('closed');
  });

  it('emit() appends application events, folded by a custom reducer over custom state', async () => {
    interface Tool extends AppEvent {
      type: 'tool';
      name: string;
    }
    interface MyState extends SessionState {
      tools: string[];
    }
    const a = memoryAdapter<SessionEvent | Tool>();
    const s = createDurableSession<Tool, MyState>({
      sessionId: 's1',
      adapter: a,
      persistence: 'memory',
      initialState: { turns: [], activeTurnId: undefined, tools: [] },
      reduce: (st, e) => (e.type === 'tool' ? { ...st, tools: [...st.tools, e.name] } : reduceSession(st, e)),
    });
    await s.emit({ type: 'tool', name: 'search' });
    await s.send('hi');
    const snap = await waitFor(s, (x) => x.turns.length === 1 && x.state.tools.length === 1, 1000);
    expect(snap.state.tools).toEqual(['search']);
    await s.close();
  });

  it('appends go out in call order, with a gapless producer sequence', async () => {
    const a = memoryAdapter<Ev>();
    const calls: AppendOptions[] = [];
    const spy: SessionAdapter<Ev> = { read: a.read, append: (id, e, o) => (calls.push(o), a.append(id, e, o)) };
    const s = session(spy);
    await Promise.all(['1', '2', '3', '4', '5'].map((t) => s.send(t, { turnId: t })));
    expect(a.events('s1').map((e) => e.turnId)).toEqual(['1', '2', '3', '4', '5']);
    expect(calls.map((c) => c.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(calls.map((c) => `${c.producerId}/${c.epoch}`)).size).toBe(1);
    // Another session object (a reload) uses another producer id.
    const other = session(spy);
    await other.send('x');
    expect(calls.at(-1)!.producerId).not.toBe(calls[0]!.producerId);
    expect(calls.at(-1)!.seq).toBe(0);
  });

  it('a retried append lands once even when the first attempt landed but its answer was lost', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.01);
    const a = memoryAdapter<Ev>();
    let failures = 2;
    const flaky: SessionAdapter<Ev> = {
      read: a.read,
      async append(id, e, o) {
        await a.append(id, e, o); // lands...
        if (failures-- > 0) throw new DurableSessionError('network', 'connection reset'); // ...but the answer is lost
      },
    };
    const s = session(flaky);
    const warnings: string[] = [];
    s.on('warning', (e) => warnings.push(e.code));
    await s.send('once', { turnId: 't' });
    await s.send('next', { turnId: 'u' });
    expect(a.events('s1').map((e) => e.turnId)).toEqual(['t', 'u']);
    expect(warnings).toEqual(['network', 'network']);
  });

  it('a non-retryable append failure rejects, reports an error, and the next append starts a new epoch', async () => {
    const a = memoryAdapter<Ev>();
    const calls: AppendOptions[] = [];
    let fail = true;
    const s = session({
      read: a.read,
      async append(id, e, o) {
        calls.push(o);
        if (fail) {
          fail = false;
          throw new DurableSessionError('unauthorized', 'no', { status: 401 });
        }
        return a.append(id, e, o);
      },
    });
    const errors: string[] = [];
    s.on('error', (e) => errors.push(e.code));
    await expect(s.send('a')).rejects.toMatchObject({ code: 'unauthorized' });
    await s.send('b');
    expect(errors).toEqual(['unauthorized']);
    expect(calls.map((c) => [c.epoch, c.seq])).toEqual([
      [0, 0],
      [1, 0],
    ]);
  });

  it('a conflict past seq 0 (a restarted server forgot the producer: a sequence gap) is retried once, in a new epoch from seq 0', async () => {
    let store = memoryAdapter<Ev>();
    const calls: [number, number][] = [];
    const s = session({ read: scripted([]).read, append: (id, e, o) => (calls.push([o.epoch, o.seq]), store.append(id, e, o)) });
    const warnings: string[] = [];
    const errors: string[] = [];
    s.on('warning', (e) => warnings.push(e.code));
    s.on('error', (e) => errors.push(e.code));
    await s.send('before', { turnId: 'a' });
    store = memoryAdapter<Ev>(); // the server restarted with an empty store
    await s.send('after', { turnId: 'b' });
    await s.send('next', { turnId: 'c' });
    expect(calls).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    expect(store.events('s1').map((e) => e.turnId)).toEqual(['b', 'c']);
    expect(warnings).toEqual(['conflict']);
    expect(errors).toEqual([]);
  });

  it('a conflict at seq 0, or again after that retry, rejects', async () => {
    const calls: [number, number][] = [];
    let fail = false;
    const s = session({
      read: scripted([]).read,
      async append(_id, _e, o) {
        calls.push([o.epoch, o.seq]);
        if (fail) throw new DurableSessionError('conflict', 'stream closed', { status: 409 });
      },
    });
    await s.send('ok');
    fail = true;
    await expect(s.send('x')).rejects.toMatchObject({ code: 'conflict' });
    await expect(s.send('y')).rejects.toMatchObject({ code: 'conflict' });
    expect(calls).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [2, 0],
    ]);
  });

  it('close() rejects a pending append with closed and stops reading', async () => {
    const a = memoryAdapter<Ev>();
    const s = session({ read: a.read, append: (_i, _e, o) => new Promise((_, reject) => o.signal?.addEventListener('abort', () => reject(new Error('aborted')))) });
    await live(s);
    const pending = s.send('never acknowledged');
    await tick(1);
    await s.close();
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    const snap = s.get();
    await say(a, 's1', { type: 'prompt', turnId: 'late', text: 'x', clientId: 'c' });
    await tick(5);
    expect(s.get()).toBe(snap);
  });
});

describe('createDurableSession: exactly once, in order', () => {
  it('drops batches at or before the last applied offset, one snapshot change per batch', async () => {
    const p = (turnId: string): Ev => ({ type: 'prompt', turnId, text: turnId, clientId: 'c' });
    const adapter = scripted([
      batches(
        { events: [p('a'), p('b')], offset: '0002', upToDate: false },
        { events: [p('a'), p('b')], offset: '0002', upToDate: false }, // duplicate
        { events: [p('a')], offset: '0001', upToDate: false }, // older
        { events: [p('c')], offset: '0003', upToDate: true },
      ),
    ]);
    const s = session(adapter);
    const changes: SessionSnapshot[] = [];
    s.subscribe((x) => changes.push(x));
    const warnings: string[] = [];
    s.on('warning', (e) => warnings.push(e.message));
    await waitFor(s, (x) => x.offset === '0003', 1000);
    expect(s.get().turns.map((t) => t.turnId)).toEqual(['a', 'b', 'c']);
    expect(changes.map((c) => c.offset)).toEqual(['-1', '0002', '0003']);
    expect(warnings).toHaveLength(2);
  });

  it('resumes reading from the last applied offset after a drop, never re-applying', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const p = (turnId: string): Ev => ({ type: 'prompt', turnId, text: turnId, clientId: 'c' });
    const adapter = scripted([
      async function* () {
        yield { events: [p('a')], offset: '0001', upToDate: true };
        throw new DurableSessionError('network', 'cut');
      },
      batches({ events: [p('b')], offset: '0002', upToDate: true }),
    ]);
    const s = session(adapter);
    await waitFor(s, (x) => x.offset === '0002', 1000);
    expect(adapter.offsets).toEqual(['-1', '0001']);
    expect(s.get().turns.map((t) => t.turnId)).toEqual(['a', 'b']);
  });

  it('a reducer that throws is reported and its event skipped; the rest applies', async () => {
    const a = memoryAdapter<Ev>();
    const s = createDurableSession<AppEvent>({
      sessionId: 's1',
      adapter: a,
      persistence: 'memory',
      reduce: (st, e) => {
        if (e.type === 'boom') throw new Error('bad reducer');
        return reduceSession(st, e);
      },
    });
    open.push(s);
    const errors: string[] = [];
    s.on('error', (e) => errors.push(e.code));
    await say(a, 's1', { type: 'boom' }, { type: 'prompt', turnId: 't', text: 'x', clientId: 'c' });
    await waitFor(s, (x) => x.turns.length === 1, 1000);
    expect(errors).toEqual(['protocol']);
  });
});

describe('createDurableSession: reconnect', () => {
  it('backs off with full jitter, reports errors, resets after a healthy batch', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const adapter = scripted([
      failing('network'),
      failing('network'),
      batches({ events: [], offset: '0001', upToDate: true }),
    ]);
    const s = session(adapter, { reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    const statuses: ConnectionStatus[] = [];
    const errors: string[] = [];
    s.on('status', (x) => statuses.push(x));
    s.on('error', (e) => errors.push(e.code));
    await vi.advanceTimersByTimeAsync(0);
    expect(adapter.offsets).toHaveLength(1);
    expect(s.get()).toMatchObject({ status: 'reconnecting', error: { code: 'network' } });
    await vi.advanceTimersByTimeAsync(49); // first delay: 0.5 * 100
    expect(adapter.offsets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(adapter.offsets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(99); // second delay: 0.5 * 200
    expect(adapter.offsets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(adapter.offsets).toHaveLength(3);
    expect(s.get()).toMatchObject({ status: 'live', error: undefined });
    expect(statuses).toEqual(['reconnecting', 'live']);
    expect(errors).toEqual(['network', 'network']);
  });

  it('keeps backing off while every catch-up works but every live read fails; only a live batch resets it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const upToDate: ReadBatch<Ev> = { events: [], offset: '0001', upToDate: true };
    const caughtUpThenFail = async function* (): AsyncGenerator<ReadBatch<Ev>> {
      yield upToDate;
      throw new DurableSessionError('http', 'bad gateway', { status: 502 });
    };
    const liveThenFail = async function* (): AsyncGenerator<ReadBatch<Ev>> {
      yield upToDate;
      yield upToDate; // a batch of the live read: healthy
      throw new DurableSessionError('network', 'cut');
    };
    const adapter = scripted([caughtUpThenFail, caughtUpThenFail, caughtUpThenFail, liveThenFail, caughtUpThenFail]);
    session(adapter, { reconnect: { initialDelayMs: 100, maxDelayMs: 10_000 } });
    const reads = async (ms: number): Promise<number> => {
      await vi.advanceTimersByTimeAsync(ms);
      return adapter.offsets.length;
    };
    expect(await reads(0)).toBe(1);
    expect(await reads(49)).toBe(1);
    expect(await reads(1)).toBe(2); // 0.5 * 100
    expect(await reads(99)).toBe(2);
    expect(await reads(1)).toBe(3); // 0.5 * 200: the catch-up batch did not reset it
    expect(await reads(199)).toBe(3);
    expect(await reads(1)).toBe(4); // 0.5 * 400
    expect(await reads(49)).toBe(4);
    expect(await reads(1)).toBe(5); // 0.5 * 100: the live batch reset it
  });

  it('retries at once on the online event, waits while offline, and resumes after', async () => {
    const target = new EventTarget();
    vi.stubGlobal('addEventListener', target.addEventListener.bind(target));
    vi.stubGlobal('removeEventListener', target.removeEventListener.bind(target));
    const nav = { onLine: false };
    vi.stubGlobal('navigator', nav);
    const a = memoryAdapter<Ev>();
    const reads: string[] = [];
    const s = session({ read: (id, o, opts) => (reads.push(o), a.read(id, o, opts)), append: a.append });
    await tick(5);
    expect(s.get().status).toBe('offline');
    expect(reads).toEqual([]);
    nav.onLine = true;
    target.dispatchEvent(new Event('online'));
    await live(s);
    await say(a, 's1', { type: 'prompt', turnId: 't1', text: 'x', clientId: 'c' });
    await waitFor(s, (x) => x.turns.length === 1, 1000);
    // Going offline drops the connection; events written meanwhile arrive after `online`.
    nav.onLine = false;
    target.dispatchEvent(new Event('offline'));
    await waitFor(s, (x) => x.status === 'offline', 1000);
    await say(a, 's1', { type: 'prompt', turnId: 't2', text: 'y', clientId: 'c' });
    nav.onLine = true;
    target.dispatchEvent(new Event('online'));
    const snap = await waitFor(s, (x) => x.turns.length === 2 && x.status === 'live', 1000);
    expect(snap.turns.map((t) => t.turnId)).toEqual(['t1', 't2']);
    expect(reads).toEqual(['-1', reads[1]]);
    expect(reads[1]).not.toBe('-1');
  });

  it('the online event cuts a long backoff short', async () => {
    const target = new EventTarget();
    vi.stubGlobal('addEventListener', target.addEventListener.bind(target));
    vi.stubGlobal('removeEventListener', target.removeEventListener.bind(target));
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const adapter = scripted([failing('network'), batches({ events: [], offset: '0001', upToDate: true })]);
    const s = session(adapter, { reconnect: { initialDelayMs: 60_000 } });
    await waitFor(s, (x) => x.status === 'reconnecting', 1000);
    target.dispatchEvent(new Event('online'));
    await live(s);
    expect(adapter.offsets).toHaveLength(2);
  });

  it('a 410 rebuilds from the start with recovered: false', async () => {
    const a = memoryAdapter<Ev>();
    let cut: (() => void) | undefined;
    const adapter: SessionAdapter<Ev> = {
      append: a.append,
      read(id, offset, { live: l, signal }) {
        const ctrl = new AbortController();
        signal.addEventListener('abort', () => ctrl.abort());
        cut = () => ctrl.abort();
        const inner = a.read(id, offset, { live: l, signal: ctrl.signal });
        return (async function* () {
          yield* inner;
          if (!signal.aborted) throw new DurableSessionError('network', 'cut');
        })();
      },
    };
    const s = session(adapter, { reconnect: { initialDelayMs: 1 } });
    const warnings: string[] = [];
    s.on('warning', (e) => warnings.push(e.code));
    await say(a, 's1', { type: 'prompt', turnId: 't1', text: 'x', clientId: 'c' });
    await waitFor(s, (x) => x.turns.length === 1, 1000);
    cut!();
    await say(a, 's1', { type: 'prompt', turnId: 't2', text: 'y', clientId: 'c' }, { type: 'prompt', turnId: 't3', text: 'z', clientId: 'c' });
    a.truncate('s1', 2); // the store dropped t1 and t2 while we were away
    const snap = await waitFor(s, (x) => x.turns.length > 0 && !x.recovered && x.status === 'live', 1000);
    expect(snap.turns.map((t) => t.turnId)).toEqual(['t3']);
    expect(warnings).toContain('gone');
  });

  it('a gone read rebuilds from the start at once, but backs off when the rebuilt read fails with gone again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const p = (turnId: string): Ev => ({ type: 'prompt', turnId, text: turnId, clientId: 'c' });
    // eslint-disable-next-line require-yield
    const gone = async function* (): AsyncGenerator<ReadBatch<Ev>> {
      throw new DurableSessionError('gone', 'stream lost', { status: 404 });
    };
    const adapter = scripted([
      async function* () {
        yield { events: [p('a')], offset: '0001', upToDate: true };
        throw new DurableSessionError('network', 'cut');
      },
      gone, // from 0001: the stream was lost (a server restart)
      async function* () {
        yield { events: [p('b')], offset: '0001', upToDate: true };
        throw new DurableSessionError('gone', 'stream lost again', { status: 400 });
      },
      batches({ events: [p('c')], offset: '0001', upToDate: true }),
    ]);
    const s = session(adapter, { reconnect: { initialDelayMs: 100 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(adapter.offsets).toEqual(['-1']);
    await vi.advanceTimersByTimeAsync(50);
    expect(adapter.offsets).toEqual(['-1', '0001', '-1']); // rebuilt at once
    await vi.advanceTimersByTimeAsync(99); // 0.5 * 200: no loop against a store that keeps losing it
    expect(adapter.offsets).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(adapter.offsets).toEqual(['-1', '0001', '-1', '-1']);
    expect(s.get()).toMatchObject({ recovered: false, status: 'live', turns: [{ turnId: 'c' }] });
  });

  it('over HTTP, a stream lost in a server restart is rebuilt from the start (re-creating it), and appends go on in a new epoch', async () => {
    // A tiny Durable Streams server (long-poll, idempotent producers) whose memory a restart wipes.
    let log: Ev[] | undefined;
    let producer: { epoch: number; seq: number } | undefined;
    const calls: string[] = [];
    const at = (n: number): string => String(n).padStart(4, '0');
    const fetch = (async (input: string, init: RequestInit = {}) => {
      const url = new URL(input);
      const method = init.method ?? 'GET';
      calls.push(`${method} ${url.searchParams.get('offset') ?? ''}`);
      if (method === 'PUT') return (log ??= []), new Response(null, { status: 201 });
      if (!log) return new Response(null, { status: 404 });
      if (method === 'POST') {
        const h = init.headers as Record<string, string>;
        const [epoch, seq] = [Number(h['Producer-Epoch']), Number(h['Producer-Seq'])];
        const expected = producer?.epoch === epoch ? producer.seq + 1 : 0;
        if (seq !== expected) return new Response(null, { status: 409, headers: { 'Producer-Expected-Seq': String(expected) } });
        producer = { epoch, seq };
        log.push(JSON.parse(String(init.body)) as Ev);
        return new Response(null, { status: 204 });
      }
      const offset = url.searchParams.get('offset')!;
      const from = offset === '-1' ? 0 : Number(offset);
      if (from > log.length) return new Response(null, { status: 400 }); // beyond the tail
      if (url.searchParams.has('live') && from === log.length) {
        await tick(5);
        return new Response(null, { status: 204, headers: { 'Stream-Next-Offset': at(from) } });
      }
      return new Response(JSON.stringify(log.slice(from)), { headers: { 'Stream-Next-Offset': at(log.length), 'Stream-Up-To-Date': 'true' } });
    }) as typeof globalThis.fetch;
    const s = session(httpAdapter<Ev>({ baseUrl: 'http://h', live: 'long-poll', fetch }), { reconnect: { initialDelayMs: 5 } });
    const errors: string[] = [];
    const warnings: string[] = [];
    s.on('error', (e) => errors.push(`${e.code} ${e.message}`));
    s.on('warning', (e) => warnings.push(e.code));
    await live(s);
    expect(calls.slice(0, 3)).toEqual(['GET -1', 'PUT ', 'GET -1']); // a read from the start creates the stream
    await s.send('before', { turnId: 'a' });
    await s.send('before 2', { turnId: 'b' });
    await waitFor(s, (x) => x.turns.length === 2, 1000);
    log = undefined; // restart
    producer = undefined;
    calls.length = 0;
    const snap = await waitFor(s, (x) => !x.recovered && x.status === 'live', 2000);
    expect(snap.turns).toEqual([]);
    // From 0002 the stream is missing: gone, not re-created there (its reads would fail as beyond the tail).
    expect(calls.slice(0, 4)).toEqual(['GET 0002', 'GET -1', 'PUT ', 'GET -1']);
    expect(calls.filter((c) => c.startsWith('PUT'))).toHaveLength(1);
    await s.send('after', { turnId: 'c' });
    await waitFor(s, (x) => x.turns.length === 1, 1000);
    expect(s.get().turns.map((t) => t.turnId)).toEqual(['c']);
    expect(warnings).toEqual(['gone', 'conflict']);
    expect(errors).toEqual([]);
  });

  it('a closed stream ends reading with status closed', async () => {
    const a = memoryAdapter<Ev>();
    const s = session(a);
    await live(s);
    a.closeStream('s1');
    await waitFor(s, (x) => x.status === 'closed', 1000);
  });
});
