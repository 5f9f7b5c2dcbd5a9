// Snapshots: time to first render and bytes on the wire for a new device opening a session of
// 10, 100 and 1,000 turns (~200 deltas each), reading the whole log versus starting from the
// server's snapshot page (10 latest turns), best of 3 each, same server, one run; plus the memory the
// server's snapshot of each session takes (the stored JSON, and the host's in-memory fold is
// the same state). On the built packages (npm run build first).
import { createDurableSession, httpAdapter, snapshotPaging, waitFor } from '@durable-session/core';
import { createSessionServer, listen } from '@durable-session/server';
import { writeLongSession } from '../test/support/long-session.mjs';

const SIZES = [10, 100, 1000];
const DELTAS = 200;

function countingFetch() {
  const counter = { bytes: 0 };
  counter.fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (response.body === null) return response;
    const counted = new TransformStream({
      transform(chunk, controller) {
        counter.bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(counted), { status: response.status, headers: response.headers });
  };
  return counter;
}

async function firstRender(baseUrl, id, turns, snapshot) {
  const counter = countingFetch();
  const started = performance.now();
  const session = createDurableSession({
    sessionId: id,
    adapter: httpAdapter({ baseUrl, fetch: counter.fetch }),
    persistence: 'memory',
    tabs: false,
    ...(snapshot ? { snapshot: snapshotPaging({ turns: 10 }) } : {}),
  });
  await waitFor(session, (s) => s.status === 'live' && s.turns.at(-1)?.turnId === `t${turns - 1}`, 120_000);
  const ms = performance.now() - started;
  await session.close();
  return { ms, bytes: counter.bytes };
}

/** Best of 3 (the server shares this process: a major GC of a 200k-entry store can land in any one). */
async function best(run) {
  let fastest;
  for (let i = 0; i < 3; i++) {
    const r = await run();
    if (fastest === undefined || r.ms < fastest.ms) fastest = r;
  }
  return fastest;
}

const server = createSessionServer();
const running = await listen(server.handler, { port: 0, host: '127.0.0.1' });
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log('turns | log events | full log: first render, bytes | snapshot: first render, bytes | stored snapshot');
for (const turns of SIZES) {
  const id = `bench-${turns}`;
  const events = await writeLongSession(server.store, id, turns, DELTAS);
  const full = await best(() => firstRender(running.url, id, turns, false));
  const snap = await firstRender(running.url, id, turns, true); // the first page request folds and stores the snapshot
  const again = await best(() => firstRender(running.url, id, turns, true)); // from the stored snapshot
  const stored = await server.store.getSnapshot(id);
  const size = stored.status === 'ok' ? stored.snapshot.data.byteLength : 0;
  console.log(
    `${turns} | ${events.length} | ${full.ms.toFixed(0)} ms, ${kib(full.bytes)} | ${again.ms.toFixed(0)} ms, ${kib(again.bytes)} (first page, folding the log: ${snap.ms.toFixed(0)} ms) | ${kib(size)}`,
  );
}
await running.close();
await server.close();
