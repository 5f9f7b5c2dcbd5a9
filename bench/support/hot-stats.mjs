// A latency histogram that merges across processes (for bench/hot.bench.mjs): 0.1 ms buckets up to
// 100 ms, 1 ms buckets up to 10 s, one bucket beyond; the exact max is kept beside it. A percentile
// is reported as its bucket's upper edge (so it is exact to 0.1 ms below 100 ms).
const FINE = 1000;
const COARSE = 9900;
const SIZE = FINE + COARSE + 1;

export function histogram() {
  return { counts: new Uint32Array(SIZE), count: 0, max: -Infinity };
}

export function record(h, ms) {
  const b = ms < 100 ? (ms <= 0 ? 0 : Math.floor(ms * 10)) : ms < 10_000 ? FINE + Math.floor(ms - 100) : SIZE - 1;
  h.counts[b]++;
  h.count++;
  if (ms > h.max) h.max = ms;
}

/** The non-empty buckets as [bucket, count] pairs, with count and max: small enough for IPC. */
export function pack(h) {
  const buckets = [];
  for (let b = 0; b < SIZE; b++) if (h.counts[b] !== 0) buckets.push([b, h.counts[b]]);
  return { buckets, count: h.count, max: h.max };
}

export function merge(packed) {
  const h = histogram();
  for (const p of packed) {
    for (const [b, n] of p.buckets) h.counts[b] += n;
    h.count += p.count;
    if (p.max > h.max) h.max = p.max;
  }
  return h;
}

const upperEdge = (b) => (b < FINE ? (b + 1) / 10 : b < SIZE - 1 ? 100 + (b - FINE + 1) : Infinity);

export function percentile(h, p) {
  if (h.count === 0) return NaN;
  const rank = Math.min(h.count, Math.max(1, Math.ceil((p / 100) * h.count)));
  let seen = 0;
  for (let b = 0; b < SIZE; b++) {
    seen += h.counts[b];
    if (seen >= rank) return Math.min(upperEdge(b), h.max);
  }
  return h.max;
}
