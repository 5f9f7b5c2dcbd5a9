import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { memoryAdapter } from './adapters/memory';
import { DurableSessionError } from './errors';
import type { SessionEvent } from './events';
import { createDurableSession } from './session';
import type { AppendOptions, ReadBatch, SessionAdapter } from './types';
type ErrorType = DurableSessionError;
import { waitFor } from './wait';

type Event = SessionEvent;
const prompt = (turnId: string): Event => ({ type: 'prompt', turnId, text: turnId, clientId: 'c' });
const solo = { persistence: 'memory' as const, tabs: false, clientId: 'me', reconnect: { initialDelayMs: 1, maxDelayMs: 5 } };
/** Append anything (as a hostile or broken writer would) to a memory adapter. */
const raw = (adapter: ReturnType<typeof memoryAdapter<Event>>, sessionId: string) => {
  let seq = 0;
  return (event: unknown) => adapter.append(sessionId, event as Event, { producerId: 'raw', epoch: 0, seq: seq++ });
};

describe('the fold never stalls', () => {
  it.each([
    ['null', null],
    ['a number', 1],
    ['an array', [prompt('x')]],
    ['an object without type', { turnId: 'x' }],
    ['a non-string type', { type: 7 }],
  ])('skips %s, reports it once, and moves past it (live and reopened clients alike)', async (_name, bad) => {
    const adapter = memoryAdapter<Event>();
    const sessionId = `s-${Math.random()}`; // its own IndexedDB record
    const append = raw(adapter, sessionId);
    await append(prompt('a'));
    await append(bad);
    await append(prompt('b'));
    // A fresh client, then one reopened from IndexedDB (resumed): each skips the bad events it reads.
    for (let reopen = 0; reopen < 2; reopen++) {
      const session = createDurableSession({ sessionId, adapter, ...solo, persistence: 'indexeddb' });
      const errors: ErrorType[] = [];
      session.on('error', (error) => errors.push(error));
      const live = await waitFor(session, (snapshot) => snapshot.status === 'live' && snapshot.offset === adapter.tail(sessionId), 2000);
      expect(live.resumed).toBe(reopen === 1);
      expect(live.turns.map((turn) => turn.turnId)).toEqual(['a', 'b', ...(reopen ? ['c0'] : [])]);
      await append(bad); // live too
      await append(prompt(`c${reopen}`)); // and it goes on folding
      await waitFor(session, (snapshot) => snapshot.turns.length === 3 + reopen, 2000);
      expect(errors.map((error) => error.code)).toEqual(reopen ? ['protocol'] : ['protocol', 'protocol']);
      await session.close();
    }
  });

  it('a reducer that throws does not stall either', async () => {
    const adapter = memoryAdapter<Event>();
    const write = raw(adapter, 's');
    for (const id of ['a', 'boom', 'b']) await write(prompt(id));
    const session = createDurableSession<never>({
      sessionId: 's',
      adapter,
      ...solo,
      reduce: (state, event) => {
        if (event.type === 'prompt' && event.turnId === 'boom') throw new Error('reducer bug');
        return { ...state, turns: [...state.turns, { turnId: (event as { turnId: string }).turnId } as never] };
      },
    });
    const errors: string[] = [];
    session.on('error', (error) => errors.push(error.code));
    const live = await waitFor(session, (snapshot) => snapshot.status === 'live', 2000);
    expect(live.turns.map((turn) => turn.turnId)).toEqual(['a', 'b']);
    expect(errors).toEqual(['protocol']);
    await session.close();
  });
});

describe('deleted sessions', () => {
  it('on `deleted` the session stops reading, shows the error and closes; writes reject without re-creating it', async () => {
    let reads = 0;
    const appends: AppendOptions[] = [];
    const adapter: SessionAdapter<Event> = {
      // oxlint-disable-next-line require-yield -- a read that fails at once
      async *read(): AsyncGenerator<ReadBatch<Event>> {
        reads++;
        throw new DurableSessionError('deleted', 'GET answered 404', { status: 404 });
      },
      async append(_sessionId, _event, options) {
        appends.push(options);
        throw new DurableSessionError('deleted', 'POST answered 404', { status: 404 });
      },
    };
    const session = createDurableSession({ sessionId: 's', adapter, ...solo });
    const closed = await waitFor(session, (snapshot) => snapshot.status === 'closed', 2000);
    expect(closed.error?.code).toBe('deleted');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reads).toBe(1); // never read again (a reconnect would re-create it)
    await expect(session.send('hello')).rejects.toMatchObject({ code: 'deleted' });
    expect(appends).toHaveLength(1); // not retried
    await session.close();
  });
});

describe('write options', () => {
  const stalledAppend = (): SessionAdapter<Event> & { calls: AppendOptions[] } => {
    const memory = memoryAdapter<Event>();
    const calls: AppendOptions[] = [];
    return {
      calls,
      read: memory.read,
      append(sessionId, event, options) {
        calls.push(options);
        if (calls.length > 1) return memory.append(sessionId, event, options);
        return new Promise((_resolve, reject) => options.signal?.addEventListener('abort', () => reject(options.signal!.reason)));
      },
    };
  };

  it('timeoutMs rejects a write that does not land in time with aborted; the next write starts a new epoch', async () => {
    const adapter = stalledAppend();
    const session = createDurableSession({ sessionId: 's', adapter, ...solo });
    const errors: string[] = [];
    session.on('error', (error) => errors.push(error.code));
    await expect(session.send('lost', { timeoutMs: 30 })).rejects.toMatchObject({ code: 'aborted' });
    await session.send('next');
    expect(adapter.calls.map(({ epoch, seq }) => [epoch, seq])).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(errors).toEqual([]); // the caller's own timeout is not a session error
    await session.close();
  });

  it('a signal aborts a queued or running write', async () => {
    const adapter = stalledAppend();
    const session = createDurableSession({ sessionId: 's', adapter, ...solo });
    const running = new AbortController();
    const queued = new AbortController();
    const first = session.send('running', { signal: running.signal });
    const second = session.cancel('t', { signal: queued.signal });
    await vi.waitFor(() => expect(adapter.calls).toHaveLength(1));
    queued.abort();
    running.abort();
    await expect(first).rejects.toMatchObject({ code: 'aborted' });
    await expect(second).rejects.toMatchObject({ code: 'aborted' });
    expect(adapter.calls).toHaveLength(1); // the queued one never went out
    await session.close();
  });
});

describe('property: cuts, reconnects, valid and invalid events', () => {
  it('never stalls, never loses or repeats an acknowledged event', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('valid' as const), text: fc.string({ maxLength: 5 }) }),
      fc.record({ kind: fc.constant('invalid' as const), value: fc.constantFrom<unknown>(null, 0, 'x', [], {}, { type: 1 }) }),
      fc.record({ kind: fc.constant('cut' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const memory = memoryAdapter<Event>();
        const readers = new Set<AbortController>();
        // A memory adapter whose live reads can be cut (the read fails with `network`).
        const adapter: SessionAdapter<Event> = {
          append: memory.append,
          async *read(sessionId, offset, options) {
            const cut = new AbortController();
            readers.add(cut);
            const both = AbortSignal.any([options.signal, cut.signal]);
            try {
              for await (const batch of memory.read(sessionId, offset, { ...options, signal: both })) yield batch;
              if (cut.signal.aborted && !options.signal.aborted) throw new DurableSessionError('network', 'cut');
            } finally {
              readers.delete(cut);
            }
          },
        };
        const write = raw(memory, 'p');
        const session = createDurableSession({ sessionId: 'p', adapter, ...solo });
        const applied: string[] = [];
        session.on('event', ({ event }) => applied.push(String(event.turnId)));
        const acknowledged: string[] = [];
        for (const [index, item] of steps.entries()) {
          if (item.kind === 'valid') {
            const turnId = `t${index}`;
            await write(prompt(turnId));
            acknowledged.push(turnId);
          } else if (item.kind === 'invalid') await write(item.value);
          else for (const reader of readers) reader.abort();
        }
        const final = await waitFor(session, (snapshot) => snapshot.offset === memory.tail('p') && snapshot.status === 'live', 3000);
        expect(applied).toEqual(acknowledged);
        expect(final.turns.map((turn) => turn.turnId)).toEqual(acknowledged);
        await session.close();
      }),
      { numRuns: 40 },
    );
  });
});
