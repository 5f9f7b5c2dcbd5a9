// Store benchmarks, on the built packages (npm run build first) and a real Redis at REDIS_URL:
// for our server on the memory, Redis and SQLite stores, beside the reference @durable-streams/server
// (its in-memory store), all over HTTP on 127.0.0.1, in this one process:
// 1. appends/s: 1 writer (sequential POSTs of one event), and 8 writers on 8 sessions;
// 2. catch-up of 100,000 events (plain fetch, offset paging), best of 3;
// 3. live delivery to 50 SSE readers of one session: agent write → reader receive, p50/p99;
// 4. cross-node cancel on Redis: a cancel POSTed to node B until the turn's AbortSignal fires on
//    node A, p50/p99 over 100 cancels.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createParser } from 'eventsource-parser';
import { DurableStreamTestServer } from '@durable-streams/server';
import { createSessionServer, listen } from '@durable-session/server';
import { redisStore } from '@durable-session/redis';
import { sqliteStore } from '@durable-session/sqlite';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The bench writes agent events (`delta`) over HTTP, 1,000 per append: as an agent, with that limit. */
const AGENT_WRITER = { onError: () => undefined, authorize: () => ({ role: 'agent' }), maxEventsPerAppend: 1000 };
const prefix = `bench:${randomUUID()}:`;
const dir = mkdtempSync(join(tmpdir(), 'ds-bench-'));
const JSON_HEADERS = { 'content-type': 'application/json' };
const SINGLE_APPENDS = 2000;
const PER_WRITER = 500;
const CATCH_UP = 100_000;
const READERS = 50;
const LIVE_EVENTS = 200;

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (x) => `${x.toFixed(2)} ms`;

async function ours(name, store) {
  const server = createSessionServer(store === undefined ? AGENT_WRITER : { ...AGENT_WRITER, store });
  const running = await listen(server.handler, { port: 0 });
  return {
    name,
    url: `${running.url}/v1/stream`,
    close: async () => {
      await running.close();
      await server.close();
      await store?.close();
    },
  };
}

async function reference() {
  const server = new DurableStreamTestServer({ host: '127.0.0.1', port: 0, longPollTimeout: 20_000 });
  const base = await server.start();
  return { name: '@durable-streams/server (memory)', url: `${base}/v1/stream`, close: () => server.stop() };
}

async function create(url, id) {
  const res = await fetch(`${url}/${id}`, { method: 'PUT', headers: JSON_HEADERS });
  if (res.status !== 201 && res.status !== 200) throw new Error(`create ${id}: ${res.status}`);
}

async function append(url, id, body) {
  const res = await fetch(`${url}/${id}`, { method: 'POST', headers: JSON_HEADERS, body });
  if (!res.ok) throw new Error(`append ${id}: ${res.status}`);
  await res.arrayBuffer();
}

async function appendRates(target) {
  const id = `single-${randomUUID()}`;
  await create(target.url, id);
  const event = JSON.stringify({ type: 'delta', turnId: 't', agentId: 'a', text: 'word ' });
  let start = performance.now();
  for (let i = 0; i < SINGLE_APPENDS; i++) await append(target.url, id, event);
  const single = SINGLE_APPENDS / ((performance.now() - start) / 1000);
  const ids = Array.from({ length: 8 }, () => `multi-${randomUUID()}`);
  await Promise.all(ids.map((s) => create(target.url, s)));
  start = performance.now();
  await Promise.all(ids.map(async (s) => {
    for (let i = 0; i < PER_WRITER; i++) await append(target.url, s, event);
  }));
  const eight = (8 * PER_WRITER) / ((performance.now() - start) / 1000);
  return { single, eight };
}

async function catchUp(target) {
  const id = `catchup-${randomUUID()}`;
  await create(target.url, id);
  for (let i = 0; i < CATCH_UP; i += 1000) {
    const batch = Array.from({ length: 1000 }, (_, j) => ({ type: 'delta', turnId: 't', agentId: 'a', text: `w${i + j}` }));
    await append(target.url, id, JSON.stringify(batch));
  }
  const readAll = async () => {
    let offset = '-1';
    let n = 0;
    for (let round = 0; round < 10_000; round++) {
      const res = await fetch(`${target.url}/${id}?offset=${offset}`);
      n += (await res.json()).length;
      offset = res.headers.get('stream-next-offset');
      if (res.headers.get('stream-up-to-date') === 'true') break;
    }
    if (n !== CATCH_UP) throw new Error(`${target.name}: read ${n} events`);
  };
  await readAll(); // warm-up
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const start = performance.now();
    await readAll();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

async function liveDelivery(target) {
  const id = `live-${randomUUID()}`;
  await create(target.url, id);
  const latencies = [];
  const controllers = [];
  const ready = [];
  for (let r = 0; r < READERS; r++) {
    const controller = new AbortController();
    controllers.push(controller);
    ready.push(
      (async () => {
        const res = await fetch(`${target.url}/${id}?offset=-1&live=sse`, { signal: controller.signal });
        const parser = createParser({
          onEvent: (message) => {
            if (message.event !== 'data') return;
            const now = performance.now();
            for (const e of JSON.parse(message.data)) latencies.push(now - e.sentAt);
          },
        });
        const decoder = new TextDecoder();
        const reader = res.body.getReader();
        void (async () => {
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) return;
              parser.feed(decoder.decode(value, { stream: true }));
            }
          } catch {
            // aborted at the end
          }
        })();
      })(),
    );
  }
  await Promise.all(ready);
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let i = 0; i < LIVE_EVENTS; i++) {
    await append(target.url, id, JSON.stringify({ type: 'delta', turnId: 't', agentId: 'a', text: `w${i}`, sentAt: performance.now() }));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (let wait = 0; wait < 100 && latencies.length < READERS * LIVE_EVENTS; wait++) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const c of controllers) c.abort();
  latencies.sort((a, b) => a - b);
  return { p50: pct(latencies, 50), p99: pct(latencies, 99), received: latencies.length };
}

async function crossNodeCancel() {
  const storeA = redisStore({ url: REDIS_URL, prefix: `${prefix}cancel:` });
  const storeB = redisStore({ url: REDIS_URL, prefix: `${prefix}cancel:` });
  const a = createSessionServer({ ...AGENT_WRITER, store: storeA });
  const b = createSessionServer({ ...AGENT_WRITER, store: storeB });
  const pending = new Map();
  a.host.onPrompt(async ({ prompt, turn }) => {
    await new Promise((resolve) => {
      const fired = () => {
        pending.get(prompt.turnId)?.(performance.now());
        resolve();
      };
      if (turn.signal.aborted) fired();
      else turn.signal.addEventListener('abort', fired, { once: true });
    });
  });
  const runA = await listen(a.handler, { port: 0 });
  const runB = await listen(b.handler, { port: 0 });
  const urlA = `${runA.url}/v1/stream`;
  const urlB = `${runB.url}/v1/stream`;
  const id = `cancel-${randomUUID()}`;
  await create(urlB, id);
  const latencies = [];
  for (let i = 0; i < 100; i++) {
    const turnId = `t${i}`;
    await append(urlB, id, JSON.stringify({ type: 'prompt', turnId, clientId: 'bench', text: 'wait' }));
    for (let poll = 0; poll < 400; poll++) {
      // the turn has started on A once its turn.start is in the (shared) log
      const res = await fetch(`${urlA}/${id}?offset=-1`);
      const events = await res.json();
      if (events.some((e) => e.type === 'turn.start' && e.turnId === turnId)) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const aborted = new Promise((resolve) => pending.set(turnId, resolve));
    const sent = performance.now();
    await append(urlB, id, JSON.stringify({ type: 'cancel', turnId, clientId: 'bench' }));
    latencies.push((await aborted) - sent);
  }
  await runA.close();
  await runB.close();
  await a.close();
  await b.close();
  await storeA.close();
  await storeB.close();
  latencies.sort((x, y) => x - y);
  return { p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

async function deleteKeys() {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

const makers = [
  () => ours('ours, memory store', undefined),
  () => ours('ours, Redis store', redisStore({ url: REDIS_URL, prefix })),
  () => ours('ours, SQLite store', sqliteStore({ path: join(dir, 'bench.db') })),
  reference,
];
const rows = [];
try {
  for (const make of makers) {
    const target = await make();
    try {
      const rates = await appendRates(target);
      const catchUpMs = await catchUp(target);
      const live = await liveDelivery(target);
      rows.push({ name: target.name, ...rates, catchUpMs, live });
      console.log(`${target.name}: done`);
    } finally {
      await target.close();
    }
  }
  const cancel = await crossNodeCancel();
  const fmt = (n) => Math.round(n).toLocaleString('en');
  console.log(`\n| server | appends/s, 1 writer | appends/s, 8 writers × 8 sessions | catch-up of ${CATCH_UP.toLocaleString('en')} | live to ${READERS} SSE readers p50 / p99 |`);
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.name} | ${fmt(r.single)} | ${fmt(r.eight)} | ${fmt(r.catchUpMs)} ms (${fmt(CATCH_UP / (r.catchUpMs / 1000))} msg/s) | ${ms(r.live.p50)} / ${ms(r.live.p99)} (${r.live.received} deliveries) |`);
  }
  console.log(`\ncross-node cancel on Redis (POST to B → AbortSignal on A), 100 cancels: p50 ${ms(cancel.p50)}, p99 ${ms(cancel.p99)}`);
} finally {
  await deleteKeys();
  rmSync(dir, { recursive: true, force: true });
}
