import { describe, expect, it } from 'vitest';
import type { ReadBatch } from '../types';
import { memoryAdapter } from './memory';

type Ev = { type: string; n?: number };
const producer = (seq: number, epoch = 0, producerId = 'p') => ({ producerId, epoch, seq });

async function take<E>(iter: AsyncIterable<ReadBatch<E>>, count: number): Promise<ReadBatch<E>[]> {
  const out: ReadBatch<E>[] = [];
  for await (const b of iter) {
    out.push(b);
    if (out.length === count) break;
  }
  return out;
}

describe('memoryAdapter', () => {
  it('appends in order and reads from any offset, with sortable offsets', async () => {
    const a = memoryAdapter<Ev>();
    for (let n = 0; n < 3; n++) await a.append('s', { type: 'x', n }, producer(n));
    const signal = new AbortController().signal;
    const [all] = await take(a.read('s', '-1', { live: false, signal }), 1);
    expect(all!.events.map((e) => e.n)).toEqual([0, 1, 2]);
    expect(all!.upToDate).toBe(true);
    expect(all!.offset).toBe(a.tail('s'));
    await a.append('s', { type: 'x', n: 3 }, producer(3));
    const [rest] = await take(a.read('s', all!.offset, { live: false, signal }), 1);
    expect(rest!.events.map((e) => e.n)).toEqual([3]);
    expect(rest!.offset > all!.offset).toBe(true);
  });

  it('live reads wake on append and end when the signal aborts', async () => {
    const a = memoryAdapter<Ev>();
    const ctrl = new AbortController();
    const seen: ReadBatch<Ev>[] = [];
    const done = (async () => {
      for await (const b of a.read('s', '-1', { live: true, signal: ctrl.signal })) seen.push(b);
    })();
    await new Promise((r) => setTimeout(r, 5));
    await a.append('s', { type: 'x', n: 1 }, producer(0));
    await new Promise((r) => setTimeout(r, 5));
    expect(seen.map((b) => b.events.length)).toEqual([0, 1]);
    ctrl.abort();
    await done;
  });

  it('deduplicates retried appends per producer and epoch', async () => {
    const a = memoryAdapter<Ev>();
    await a.append('s', { type: 'x', n: 0 }, producer(0));
    await a.append('s', { type: 'x', n: 0 }, producer(0)); // retry
    await a.append('s', { type: 'x', n: 1 }, producer(1));
    await a.append('s', { type: 'y' }, producer(0, 0, 'other'));
    expect(a.events('s').map((e) => e.type + (e.n ?? ''))).toEqual(['x0', 'x1', 'y']);
  });

  it('rejects sequence gaps (conflict), stale epochs (unauthorized), a new epoch not at 0 (http 400)', async () => {
    const a = memoryAdapter<Ev>();
    await expect(a.append('s', { type: 'x' }, producer(1))).rejects.toMatchObject({ code: 'conflict', status: 409 });
    await a.append('s', { type: 'x' }, producer(0, 2));
    await expect(a.append('s', { type: 'x' }, producer(0, 1))).rejects.toMatchObject({ code: 'unauthorized', status: 403 });
    await expect(a.append('s', { type: 'x' }, producer(1, 3))).rejects.toMatchObject({ code: 'http', status: 400 });
    await a.append('s', { type: 'x' }, producer(0, 3));
    expect(a.events('s')).toHaveLength(2);
  });

  it('truncate makes older offsets gone; closeStream ends readers and refuses appends', async () => {
    const a = memoryAdapter<Ev>();
    await a.append('s', { type: 'x', n: 0 }, producer(0));
    const early = a.tail('s');
    for (let n = 1; n < 4; n++) await a.append('s', { type: 'x', n }, producer(n));
    const signal = new AbortController().signal;
    const [first] = await take(a.read('s', '-1', { live: false, signal }), 1);
    a.truncate('s', 2);
    await expect(take(a.read('s', early, { live: false, signal }), 1)).rejects.toMatchObject({ code: 'gone' });
    expect((await take(a.read('s', '-1', { live: false, signal }), 1))[0]!.events.map((e) => e.n)).toEqual([2, 3]);
    expect((await take(a.read('s', first!.offset, { live: false, signal }), 1))[0]!.events).toEqual([]);
    const live = take(a.read('s', first!.offset, { live: true, signal }), 5);
    a.closeStream('s');
    const batches = await live;
    expect(batches.at(-1)).toMatchObject({ closed: true });
    await expect(a.append('s', { type: 'x' }, producer(4))).rejects.toMatchObject({ code: 'conflict' });
  });

  it('an offset beyond the tail (from another log, e.g. a saved one) is gone; a malformed one is http 400', async () => {
    const a = memoryAdapter<Ev>();
    await a.append('s', { type: 'x' }, producer(0));
    const signal = new AbortController().signal;
    await expect(take(a.read('s', '0000000000000002', { live: false, signal }), 1)).rejects.toMatchObject({ code: 'gone', status: 400 });
    await expect(take(a.read('s', 'nope', { live: false, signal }), 1)).rejects.toMatchObject({ code: 'http', status: 400 });
    expect(await take(a.read('s', a.tail('s'), { live: false, signal }), 1)).toHaveLength(1);
  });

  it('copies events (no aliasing with the caller)', async () => {
    const a = memoryAdapter<Ev>();
    const e = { type: 'x', n: 1 };
    await a.append('s', e, producer(0));
    e.n = 2;
    expect(a.events('s')[0]!.n).toBe(1);
  });
});
