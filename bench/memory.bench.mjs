// Memory of the embedded store: heap bytes per stored event, for small and large JSON events,
// appended in batches of 100 per store.append and one per append (the common live case).
// Measured as (heapUsed + external, after a full GC, after storing N events) minus the same
// before, over N. Node's `arrayBuffers` is already part of `external`, so it is not added again.
// Events are encoded the way the append path does (Buffer.from, one Uint8Array per event).
// On the built packages (npm run build first).
import v8 from 'node:v8';
import vm from 'node:vm';
import { memoryStore } from '@durable-session/server';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const CASES = [
  { name: '`1`', json: '1', n: 1_000_000 },
  { name: 'delta event', json: JSON.stringify({ type: 'delta', turnId: 't1', agentId: 'a', text: 'hi' }), n: 1_000_000 },
  { name: '~1 KiB event', json: JSON.stringify({ type: 'delta', turnId: 't1', agentId: 'a', text: 'x'.repeat(980) }), n: 20_000 },
];
const MODES = [
  { name: '100 per append', batch: 100 },
  { name: '1 per append', batch: 1 },
];

function heldBytes() {
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

async function measure(json, n, batch) {
  const before = heldBytes();
  const store = memoryStore({ maxBytes: 2 ** 50, maxStreams: 10 });
  await store.create('s', { contentType: 'application/json' });
  for (let done = 0; done < n; done += batch) {
    const entries = [];
    for (let i = 0; i < batch; i++) entries.push(Buffer.from(json, 'utf8'));
    await store.append('s', { entries });
  }
  const after = heldBytes();
  const read = await store.read('s', { from: '-1', limit: 1 });
  if (read.status !== 'ok' || Buffer.from(read.entries[0].data).toString() !== json) throw new Error('the store lost an event');
  await store.close();
  return (after - before) / n;
}

const started = performance.now();
console.log('| event | JSON bytes | mode | events | bytes/event | × JSON size |');
console.log('|---|---:|---|---:|---:|---:|');
for (const c of CASES) {
  const size = Buffer.byteLength(c.json);
  for (const mode of MODES) {
    const perEvent = await measure(c.json, c.n, mode.batch);
    console.log(`| ${c.name} | ${size} | ${mode.name} | ${c.n.toLocaleString('en-US')} | ${perEvent.toFixed(1)} | ${(perEvent / size).toFixed(2)} |`);
  }
}
console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
