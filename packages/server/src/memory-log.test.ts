import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryLog, type SegmentLimits } from './memory-log';

/** The layout EntryLog replaced (one object per entry), as the reference it must agree with. */
interface ModelEntry {
  pos: number;
  size: number;
  data: Uint8Array;
  at: number;
  batchEnd: number;
}

class ModelLog {
  constructor(
    readonly json: boolean,
    public entries: ModelEntry[] = [],
    public tailPos = 0,
  ) {}

  get startPos(): number {
    return this.entries[0]?.pos ?? this.tailPos;
  }

  get dataBytes(): number {
    return this.entries.reduce((sum, e) => sum + e.data.byteLength, 0);
  }

  append(data: readonly Uint8Array[], at: number): void {
    const sizes = data.map((d) => (this.json ? 1 : d.byteLength));
    const batchEnd = this.tailPos + sizes.reduce((a, b) => a + b, 0);
    data.forEach((d, i) => {
      const size = sizes[i] ?? 0;
      if (size === 0) return;
      this.entries.push({ pos: this.tailPos, size, data: d.slice(), at, batchEnd });
      this.tailPos += size;
    });
  }

  #firstEndingAfter(position: number): number {
    const i = this.entries.findIndex((e) => e.pos + e.size > position);
    return i === -1 ? this.entries.length : i;
  }

  read(from: number, limit: number, maxBytes: number): { entries: { offset: string; next: string; data: number[] }[]; next: number } {
    const out: { offset: string; next: string; data: number[] }[] = [];
    let bytes = 0;
    let next = from;
    for (let i = this.#firstEndingAfter(from); i < this.entries.length; i++) {
      const e = this.entries[i] as ModelEntry;
      if (out.length >= limit || (out.length > 0 && bytes + e.data.byteLength > maxBytes)) break;
      const skip = next - e.pos;
      const data = skip > 0 ? e.data.subarray(skip) : e.data;
      out.push({ offset: String(next), next: String(e.pos + e.size), data: [...data] });
      bytes += data.byteLength;
      next = e.pos + e.size;
    }
    return { entries: out, next };
  }

  firstNotOlder(index: number, oldest: number): number {
    let i = index;
    while (i < this.entries.length && (this.entries[i] as ModelEntry).at < oldest) i++;
    return i;
  }

  countBefore(position: number): number {
    return this.entries.filter((e) => e.pos < position).length;
  }

  boundaryAfter(position: number): number | undefined {
    const e = this.entries[this.#firstEndingAfter(position)];
    if (e === undefined) return undefined;
    return this.json ? e.batchEnd : e.pos + e.size;
  }

  copyUpTo(end: number): ModelLog {
    const inherited: ModelEntry[] = [];
    for (const e of this.entries) {
      if (e.pos >= end) break;
      const cut = Math.min(e.size, end - e.pos);
      inherited.push(cut === e.size ? { ...e, batchEnd: Math.min(e.batchEnd, end) } : { ...e, size: cut, data: e.data.subarray(0, cut), batchEnd: end });
    }
    return new ModelLog(this.json, inherited, end);
  }
}

type Op =
  | { kind: 'append'; data: Uint8Array[]; at: number }
  | { kind: 'read'; from: number; limit: number; maxBytes: number }
  | { kind: 'drop'; n: number }
  | { kind: 'aged'; index: number; oldest: number }
  | { kind: 'before'; at: number }
  | { kind: 'boundary'; at: number }
  | { kind: 'fork'; at: number };

// uniform in [0, 1] (fc.double favours values near 0: most doubles are)
const fraction = fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), data: fc.array(fc.uint8Array({ maxLength: 13 }), { maxLength: 5 }), at: fc.nat(6) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      from: fraction,
      limit: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(Number.POSITIVE_INFINITY)),
      maxBytes: fc.oneof(fc.nat(40), fc.constant(Number.POSITIVE_INFINITY)),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), n: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('aged' as const), index: fraction, oldest: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('before' as const), at: fraction }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('boundary' as const), at: fraction }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fork' as const), at: fraction }) },
);

/** A position in [start, tail] picked by a fraction. */
const between = (model: ModelLog, f: number): number => model.startPos + Math.floor(f * (model.tailPos - model.startPos + 0.999));

function agree(log: EntryLog, model: ModelLog): void {
  expect([log.count, log.dataBytes, log.startPos, log.tailPos]).toEqual([model.entries.length, model.dataBytes, model.startPos, model.tailPos]);
}

/** Compare what every position answers, and a whole read. */
function everywhere(log: EntryLog, model: ModelLog): void {
  for (let at = model.startPos; at <= model.tailPos; at++) {
    expect([log.boundaryAfter(at), log.countBefore(at)]).toEqual([model.boundaryAfter(at), model.countBefore(at)]);
  }
  const all = log.read(log.startPos, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, String);
  expect(all.entries.map((e) => [e.offset, [...e.data]])).toEqual(model.read(model.startPos, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY).entries.map((e) => [e.offset, e.data]));
}

/** Run `ops` on a log and the model, comparing every answer; views returned earlier must never change. */
function check(json: boolean, limits: SegmentLimits, ops: Op[]): void {
  let log = new EntryLog(json, 0, limits);
  let model = new ModelLog(json);
  const views: { view: Uint8Array; bytes: number[] }[] = [];
  for (const o of ops) {
    if (o.kind === 'append') {
      log.append(o.data, o.at);
      model.append(o.data, o.at);
    } else if (o.kind === 'read') {
      const from = between(model, o.from);
      const got = log.read(from, o.limit, o.maxBytes, String);
      expect({ entries: got.entries.map((e) => ({ offset: e.offset, next: e.next, data: [...e.data] })), next: got.next }).toEqual(model.read(from, o.limit, o.maxBytes));
      for (const e of got.entries) views.push({ view: e.data, bytes: [...e.data] });
    } else if (o.kind === 'drop') {
      log.drop(o.n);
      model.entries.splice(0, o.n);
    } else if (o.kind === 'aged') {
      const index = Math.floor(o.index * model.entries.length);
      expect(log.firstNotOlder(index, o.oldest)).toBe(model.firstNotOlder(index, o.oldest));
    } else if (o.kind === 'before') {
      const at = between(model, o.at) + (o.at < 0.1 ? -1 : o.at > 0.9 ? 1 : 0);
      expect(log.countBefore(at)).toBe(model.countBefore(at));
    } else if (o.kind === 'boundary') {
      const at = between(model, o.at);
      expect(log.boundaryAfter(at)).toBe(model.boundaryAfter(at));
    } else {
      const at = between(model, o.at);
      log = log.copyUpTo(at);
      model = model.copyUpTo(at);
      everywhere(log, model);
    }
    agree(log, model);
  }
  everywhere(log, model);
  for (const { view, bytes } of views) expect([...view]).toEqual(bytes);
}

describe('EntryLog', () => {
  for (const json of [true, false]) {
    it(`agrees with one object per entry on every operation, across tiny segments (${json ? 'JSON' : 'byte'} mode)`, () => {
      const limits = fc.constantFrom<SegmentLimits>({ bytes: 1, entries: 1 }, { bytes: 8, entries: 3 }, { bytes: 16, entries: 64 }, { bytes: 64, entries: 2 }, { bytes: 600, entries: 100 });
      fc.assert(
        fc.property(limits, fc.array(op, { maxLength: 60 }), (l, ops) => check(json, l, ops)),
        { numRuns: 400 },
      );
    });
  }

  it('never changes bytes it returned, as segments grow, fill, seal and are dropped', () => {
    for (const json of [true, false]) {
      const log = new EntryLog(json, 0, { bytes: 4096, entries: 300 });
      const views: { view: Uint8Array; text: string }[] = [];
      for (let i = 0; i < 3000; i++) {
        const text = `entry ${i}`;
        log.append([new TextEncoder().encode(text)], i);
        const read = log.read(log.tailPos - (json ? 1 : text.length), 1, Number.POSITIVE_INFINITY, String).entries[0];
        if (read !== undefined) views.push({ view: read.data, text });
        if (i % 700 === 699) log.clear();
        else if (i % 50 === 49) log.drop(20);
      }
      expect(views.length).toBe(3000);
      for (const { view, text } of views) expect(new TextDecoder().decode(view)).toBe(text);
    }
  });

  it('puts an entry larger than a segment in a segment of its own, between full ones', () => {
    const log = new EntryLog(false, 0, { bytes: 4, entries: 100 });
    const big = Uint8Array.from({ length: 10 }, (_, i) => i + 10);
    log.append([Uint8Array.of(1, 2, 3), big, Uint8Array.of(4)], 0);
    log.append([Uint8Array.of(5, 6, 7, 8)], 0);
    expect(log.read(0, 100, Infinity, String).entries.map((e) => [e.offset, [...e.data]])).toEqual([
      ['0', [1, 2, 3]],
      ['3', [...big]],
      ['13', [4]],
      ['14', [5, 6, 7, 8]],
    ]);
    expect(log.read(7, 1, Infinity, String).entries.map((e) => [e.offset, e.next, [...e.data]])).toEqual([['7', '13', [...big.subarray(4)]]]);
    expect(log.boundaryAfter(5)).toBe(13);
  });

  it('frees whole segments as retention drops their entries, and keeps positions', () => {
    const log = new EntryLog(true, 0, { bytes: 1024, entries: 2 });
    for (let i = 0; i < 5; i++) log.append([Uint8Array.of(i)], i);
    log.drop(3);
    expect([log.count, log.startPos, log.tailPos, log.dataBytes]).toEqual([2, 3, 5, 2]);
    expect(log.read(3, 10, Infinity, String).entries.map((e) => [e.offset, e.data[0]])).toEqual([
      ['3', 3],
      ['4', 4],
    ]);
    log.clear();
    log.append([Uint8Array.of(9)], 9);
    expect(log.read(5, 10, Infinity, String).entries.map((e) => [e.offset, e.data[0]])).toEqual([['5', 9]]);
  });
});
