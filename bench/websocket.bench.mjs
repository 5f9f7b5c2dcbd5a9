// WebSocket benchmarks, on the built packages (npm run build first), beside HTTP in the same run:
// 1. Appends/s: HTTP POSTs (with producer headers) to the reference server (@durable-streams/server)
//    and to ours, 1 writer and 8 concurrent writers; over one socket with acks pipelined, 1 writer
//    and 8 writers (each its own producer).
// 2. Append round-trip over the socket (one at a time): p50/p99.
// 3. Live delivery over the socket to 50 readers (50 sockets): p50/p99 from append to arrival.
// 4. Server memory per idle socket (the server in a child process, after GC).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DurableStreamTestServer } from '@durable-streams/server';
import { websocketAdapter } from '@durable-session/core/websocket';
import { createSessionServer, listen } from '@durable-session/server';
import { WebSocket } from 'ws';

const SECONDS = 3;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (v) => `${v.toFixed(2)} ms`;
const fmt = (n) => Math.round(n).toLocaleString('en');
const ev = (i) => ({ type: 'bench', i, text: 'hello world' });

/** HTTP appends for SECONDS: `writers` concurrent producers, each one request at a time. */
async function httpAppends(base, writers, prefix) {
  const url = `${base}/v1/stream/${prefix}-${writers}`;
  await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' } });
  const end = performance.now() + SECONDS * 1000;
  let total = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let seq = 0; performance.now() < end; seq++) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'producer-id': `w${w}`, 'producer-epoch': '0', 'producer-seq': String(seq) },
          body: JSON.stringify(ev(seq)),
        });
        if (!res.ok) throw new Error(`append failed: ${res.status}`);
        await res.arrayBuffer();
        total++;
      }
    }),
  );
  return total / SECONDS;
}

/** Socket appends for SECONDS: `writers` producers on one socket, each keeping `window` appends in flight. */
async function socketAppends(adapter, writers, session, window = 64) {
  const end = performance.now() + SECONDS * 1000;
  let total = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      let seq = 0;
      let inFlight = 0;
      let wake = () => {};
      const done = () => {
        inFlight--;
        total++;
        wake();
      };
      while (performance.now() < end) {
        for (; inFlight < window; inFlight++) adapter.append(session, ev(seq), { producerId: `${session}-w${w}`, epoch: 0, seq: seq++ }).then(done);
        await new Promise((resolve) => (wake = resolve)); // one ack arrived: top the window up
      }
      while (inFlight > 0) await new Promise((resolve) => (wake = resolve));
    }),
  );
  return total / SECONDS;
}

async function roundTrips(adapter, session, count = 2000) {
  const times = [];
  for (let seq = 0; seq < count; seq++) {
    const start = performance.now();
    await adapter.append(session, ev(seq), { producerId: `${session}-rt`, epoch: 0, seq });
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

/** Open a raw protocol socket and wait for its hello. */
async function rawSocket(url, onFrame = () => {}) {
  const socket = new WebSocket(url, 'durable-session.v1');
  socket.on('message', (data) => onFrame(JSON.parse(String(data))));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return socket;
}

async function liveDelivery(socketUrl, server, session, readers = 50, events = 400) {
  await server.host.session(session).ensure();
  const latencies = [];
  let ready = 0;
  const sockets = await Promise.all(
    Array.from({ length: readers }, (_, r) =>
      rawSocket(socketUrl, (frame) => {
        if (frame.kind !== 'events') return;
        if (frame.events.length === 0 && frame.upToDate) ready++;
        const now = performance.now();
        for (const e of frame.events) latencies.push(now - e.at);
      }).then((s) => (s.send(JSON.stringify({ kind: 'subscribe', sub: r, session, offset: 'now' })), s)),
    ),
  );
  while (ready < readers) await new Promise((r) => setTimeout(r, 10));
  const writer = websocketAdapter({ url: socketUrl, WebSocket, lingerMs: 50 });
  for (let seq = 0; seq < events; seq++) {
    await writer.append(session, { type: 'bench', at: performance.now() }, { producerId: 'live', epoch: 0, seq });
    await new Promise((r) => setTimeout(r, 2));
  }
  const until = Date.now() + 10_000;
  while (latencies.length < readers * events && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  for (const s of sockets) s.close();
  if (latencies.length < readers * events) throw new Error(`only ${latencies.length} of ${readers * events} deliveries arrived`);
  return latencies.sort((a, b) => a - b);
}

async function memoryPerSocket(count = 1000) {
  const child = fork(fileURLToPath(new URL('./support/ws-server.mjs', import.meta.url)), [], { execArgv: ['--expose-gc'] });
  const next = () => new Promise((resolve) => child.once('message', resolve));
  const { url } = await next();
  const socketUrl = `${url.replace('http', 'ws')}/v1/socket`;
  const mem = async () => (child.send({ mem: true }), (await next()).mem);
  const sockets = [];
  for (let i = 0; i < 50; i++) sockets.push(await rawSocket(socketUrl)); // warm-up
  for (const s of sockets.splice(0)) s.terminate();
  await new Promise((r) => setTimeout(r, 300));
  const before = await mem();
  for (let i = 0; i < count; i++) sockets.push(await rawSocket(socketUrl));
  await new Promise((r) => setTimeout(r, 300));
  const after = await mem();
  for (const s of sockets) s.terminate();
  child.send({ stop: true });
  await new Promise((resolve) => child.once('exit', resolve));
  if (after.sockets !== count) throw new Error(`expected ${count} sockets, the server had ${after.sockets}`);
  return { heap: (after.heapUsed + after.external - before.heapUsed - before.external) / count, rss: (after.rss - before.rss) / count };
}

const reference = new DurableStreamTestServer({ host: '127.0.0.1', port: 0 });
const referenceUrl = await reference.start();
const server = createSessionServer();
const running = await listen(server, { port: 0 });
const socketUrl = `${running.url.replace('http', 'ws')}/v1/socket`;
const adapter = websocketAdapter({ url: socketUrl, WebSocket, maxPendingAppends: 2000 });

const results = {};
results.refHttp1 = await httpAppends(referenceUrl, 1, 'ref');
results.refHttp8 = await httpAppends(referenceUrl, 8, 'ref');
results.oursHttp1 = await httpAppends(running.url, 1, 'ours');
results.oursHttp8 = await httpAppends(running.url, 8, 'ours');
results.ws1 = await socketAppends(adapter, 1, 'ws-1');
results.ws8 = await socketAppends(adapter, 8, 'ws-8');
const rtt = await roundTrips(adapter, 'ws-rtt');
const live = await liveDelivery(socketUrl, server, 'ws-live');
await running.close();
await server.close();
await reference.stop();
const memory = await memoryPerSocket();

console.log(`appends/s for ${SECONDS} s each (1 writer; 8 writers):`);
console.log(`  reference server, HTTP POST      ${fmt(results.refHttp1)}; ${fmt(results.refHttp8)}`);
console.log(`  our server, HTTP POST            ${fmt(results.oursHttp1)}; ${fmt(results.oursHttp8)}`);
console.log(`  our server, one WebSocket        ${fmt(results.ws1)}; ${fmt(results.ws8)} (acks pipelined, 64 in flight per writer)`);
console.log(`  socket / reference HTTP          ${(results.ws1 / results.refHttp1).toFixed(1)}×; ${(results.ws8 / results.refHttp8).toFixed(1)}×`);
console.log(`append round-trip over the socket (${rtt.length}, one at a time): p50 ${ms(pct(rtt, 50))}, p99 ${ms(pct(rtt, 99))}`);
console.log(`live delivery to 50 readers (50 sockets, ${live.length} deliveries): p50 ${ms(pct(live, 50))}, p99 ${ms(pct(live, 99))}`);
console.log(`server memory per idle socket (1000 sockets, after GC): heap+external ${fmt(memory.heap)} B, RSS ${fmt(memory.rss)} B`);
const goal = Math.min(results.ws1 / results.refHttp1, results.ws8 / results.refHttp8);
console.log(`goal (socket ≥ 5× reference HTTP appends): ${goal >= 5 ? 'met' : 'NOT met'} (${goal.toFixed(1)}×)`);
