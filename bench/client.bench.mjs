// Client benchmarks, on the built packages (npm run build first):
// 1. Catch-up of 100,000 small JSON events from our server: our httpAdapter versus
//    @durable-streams/client's stream(), same server, same run, alternating, best of 5,
//    for the server's default page (1,000 entries / 1 MiB per response) and for larger pages.
//    The server runs in this process: its time per response counts for both clients.
// 2. IndexedDB writes per 10,000 deltas (fake-indexeddb in node: the count is what matters,
//    it is the number of transactions a browser would commit).
import 'fake-indexeddb/auto';
import { IDBObjectStore } from 'fake-indexeddb';
import { stream } from '@durable-streams/client';
import { createDurableSession, httpAdapter, memoryAdapter, waitFor } from '@durable-session/core';
import { createSessionServer, listen } from '@durable-session/server';

const EVENTS = 100_000;
const ROUNDS = 5;
/** Server read limits per response: the default, then larger catch-up pages. */
const PAGES = [{}, { maxReadEntries: 10_000, maxReadBytes: 4 << 20 }];

async function catchUp(limits) {
  // The bench appends 1,000 deltas per POST as an agent (the defaults allow 100 per append and only agents write deltas).
  const server = createSessionServer({ maxEventsPerAppend: 1000, authorize: () => ({ role: 'agent' }), onError: () => undefined, ...limits });
  const running = await listen(server.handler, { port: 0 });
  const url = `${running.url}/v1/stream/bench`;
  await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' } });
  for (let i = 0; i < EVENTS; i += 1000) {
    const batch = Array.from({ length: 1000 }, (_, j) => ({ type: 'delta', turnId: 't', agentId: 'a', text: `w${i + j}` }));
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    if (!res.ok) throw new Error(`append failed: ${res.status} ${await res.text()}`);
  }

  let responses = 0;
  const ours = async () => {
    const adapter = httpAdapter({ baseUrl: running.url });
    let n = 0;
    responses = 0;
    const signal = new AbortController().signal;
    for await (const batch of adapter.read('bench', '-1', { live: false, signal })) {
      n += batch.events.length;
      responses++;
    }
    return n;
  };
  const theirs = async () => {
    // Their `live: false` stops after the first response when a server pages its catch-up;
    // json() with live on reads until the first up-to-date response, which is a full catch-up.
    const res = await stream({ url, offset: '-1', live: true });
    return (await res.json()).length;
  };
  const time = async (fn) => {
    const start = performance.now();
    const n = await fn();
    if (n !== EVENTS) throw new Error(`read ${n} events, expected ${EVENTS}`);
    return performance.now() - start;
  };
  const best = { ours: Infinity, theirs: Infinity };
  await ours(); // warm-up both (JIT, connection pool)
  await theirs();
  for (let r = 0; r < ROUNDS; r++) {
    best.ours = Math.min(best.ours, await time(ours));
    best.theirs = Math.min(best.theirs, await time(theirs));
  }
  await running.close();
  await server.close();
  const rate = (ms) => Math.round(EVENTS / (ms / 1000));
  const page = limits.maxReadEntries === undefined ? 'default pages' : `pages of ${limits.maxReadEntries.toLocaleString('en')} entries`;
  console.log(`catch-up of ${EVENTS.toLocaleString('en')} events, ${page} (${responses} responses), best of ${ROUNDS}:`);
  console.log(`  @durable-session/core httpAdapter     ${rate(best.ours).toLocaleString('en')} msg/s (${best.ours.toFixed(0)} ms)`);
  console.log(`  @durable-streams/client stream()      ${rate(best.theirs).toLocaleString('en')} msg/s (${best.theirs.toFixed(0)} ms)`);
  console.log(`  ratio ours/theirs                     ${(best.theirs / best.ours).toFixed(2)}×`);
}

async function idbWrites(deltasPerSecond) {
  let writes = 0;
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    writes++;
    return put.apply(this, args);
  };
  const adapter = memoryAdapter();
  const sessionId = `idb-${deltasPerSecond}`;
  const session = createDurableSession({ sessionId, adapter, persistence: 'indexeddb', clientId: 'bench' });
  await waitFor(session, (s) => s.status === 'live', 5000);
  const before = writes;
  const start = performance.now();
  const append = (event, seq) => adapter.append(sessionId, event, { producerId: 'agent', epoch: 0, seq });
  await append({ type: 'turn.start', turnId: 't', agentId: 'a' }, 0);
  const total = 10_000;
  const perTick = Math.max(1, Math.round(deltasPerSecond / 100)); // 10 ms ticks
  for (let i = 0; i < total; i += perTick) {
    for (let j = 0; j < perTick && i + j < total; j++) await append({ type: 'delta', turnId: 't', agentId: 'a', text: 'x' }, 1 + i + j);
    await new Promise((r) => setTimeout(r, 10));
  }
  await append({ type: 'turn.end', turnId: 't', agentId: 'a', reason: 'complete' }, total + 1);
  await waitFor(session, (s) => s.turns[0]?.status === 'complete', 5000);
  const seconds = (performance.now() - start) / 1000;
  await session.close();
  IDBObjectStore.prototype.put = put;
  console.log(`  ${deltasPerSecond.toLocaleString('en')} deltas/s: ${writes - before} writes for 10,000 deltas over ${seconds.toFixed(1)} s (${((writes - before) / seconds).toFixed(1)} writes/s)`);
}

for (const limits of PAGES) await catchUp(limits);
console.log('IndexedDB writes per 10,000 deltas (one turn):');
await idbWrites(2_000);
await idbWrites(20_000);
