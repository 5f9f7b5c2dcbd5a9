// The hot paths, each server in its own child process (a core to itself; load on the other core),
// on the built packages (npm run build first). `node bench/hot.bench.mjs [appends|catchup|live|capacity]…`
// (all by default; about 4 minutes in all):
// 1. appends: appends/s with 1 and 8 keep-alive writers (wrk; a Node generator when wrk is missing)
//    to our server, the reference @durable-streams/server and a bare node:http server that stores
//    nothing, one small JSON event per POST to one stream; checked against the stream's length after.
// 2. catchup: fetch 100,000 small events from offset -1, page after page, bytes read but not parsed;
//    ours and the reference, best of 3 after a warm-up (which parses and counts them).
// 3. live: 50 SSE readers of one session at 1,000 appends/s, then 500 readers at 100/s: deliveries,
//    loss, duplicates, latency from send to arrival (readers and writer in their own processes); ours,
//    the reference, and a bare node:http fan-out (no store) as the machine's floor.
// 4. capacity: concurrent agent turns on one server process (memory store, then Redis), each 50
//    deltas/s to its own session (starts spread over 1 s), 2 SSE readers per session in another
//    process: ramped until p99 > 100 ms or a delivery is lost (a failing step is tried once more).
// Only 127.0.0.1; every child is stopped at the end, also on failure. Knobs (environment): REDIS_URL,
// HOT_NO_WRK=1 (use the Node load generator), HOT_APPEND_SECONDS, HOT_CAPACITY_STEPS=25,50,…,
// HOT_CAPACITY_STORES=memory,redis, HOT_READER_PROCS (reader processes in the capacity ramp, default 1).
import { fork, spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { merge, percentile } from './support/hot-stats.mjs';
import { readPages } from './support/hot-pages.mjs';

const PARTS = ['appends', 'catchup', 'live', 'capacity'];
const chosen = process.argv.length > 2 ? process.argv.slice(2) : PARTS;
for (const part of chosen) if (!PARTS.includes(part)) throw new Error(`unknown part ${part}: one of ${PARTS.join(', ')}`);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const APPEND_SECONDS = Number(process.env.HOT_APPEND_SECONDS ?? 2);
/** Rounds of appends, each server once per round, the order reversed every other round: a shared machine's swings hit all three alike. */
const APPEND_ROUNDS = Number(process.env.HOT_APPEND_ROUNDS ?? 6);
const WARMUP_SECONDS = 1;
const CATCH_UP = 100_000;
const LIVE_SECONDS = 5;
const TURN_SECONDS = 5;
const TURN_RATE = 50;
const CAPACITY_STEPS = (process.env.HOT_CAPACITY_STEPS ?? '25,50,100,150,200,250,300,400,500,600,800,1000').split(',').map(Number);
const CAPACITY_BUDGET_MS = 80_000; // per store
const P99_LIMIT = 100;
/** Reader processes for the capacity ramp (HOT_READER_PROCS; 2 cores in all, one is the server's). */
const READER_PROCS = Math.max(1, Number(process.env.HOT_READER_PROCS ?? 1));
const READER_BOUND_CPU = 90;

const support = (file) => fileURLToPath(new URL(`./support/${file}`, import.meta.url));
const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : String(n));
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : '–');
const pc = (x) => (Number.isFinite(x) ? `${Math.round(x)}%` : '–');
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
/** The median of the rounds' ratios (`a[i] / b[i]`, runs of one round), with their range. */
const medianRatio = (a, b) => {
  const r = a.map((x, i) => x / b[i]).sort((x, y) => x - y);
  return `${ratio(r[Math.floor(r.length / 2)], 1)} (${r[0].toFixed(2)}–${r[r.length - 1].toFixed(2)})`;
};
const sleep = (t) => new Promise((resolve) => setTimeout(resolve, t));
const JSON_HEADERS = { 'content-type': 'application/json' };
const run = randomUUID().slice(0, 8);

// ---------------------------------------------------------------- children

const children = new Set();

/** Fork a support script with IPC; `call(op, body)` sends { id, op, … } and resolves with the reply carrying that id. */
async function child(file, args = [], startTimeoutMs = 20_000) {
  const execArgv = file === 'hot-server.mjs' ? ['--expose-gc'] : [];
  const proc = fork(support(file), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  children.add(proc);
  const pending = new Map();
  let nextId = 0;
  let exited = false;
  const hello = new Promise((resolve, reject) => {
    proc.once('message', resolve);
    proc.once('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
    setTimeout(() => reject(new Error(`${file} not ready after ${startTimeoutMs} ms`)), startTimeoutMs).unref();
  });
  proc.on('message', (message) => {
    const waiter = pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(`${file}: ${message.error}`));
    else waiter.resolve(message);
  });
  proc.on('exit', (code) => {
    exited = true;
    children.delete(proc);
    for (const waiter of pending.values()) waiter.reject(new Error(`${file} exited (${code})`));
    pending.clear();
  });
  const first = await hello;
  return {
    ...first,
    pid: proc.pid,
    call(op, body = {}, timeoutMs = 60_000) {
      if (exited) return Promise.reject(new Error(`${file} has exited`));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${file}: ${op} took over ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        proc.send({ id, op, ...body });
      });
    },
    /** Ask it to stop (servers close), else disconnect; SIGKILL after 5 s. */
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      if (file === 'hot-server.mjs') await this.call('stop', {}, 5000).catch(() => undefined);
      else if (proc.connected) proc.disconnect();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

const server = (kind, options = {}) => child('hot-server.mjs', [kind, JSON.stringify(options)]);

function killAll() {
  for (const proc of children) proc.kill('SIGKILL');
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

// ---------------------------------------------------------------- HTTP helpers

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** One request; resolves with the status, headers and the body (a string when `text`, else only its length). */
function request(method, url, { body, headers = {}, text = true, agent = keepAlive } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
    const req = http.request(url, { method, headers: h, agent }, (res) => {
      const chunks = [];
      let bytes = 0;
      res.on('data', (chunk) => {
        bytes += chunk.length;
        if (text) chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, body: text ? Buffer.concat(chunks).toString('utf8') : undefined }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function createStream(url) {
  const res = await request('PUT', url, { headers: JSON_HEADERS });
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT ${url}: ${res.status} ${res.body}`);
}

/** Read a stream from offset -1 to its end; `parse`: count its events too (else bytes only). */
function readStream(url, { parse = false, agent = keepAlive } = {}) {
  return readPages((page) => request('GET', page, { text: parse, agent }), url, parse);
}

// ---------------------------------------------------------------- load generator

const HAVE_WRK = (() => {
  if (process.env.HOT_NO_WRK === '1') return false; // to try the Node generator
  try {
    execFileSync('wrk', ['-v'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return error.status !== undefined && error.code !== 'ENOENT'; // `wrk -v` exits 1 after printing its version
  }
})();
const tmp = mkdtempSync(join(os.tmpdir(), 'hot-bench-'));
const wrkScript = join(tmp, 'append.lua');
writeFileSync(
  wrkScript,
  `wrk.method = "POST"\nwrk.body = '${JSON.stringify({ type: 'bench', i: 1, text: 'hello world' })}'\nwrk.headers["Content-Type"] = "application/json"\n`,
);

const WRK_UNIT = { us: 1e-3, ms: 1, s: 1000, m: 60_000 };

/** Run wrk (under bash's `time`, for its CPU); parse its requests, non-2xx, socket errors and latency percentiles. */
function runWrk(url, writers, seconds) {
  const threads = Math.min(writers, 2);
  const args = [`-t${threads}`, `-c${writers}`, `-d${seconds}s`, '--timeout', '5s', '--latency', '-s', wrkScript, url];
  return new Promise((resolve, reject) => {
    const proc = spawn('bash', ['-c', 'TIMEFORMAT="cpu %U %S"; time wrk "$@"', 'wrk', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), (seconds + 20) * 1000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      const done = out.match(/(\d+) requests in ([\d.]+)(us|ms|s|m)/);
      if (code !== 0 || done === null) return reject(new Error(`wrk failed (${code}): ${out} ${err}`));
      const durationMs = Number(done[2]) * WRK_UNIT[done[3]];
      const lat = (p) => {
        const m = out.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm'));
        return m === null ? NaN : Number(m[1]) * WRK_UNIT[m[2]];
      };
      const sock = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
      const cpu = err.match(/cpu ([\d.]+) ([\d.]+)/);
      resolve({
        requests: Number(done[1]),
        rate: Number(done[1]) / (durationMs / 1000),
        non2xx: Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
        socketErrors: sock === null ? 0 : sock.slice(1).reduce((n, x) => n + Number(x), 0),
        p50: lat(50),
        p99: lat(99),
        cpu: cpu === null ? NaN : (100 * (Number(cpu[1]) + Number(cpu[2])) * 1000) / durationMs,
      });
    });
  });
}

/** The same load from Node (keep-alive agent, one request in flight per writer), in its own process. */
async function runNodeLoad(writer, url, writers, seconds) {
  const r = await writer.call('flood', { url, writers, seconds }, (seconds + 60) * 1000);
  return { requests: r.requests, rate: r.requests / (r.elapsedMs / 1000), non2xx: r.non2xx, socketErrors: r.errors, p50: r.p50, p99: r.p99, cpu: r.cpu };
}

// ---------------------------------------------------------------- 1. appends

async function appends() {
  console.log(`\n### 1. Appends/s: POST ${JSON.stringify({ type: 'bench', i: 1, text: 'hello world' })} to one stream: a ${WARMUP_SECONDS} s warm-up, then ${APPEND_ROUNDS} rounds of one ${APPEND_SECONDS} s run per server (A B C, C B A, …); the medians count, and each ratio is the median of the rounds' ratios`);
  console.log('Our server runs with maxSessionEvents 100,000,000 (its default cap of 100,000 events per session would refuse appends mid-run; the others have no cap).');
  if (!HAVE_WRK) console.log('wrk is not on PATH (apt-get install wrk), or HOT_NO_WRK=1: the load comes from a Node generator in a child process instead (slower; it may be the bottleneck).');
  const generator = HAVE_WRK ? 'wrk' : 'node';
  const writerProc = HAVE_WRK ? undefined : await child('hot-writer.mjs');
  const targets = [
    { name: 'ours (memory store)', key: 'ours', proc: await server('ours', { server: { maxSessionEvents: 100_000_000 } }) },
    { name: '@durable-streams/server (memory)', key: 'reference', proc: await server('reference') },
    { name: 'bare node:http (stores nothing, 204)', key: 'bare', proc: await server('bare') },
  ];
  const rows = [];
  const rates = {};
  const problems = [];
  try {
    for (const writers of [1, 8]) {
      const runs = new Map(targets.map((t) => [t, []]));
      // Each round runs every server once on a fresh stream, in the reverse order of the round before.
      for (let round = 0; round < APPEND_ROUNDS; round++) {
        for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
          const load = (url, seconds) => (HAVE_WRK ? runWrk(url, writers, seconds) : runNodeLoad(writerProc, url, writers, seconds));
          if (round === 0) {
            const warm = `${t.proc.url}/v1/stream/hot-warm-${writers}-${run}`;
            await createStream(warm);
            const warmed = await load(warm, WARMUP_SECONDS);
            if (warmed.non2xx > 0 || warmed.socketErrors > 0) problems.push(`${t.name}, ${writers} writers, warm-up: ${warmed.non2xx} non-2xx, ${warmed.socketErrors} socket errors`);
          }
          const stream = `${t.proc.url}/v1/stream/hot-append-${writers}-${round}-${run}`;
          await createStream(stream);
          if (t.key === 'bare') await t.proc.call('bare-count');
          await t.proc.call('cpu-start');
          const r = await load(stream, APPEND_SECONDS);
          const { cpu } = await t.proc.call('cpu-read');
          // Every request answered 2xx must be in the stream; a few more may have landed as the load stopped.
          const stored = t.key === 'bare' ? (await t.proc.call('bare-count')).posts : (await readStream(stream, { parse: true })).events;
          const answered = r.requests - r.non2xx;
          const ok = stored >= answered && stored <= r.requests + writers && r.non2xx === 0 && r.socketErrors === 0;
          if (!ok) problems.push(`${t.name}, ${writers} writers, round ${round + 1}: ${fmt(stored)} stored, ${fmt(answered)} answered 2xx, ${fmt(r.non2xx)} non-2xx, ${fmt(r.socketErrors)} socket errors`);
          runs.get(t).push({ ...r, serverCpu: cpu, stored, ok });
        }
      }
      for (const t of targets) {
        const all = runs.get(t);
        const median = [...all].sort((a, b) => a.rate - b.rate)[Math.floor(all.length / 2)]; // the median run
        rates[`${t.key}${writers}`] = all.map((x) => x.rate);
        const check = all.every((x) => x.ok) ? `ok (${all.map((x) => fmt(x.stored)).join(' / ')} stored)` : 'FAILED (see below)';
        if (median.cpu >= 90) problems.push(`${t.name}, ${writers} writers: the load generator was at ${pc(median.cpu)} CPU: the figure may be the generator's limit, not the server's`);
        rows.push(`| ${t.name} | ${writers} | **${fmt(median.rate)}** (${all.map((x) => fmt(x.rate)).join(' / ')}) | ${ms(median.p50)} / ${ms(median.p99)} | ${pc(median.serverCpu)} | ${pc(median.cpu)} | ${check} |`);
      }
    }
  } finally {
    await Promise.all([...targets.map((t) => t.proc.stop()), writerProc?.stop()]);
  }
  console.log(`\n| server | writers | appends/s, median (every run) | latency p50 / p99 (${generator}, median run) | server CPU | ${generator} CPU | check (stream length after each run) |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  console.log('\n| ratio | 1 writer | 8 writers |\n| --- | --- | --- |');
  console.log(`| ours / reference | ${medianRatio(rates.ours1, rates.reference1)} | ${medianRatio(rates.ours8, rates.reference8)} |`);
  console.log(`| ours / bare | ${medianRatio(rates.ours1, rates.bare1)} | ${medianRatio(rates.ours8, rates.bare8)} |`);
  console.log(`\nCPU is % of one core. ${HAVE_WRK ? 'wrk: -t1 -c1, and -t2 -c8 (one connection per writer, keep-alive).' : 'Node generator: one connection per writer.'} A server near 100% is the limit; a load generator near 100% means the figure is the generator's.`);
  for (const p of problems) console.log(`NOTE: ${p}`);
}

// ---------------------------------------------------------------- 2. catch-up

async function catchup() {
  console.log(`\n### 2. Catch-up: ${fmt(CATCH_UP)} events ${JSON.stringify({ type: 'delta', turnId: 't', agentId: 'a', text: 'w123' })} from offset -1, page after page (Stream-Next-Offset) until Stream-Up-To-Date; best of 3 after a warm-up`);
  const targets = [
    { name: 'ours (memory store)', key: 'ours', proc: await server('ours') },
    { name: '@durable-streams/server (memory)', key: 'reference', proc: await server('reference') },
  ];
  const client = await child('hot-writer.mjs');
  const rows = [];
  const best = [];
  try {
    for (const t of targets) {
      const stream = `${t.proc.url}/v1/stream/hot-catchup-${run}`;
      await createStream(stream);
      const events = Array.from({ length: CATCH_UP }, (_, i) => ({ type: 'delta', turnId: 't', agentId: 'a', text: `w${i}` }));
      if (t.key === 'ours') {
        // Clients may not POST `delta` (agents' events) to our server: written into its store, as its agents do.
        await t.proc.call('fill', { stream: `hot-catchup-${run}`, events }, 120_000);
      } else {
        for (let i = 0; i < CATCH_UP; i += 1000) {
          const res = await request('POST', stream, { body: JSON.stringify(events.slice(i, i + 1000)), headers: JSON_HEADERS });
          if (res.status < 200 || res.status > 299) throw new Error(`${t.name}: fill POST ${res.status} ${res.body}`);
        }
      }
      // The client in its own process: one keep-alive connection, no Accept-Encoding (both answer uncompressed).
      await t.proc.call('gc');
      await t.proc.call('cpu-start');
      const { warmEvents, best: fastest } = await client.call('catchup', { url: stream, runs: 3 }, 120_000);
      const { cpu } = await t.proc.call('cpu-read');
      if (warmEvents !== CATCH_UP) throw new Error(`${t.name}: the warm-up read ${warmEvents} events, not ${CATCH_UP}`);
      best.push(fastest.elapsed);
      const enc = fastest.encodings.length > 0 ? ` (${fastest.encodings.join(', ')})` : '';
      rows.push(`| ${t.name} | ${ms(fastest.elapsed)} | ${fmt(fastest.responses)} | ${fmt(fastest.bytes)}${enc} | ${fmt(CATCH_UP / (fastest.elapsed / 1000))} | ${(fastest.bytes / 2 ** 20 / (fastest.elapsed / 1000)).toFixed(1)} MiB/s | ${pc(cpu)} | ${pc(fastest.cpu)} |`);
    }
  } finally {
    await Promise.all([...targets.map((t) => t.proc.stop()), client.stop()]);
  }
  console.log('\n| server | best of 3 | responses | bytes | events/s | throughput | server CPU (warm-up + 3 reads) | client CPU (best read) |\n| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  const speedup = best[1] / best[0];
  console.log(`\nours is ${speedup.toFixed(2)}× as fast as the reference (goal ≥ 2×: ${speedup >= 2 ? 'met' : 'NOT met'}). The client runs in its own process; its warm-up read parsed and counted all ${fmt(CATCH_UP)} events on both.`);
  console.log('A server well under 100% CPU while the client is near it means the client (node:http, one connection) bounds that figure.');
}

// ---------------------------------------------------------------- 3. live fan-out

async function live() {
  console.log(
    `\n### 3. Live fan-out: SSE readers (offset=now) of one stream; a writer POSTs { type, i, t: send time } at a fixed rate for ${LIVE_SECONDS} s (open loop: up to 32 in flight on keep-alive connections); readers and writer each in their own process`,
  );
  const targets = [
    ['ours (memory store, maxLiveReadersPerSession 1000)', 'ours', { server: { maxLiveReadersPerSession: 1000 } }],
    ['@durable-streams/server (memory)', 'reference', {}],
    ['bare node:http (no store: each POST written to every reader at once)', 'bare', {}],
  ];
  const readers = await child('hot-readers.mjs');
  const writer = await child('hot-writer.mjs');
  const rows = [];
  const notes = [];
  try {
    for (const [count, rate] of [[50, 1000], [500, 100]]) {
      for (const [name, kind, options] of targets) {
        const proc = await server(kind, options);
        try {
          const stream = `${proc.url}/v1/stream/hot-live-${count}-${run}`;
          await createStream(stream);
          const opened = await readers.call('open', { urls: Array(count).fill(stream), mode: 'live', maxSeq: rate * LIVE_SECONDS }, 30_000);
          if (opened.failed > 0) throw new Error(`${name}: ${opened.failed} of ${count} readers failed to open: ${opened.firstError}`);
          await proc.call('cpu-start');
          const machineFrom = { busy: machineBusyMs(), at: performance.now() };
          const w = await writer.call('paced', { url: stream, rate, seconds: LIVE_SECONDS, inFlight: 32 }, (LIVE_SECONDS + 30) * 1000);
          const r = await readers.call('await', { sent: w.ok, idleMs: 3000, timeoutMs: 30_000 }, 60_000);
          const { cpu } = await proc.call('cpu-read');
          const machineCpu = (100 * (machineBusyMs() - machineFrom.busy)) / (performance.now() - machineFrom.at);
          await readers.call('close');
          const lat = merge([r.latency]);
          const expected = w.ok * count;
          const lost = expected - r.unique;
          rows.push(
            `| ${name} | ${count} | ${fmt(rate)}/s → ${fmt(w.ok / (w.elapsedMs / 1000))}/s | ${fmt(r.deliveries)} / ${fmt(expected)} | ${fmt(lost)} | ${fmt(r.dups)} | ${ms(percentile(lat, 50))} / ${ms(percentile(lat, 99))} / ${ms(lat.max)} | ${pc(cpu)} | ${pc(r.cpu)} | ${pc(w.cpu)} | ${pc(machineCpu)} |`,
          );
          const who = `${name}, ${count} readers`;
          if (w.ok / (w.elapsedMs / 1000) < 0.95 * rate) notes.push(`${who}: 32 appends were unanswered at once ${fmt(w.saturated)} times: the writer waited and sent ${fmt(w.ok / (w.elapsedMs / 1000))}/s, not ${fmt(rate)}/s`);
          if (w.non2xx > 0 || w.errors > 0) notes.push(`${who}: the writer got ${w.non2xx} non-2xx and ${w.errors} socket errors`);
          if (r.errors > 0 || r.reconnects > 0 || r.unexpected > 0) notes.push(`${who}: ${r.errors} reader errors (${r.firstError}), ${r.reconnects} reconnects, ${r.unexpected} unexpected events`);
          if (machineCpu >= 0.9 * cpus.length * 100) notes.push(`${who}: the machine was at ${pc(machineCpu)} of ${cpus.length * 100}% CPU (server, readers, writer, kernel): all cores busy`);
          if (r.cpu >= READER_BOUND_CPU) notes.push(`${who}: the reader process was at ${pc(r.cpu)} CPU: latency there is partly the readers'`);
        } finally {
          await proc.stop();
        }
      }
    }
  } finally {
    await Promise.all([readers.stop(), writer.stop()]);
  }
  console.log(`\n| server | readers | writer rate offered → answered | delivered / expected | lost | duplicates | latency p50 / p99 / max | server CPU | readers CPU | writer CPU | machine CPU (of ${cpus.length * 100}%) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  for (const row of rows) console.log(row);
  console.log(
    '\nLatency: send time in the writer → arrival at the reader (performance.timeOrigin + performance.now() in both processes), so it includes the time the POST waited in the server. Expected = appends answered 2xx × readers; lost = expected − distinct events delivered, once nothing arrived for 3 s.',
  );
  for (const n of notes) console.log(`NOTE: ${n}`);
}

// ---------------------------------------------------------------- 4. capacity

async function deleteRedisKeys(prefix) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    for (let round = 0; round < 100_000; round++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
}

/** CPU time (ms) a process has used so far, from /proc (for redis-server, which is not ours); NaN when unreadable. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
function procCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime + stime
  } catch {
    return NaN;
  }
}

/** The whole machine's busy CPU time (ms, all cores, softirq included) from /proc/stat; NaN elsewhere. */
function machineBusyMs() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return ((user + nice + system + irq + softirq + (steal ?? 0)) * 1000) / CLK_TCK ;
  } catch {
    return NaN;
  }
}

async function redisReachable() {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    const info = await redis.info('server');
    return { version: info.match(/redis_version:(\S+)/)?.[1] ?? 'unknown', pid: Number(info.match(/process_id:(\d+)/)?.[1]) };
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

async function inBatches(items, size, f) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f));
}

async function capacityOf(storeName, options, redisPid) {
  const proc = await server('ours', options);
  const readerProcs = [];
  for (let i = 0; i < READER_PROCS; i++) readerProcs.push(await child('hot-readers.mjs'));
  const rows = [];
  let figure = 0;
  let stoppedBy = 'the last step';
  const started = performance.now();
  try {
    const steps = CAPACITY_STEPS.flatMap((turns) => [{ turns, retry: false }, { turns, retry: true }]);
    const passed = new Set();
    for (const { turns, retry } of steps) {
      if (retry && passed.has(turns)) continue;
      if (performance.now() - started > CAPACITY_BUDGET_MS) {
        stoppedBy = 'the time budget';
        break;
      }
      const ids = Array.from({ length: turns }, (_, k) => `hot-cap-${turns}-${k}${retry ? 'r' : ''}-${run}`);
      await inBatches(ids, 50, (id) => createStream(`${proc.url}/v1/stream/${id}`));
      const urls = readerProcs.map(() => []);
      ids.forEach((id, k) => {
        for (let r = 0; r < 2; r++) urls[(2 * k + r) % READER_PROCS].push(`${proc.url}/v1/stream/${id}`);
      });
      const perTurn = TURN_RATE * TURN_SECONDS;
      const opened = await Promise.all(readerProcs.map((p, i) => p.call('open', { urls: urls[i], mode: 'turn', maxSeq: perTurn }, 60_000)));
      const failedOpen = opened.reduce((n, o) => n + o.failed, 0);
      await sleep(300); // let the server settle after accepting the readers
      const redisFrom = { cpu: procCpuMs(redisPid), machine: machineBusyMs(), at: performance.now() };
      const t = await proc.call('turns', { sessions: ids, rate: TURN_RATE, seconds: TURN_SECONDS }, (TURN_SECONDS + 60) * 1000);
      const redisCpu = (100 * (procCpuMs(redisPid) - redisFrom.cpu)) / (performance.now() - redisFrom.at);
      const machineCpu = (100 * (machineBusyMs() - redisFrom.machine)) / (performance.now() - redisFrom.at);
      const results = await Promise.all(readerProcs.map((p) => p.call('await', { idleMs: 3000, timeoutMs: 30_000 }, 60_000)));
      await Promise.all(readerProcs.map((p) => p.call('close')));
      const lat = merge(results.map((r) => r.latency));
      const sum = (f) => results.reduce((n, r) => n + f(r), 0);
      const expected = 2 * t.written;
      const unique = sum((r) => r.unique);
      const lost = expected - unique;
      const dups = sum((r) => r.dups);
      const readerErrors = sum((r) => r.errors) + failedOpen;
      const p99 = percentile(lat, 99);
      const readerCpus = results.map((r) => r.cpu);
      const readerBound = readerCpus.some((c) => c >= READER_BOUND_CPU);
      const ok = lost === 0 && dups === 0 && readerErrors === 0 && t.failed === 0 && p99 <= P99_LIMIT;
      const notes = [];
      if (t.written < turns * perTurn) notes.push(`${fmt(turns * perTurn - t.written)} writes short`);
      if (t.failed > 0) notes.push(`${t.failed} writes failed (${t.firstError})`);
      if (readerErrors > 0) notes.push(`${readerErrors} reader errors (${results.find((r) => r.firstError)?.firstError ?? opened.find((o) => o.firstError)?.firstError})`);
      if (sum((r) => r.reconnects) > 0) notes.push(`${sum((r) => r.reconnects)} reconnects`);
      if (readerBound) notes.push('READERS CPU-bound');
      if (machineCpu >= 0.9 * cpus.length * 100) notes.push('machine CPU-bound');
      rows.push(
        `| ${turns}${retry ? ' (again)' : ''} | ${fmt(sum((r) => r.deliveries))} / ${fmt(expected)} | ${fmt(lost)}${dups > 0 ? ` (+${fmt(dups)} dup)` : ''} | ${ms(percentile(lat, 50))} / ${ms(p99)} / ${ms(lat.max)} | ${ms(t.timerLagP99)} | ${pc(t.cpu)}${redisPid === undefined ? '' : ` (redis ${pc(redisCpu)})`} | ${readerCpus.map(pc).join(' + ')} | ${pc(machineCpu)} | ${ok ? 'ok' : 'FAIL'}${notes.length > 0 ? `: ${notes.join('; ')}` : ''} |`,
      );
      if (!ok && !retry) continue;
      if (!ok) {
        stoppedBy = readerBound ? `a failure while the readers were CPU-bound (${readerCpus.map(pc).join(' + ')}): the readers, not necessarily the server, are the limit` : 'a failure';
        break;
      }
      passed.add(turns);
      figure = turns;
    }
  } finally {
    await Promise.all([proc.stop(), ...readerProcs.map((p) => p.stop())]);
  }
  console.log(`\n#### ${storeName}\n`);
  console.log(`| turns | delivered / expected | lost | latency p50 / p99 / max | agent timer lag p99 | server CPU | readers CPU | machine CPU (of ${cpus.length * 100}%) | verdict |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  for (const row of rows) console.log(row);
  console.log(`\n**${storeName}: ${figure > 0 ? fmt(figure) : 'no step passed'}** concurrent turns with p99 ≤ ${P99_LIMIT} ms and 0 lost (ramp stopped by ${stoppedBy}).`);
}

async function capacity() {
  console.log(
    `\n### 4. Capacity: concurrent agent turns in one server process, each in its own session, started at a random moment in the first second, writing ${TURN_RATE} deltas/s for ${TURN_SECONDS} s ("<seq> <send time>"), 2 SSE readers per session in ${READER_PROCS} other process${READER_PROCS > 1 ? 'es' : ''}`,
  );
  console.log(
    `Expected = deltas written × 2. Latency: the delta's slot in its turn's 50/s schedule → arrival at a reader, so a server too busy to run its agents' timers on time counts (agent timer lag p99: how late they ran). A failing step is tried once more (the machine is shared); the ramp stops at a step that fails twice. CPU in % of one core.`,
  );
  const stores = (process.env.HOT_CAPACITY_STORES ?? 'memory,redis').split(',');
  if (stores.includes('memory')) await capacityOf('memory store', {});
  if (!stores.includes('redis')) return;
  const redis = await redisReachable();
  if (redis === undefined) {
    console.log(`\n#### Redis store\n\nRedis not reachable at ${REDIS_URL}: skipped.`);
    return;
  }
  const redisPrefix = `bench-hot:${run}:`;
  try {
    await capacityOf(`Redis store (redis ${redis.version}, a separate process on the same 2 cores)`, { store: 'redis', redisUrl: REDIS_URL, redisPrefix }, redis.pid || undefined);
  } finally {
    await deleteRedisKeys(redisPrefix);
  }
}

// ---------------------------------------------------------------- main

const version = (name) => {
  try {
    return JSON.parse(readFileSync(fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url)), 'utf8')).version;
  } catch {
    return 'not installed';
  }
};
const cpus = os.cpus();
console.log(`Hot paths (${chosen.join(', ')}), each server in its own child process`);
console.log(`${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
let wrkVersion = 'missing';
if (HAVE_WRK) {
  try {
    execFileSync('wrk', ['-v'], { encoding: 'utf8' });
  } catch (error) {
    wrkVersion = String(error.stdout).split('\n')[0].split(' Copyright')[0].trim();
  }
}
console.log(`node ${process.version}; @durable-streams/server ${version('@durable-streams/server')}; @durable-session/server ${version('@durable-session/server')}; ${wrkVersion}`);

/** How busy the machine is (all cores, % of one core) over `ms`, while this benchmark runs nothing. */
async function background(ms = 1000) {
  const total = () => os.cpus().reduce((t, c) => ({ busy: t.busy + c.times.user + c.times.nice + c.times.sys + c.times.irq, idle: t.idle + c.times.idle }), { busy: 0, idle: 0 });
  const a = total();
  await sleep(ms);
  const b = total();
  const busy = b.busy - a.busy;
  return (100 * busy * os.cpus().length) / Math.max(1, busy + b.idle - a.idle);
}

const started = performance.now();
const steps = { appends, catchup, live, capacity };
let failed = false;
try {
  for (const part of chosen) {
    try {
      const busy = await background();
      console.log(`\n(other processes: ${pc(busy)} of one core busy just before part ${part}, of ${cpus.length * 100}%${busy > 20 ? ': the machine is shared, figures below are lower than on an idle one' : ''})`);
      await steps[part]();
    } catch (error) {
      failed = true;
      console.log(`\nPART ${part} FAILED: ${error?.stack ?? error}`);
    }
  }
} finally {
  await Promise.all([...children].map((proc) => (proc.kill('SIGKILL'), undefined)));
  keepAlive.destroy();
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
process.exit(failed ? 1 : 0);
