/**
 * The entries of one memory-store stream, packed: a list of segments, each a byte arena
 * holding its entries' data back to back plus one typed array of per-entry metadata (where
 * each entry ends in the arena, whether it ends an append, when it was appended). No object
 * per entry: a stored entry costs its bytes plus 16 bytes of metadata (and, in the one segment
 * still being written, up to as much again of unused capacity).
 *
 * Positions are implicit: in JSON mode an entry is 1 position (entry `i` of a segment is at
 * `first + i`); in byte mode it is its byte length (at `first` plus where it starts in the arena).
 * Arena bytes are written once and never rewritten: growing or sealing a segment copies into
 * a new buffer, so a view returned by {@link EntryLog.read} never changes under its reader.
 */
import type { StoredEntry } from './store';

/** Most bytes in one segment's arena; a larger entry gets a segment of its own. */
export const SEGMENT_BYTES = 64 * 1024;
/** Most entries in one segment. */
export const SEGMENT_ENTRIES = 4096;

/** Segment bounds; tests shrink them to exercise segment boundaries with few entries. */
export interface SegmentLimits {
  bytes: number;
  entries: number;
}

const FIRST_ARENA_BYTES = 64;
const FIRST_META_ENTRIES = 4;

/** One chunk of a log: its arena and columns. Entries `[0, count)` are written, never rewritten. */
class Segment {
  /** Position of entry 0. */
  readonly first: number;
  arena: Uint8Array;
  /**
   * Two numbers per entry (one typed array: each costs ~200 bytes of its own, which tiny streams
   * feel): where its data ends in the arena (it starts where the previous one ends, or at 0),
   * stored as `-(end + 1)` when it is the last entry of its append (a data boundary, JSON mode
   * only: a byte chunk is its own boundary); and when it was appended, in ms (age retention).
   */
  meta: Float64Array;
  count = 0;
  used = 0;
  sealed = false;

  constructor(first: number, size: number, limits: SegmentLimits) {
    this.first = first;
    this.arena = new Uint8Array(Math.max(size, Math.min(FIRST_ARENA_BYTES, limits.bytes)));
    this.meta = new Float64Array(2 * Math.min(FIRST_META_ENTRIES, limits.entries));
  }

  /** Whether an entry of `size` bytes goes in this segment. */
  fits(size: number, limits: SegmentLimits): boolean {
    return !this.sealed && this.count < limits.entries && (this.count === 0 || this.used + size <= limits.bytes);
  }

  push(data: Uint8Array, at: number, endsAppend: boolean, limits: SegmentLimits): void {
    const need = this.used + data.byteLength;
    if (need > this.arena.byteLength) {
      const grown = new Uint8Array(Math.max(need, Math.min(limits.bytes, this.arena.byteLength * 2)));
      grown.set(this.arena.subarray(0, this.used));
      this.arena = grown;
    }
    if (2 * this.count === this.meta.length) this.#resizeMeta(Math.min(limits.entries, this.count * 2));
    this.arena.set(data, this.used);
    this.used = need;
    this.meta[2 * this.count] = endsAppend ? -(need + 1) : need;
    this.meta[2 * this.count + 1] = at;
    this.count++;
  }

  /** No more entries: give back the unused capacity (into new buffers; old views stay valid). */
  seal(): void {
    this.sealed = true;
    if (this.used < this.arena.byteLength) this.arena = this.arena.slice(0, this.used);
    if (2 * this.count < this.meta.length) this.#resizeMeta(this.count);
  }

  #resizeMeta(entries: number): void {
    const meta = new Float64Array(2 * entries);
    meta.set(this.meta.subarray(0, 2 * Math.min(this.count, entries)));
    this.meta = meta;
  }

  /** Where entry `i`'s data ends in the arena. */
  end(i: number): number {
    const m = this.meta[2 * i] as number;
    return m < 0 ? -m - 1 : m;
  }

  /** Where entry `i`'s data starts in the arena. */
  start(i: number): number {
    return i === 0 ? 0 : this.end(i - 1);
  }

  /** When entry `i` was appended. */
  at(i: number): number {
    return this.meta[2 * i + 1] as number;
  }

  /** Whether entry `i` is the last of its append. */
  endsAppend(i: number): boolean {
    return (this.meta[2 * i] as number) < 0;
  }
}

/** Where an entry is: segment index and index in that segment. */
interface Cursor {
  s: number;
  i: number;
}

/**
 * One stream's retained entries (see the module comment for the layout).
 * @example
 * const log = new EntryLog(true, 0);
 * log.append([new TextEncoder().encode('{"a":1}')], Date.now());
 * log.read(0, 100, Infinity, String).entries.length; // 1
 */
export class EntryLog {
  /** JSON mode (1 position per entry) or byte mode (1 position per byte). */
  readonly json: boolean;
  readonly #limits: SegmentLimits;
  #segments: Segment[] = [];
  /** Index in the first segment of the first retained entry (the ones before were dropped). */
  #head = 0;
  #count = 0;
  #dataBytes = 0;
  #tail: number;

  /** An empty log whose next entry lands at `position`. */
  constructor(json: boolean, position: number, limits: SegmentLimits = { bytes: SEGMENT_BYTES, entries: SEGMENT_ENTRIES }) {
    this.json = json;
    this.#tail = position;
    this.#limits = limits;
  }

  /** How many entries are retained. */
  get count(): number {
    return this.#count;
  }

  /** The retained entries' data bytes, all together. */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  /** Where the next entry lands. */
  get tailPos(): number {
    return this.#tail;
  }

  /** Position of the first retained entry (the tail when there is none). */
  get startPos(): number {
    const seg = this.#segments[0];
    return seg === undefined ? this.#tail : this.#pos(seg, this.#head);
  }

  /**
   * Append the entries of one append, stamped `at`; in JSON mode its last entry ends a data
   * boundary. In byte mode an empty entry takes no position and is not stored.
   */
  append(data: readonly Uint8Array[], at: number): void {
    data.forEach((d, k) => {
      if (this.json || d.byteLength > 0) this.#push(d, at, k === data.length - 1);
    });
  }

  #push(data: Uint8Array, at: number, endsAppend: boolean): void {
    let seg = this.#segments.at(-1);
    if (seg === undefined || !seg.fits(data.byteLength, this.#limits)) {
      seg?.seal();
      seg = new Segment(this.#tail, data.byteLength, this.#limits);
      this.#segments.push(seg);
    }
    seg.push(data, at, endsAppend, this.#limits);
    this.#tail += this.json ? 1 : data.byteLength;
    this.#count++;
    this.#dataBytes += data.byteLength;
  }

  /**
   * Entries from position `from` (>= {@link startPos}): at most `limit`, and no more once
   * `maxBytes` would be passed (the first always comes). An entry starting before `from`
   * (inside a byte chunk) comes from `from` on. Data are views into the arenas; `offsetOf`
   * formats positions. `next` is the position after the last entry returned.
   */
  read(from: number, limit: number, maxBytes: number, offsetOf: (position: number) => string): { entries: StoredEntry[]; next: number } {
    const entries: StoredEntry[] = [];
    let bytes = 0;
    let next = from;
    let nextOffset = offsetOf(from);
    let { s, i } = this.#find(from);
    for (; s < this.#segments.length; s++, i = 0) {
      const seg = this.#segments[s] as Segment;
      const { arena, first } = seg;
      let start = seg.start(i);
      for (; i < seg.count; i++) {
        const end = seg.end(i);
        if (entries.length >= limit || (entries.length > 0 && bytes + end - start > maxBytes)) return { entries, next };
        const pos = this.json ? first + i : first + start;
        const endPos = this.json ? pos + 1 : first + end;
        const skip = next - pos; // > 0 only when starting inside a byte chunk
        const data = arena.subarray(skip > 0 ? start + skip : start, end);
        const endOffset = offsetOf(endPos);
        entries.push({ offset: nextOffset, next: endOffset, data });
        bytes += data.byteLength;
        next = endPos;
        nextOffset = endOffset;
        start = end;
      }
    }
    return { entries, next };
  }

  /** The first retained index at or after `index` whose entry was appended at or after `oldest`. */
  firstNotOlder(index: number, oldest: number): number {
    let g = index;
    let { s, i } = this.#cursorAt(index);
    for (; s < this.#segments.length; s++, i = 0) {
      const seg = this.#segments[s] as Segment;
      for (; i < seg.count; i++, g++) if (seg.at(i) >= oldest) return g;
    }
    return g;
  }

  /** How many retained entries start before `position`. */
  countBefore(position: number): number {
    if (position <= this.startPos) return 0;
    if (position >= this.#tail) return this.#count;
    const { s, i } = this.#find(position);
    let index = i - (s === 0 ? this.#head : 0);
    for (let k = 0; k < s; k++) index += (this.#segments[k] as Segment).count - (k === 0 ? this.#head : 0);
    return index + (this.#pos(this.#segments[s] as Segment, i) < position ? 1 : 0);
  }

  /** Drop the oldest `n` retained entries. */
  drop(n: number): void {
    let left = Math.min(n, this.#count);
    while (left > 0) {
      const seg = this.#segments[0] as Segment;
      const take = Math.min(left, seg.count - this.#head);
      const end = this.#head + take;
      this.#dataBytes -= seg.start(end) - seg.start(this.#head);
      this.#count -= take;
      left -= take;
      if (end === seg.count) {
        this.#segments.shift();
        this.#head = 0;
      } else {
        this.#head = end;
      }
    }
  }

  /** Drop every entry (the tail stays). */
  clear(): void {
    this.drop(this.#count);
  }

  /**
   * The data boundary after the entry at `position`: the end of its append in JSON mode,
   * the end of the chunk in byte mode; `undefined` when no retained entry ends after `position`.
   */
  boundaryAfter(position: number): number | undefined {
    let { s, i } = this.#find(position);
    const found = this.#segments[s];
    if (found === undefined) return undefined;
    if (!this.json) return found.first + found.end(i);
    for (; s < this.#segments.length; s++, i = 0) {
      const seg = this.#segments[s] as Segment;
      for (; i < seg.count; i++) if (seg.endsAppend(i)) return seg.first + i + 1;
    }
    return this.#tail; // unreachable: the last entry of every append is flagged
  }

  /**
   * A copy of the retained entries before position `end` (a fork's inheritance): a byte chunk
   * straddling `end` is cut there, and `end` becomes a data boundary.
   */
  copyUpTo(end: number): EntryLog {
    const copy = new EntryLog(this.json, Math.min(this.startPos, end), this.#limits);
    for (let s = 0; s < this.#segments.length; s++) {
      const seg = this.#segments[s] as Segment;
      for (let i = s === 0 ? this.#head : 0; i < seg.count; i++) {
        const pos = this.#pos(seg, i);
        if (pos >= end) return copy;
        const start = seg.start(i);
        const size = this.json ? 1 : seg.end(i) - start;
        const cut = Math.min(size, end - pos);
        const data = seg.arena.subarray(start, this.json ? seg.end(i) : start + cut);
        copy.#push(data, seg.at(i), pos + cut === end || seg.endsAppend(i));
      }
    }
    return copy;
  }

  #pos(seg: Segment, i: number): number {
    return this.json ? seg.first + i : seg.first + seg.start(i);
  }

  /** The first retained entry ending after `position` (past the last segment when none). */
  #find(position: number): Cursor {
    const segments = this.#segments;
    let lo = 0;
    let hi = segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const seg = segments[mid] as Segment;
      if (seg.first + (this.json ? seg.count : seg.used) > position) hi = mid;
      else lo = mid + 1;
    }
    const seg = segments[lo];
    if (seg === undefined) return { s: lo, i: 0 };
    const floor = lo === 0 ? this.#head : 0;
    if (this.json) return { s: lo, i: Math.max(floor, position - seg.first) };
    let a = floor;
    let b = seg.count;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (seg.first + seg.end(mid) > position) b = mid;
      else a = mid + 1;
    }
    return { s: lo, i: a };
  }

  /** Where the retained entry number `index` is. */
  #cursorAt(index: number): Cursor {
    let i = index + this.#head;
    let s = 0;
    while (s < this.#segments.length && i >= (this.#segments[s] as Segment).count) i -= (this.#segments[s++] as Segment).count;
    return { s, i };
  }
}
