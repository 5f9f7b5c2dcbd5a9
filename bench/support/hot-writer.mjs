// HTTP clients for bench/hot.bench.mjs, in their own process. On IPC:
//   { id, op: 'paced', url, rate, seconds, inFlight }  POST { type: 'bench', i, t: send time } to `url` at
//       `rate`/s for `seconds`, open loop (up to `inFlight` requests at once on keep-alive connections).
//   { id, op: 'flood', url, writers, seconds } the load generator when wrk is missing: `writers` keep-alive
//       connections, each one POST in flight, as fast as they are answered.
//   { id, op: 'catchup', url, runs }          read a stream from offset -1 to its end: a warm-up that parses
//       and counts its events, then `runs` reads counting bytes only; replies with the fastest.
// Each replies with its counts (non-2xx and socket errors apart) and this process's CPU (% of one core).
import http from 'node:http';
import { readPages } from './hot-pages.mjs';

const wall = () => performance.timeOrigin + performance.now();
const pct = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
const FLOOD_BODY = JSON.stringify({ type: 'bench', i: 1, text: 'hello world' });

/** POST `body`; resolves with the status (-1 on a socket error) once the response was read. */
function post(agent, url, body) {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(-1));
    });
    req.on('error', () => resolve(-1));
    req.end(body);
  });
}

function cpuSince(from) {
  const used = process.cpuUsage(from.usage);
  return (100 * (used.user + used.system)) / 1000 / Math.max(1, performance.now() - from.at);
}

/**
 * Open loop: the i-th POST is sent at start + i/rate (at once when late), on up to `inFlight` keep-alive
 * connections, so a slow answer does not lower the offered rate (it waits only when all are busy).
 */
async function paced({ url, rate, seconds, inFlight = 32 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  const total = Math.round(rate * seconds);
  const from = { usage: process.cpuUsage(), at: performance.now() };
  const start = performance.now();
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  let busy = 0;
  let saturated = 0;
  let wake = () => {};
  const answered = (status) => {
    busy--;
    if (status >= 200 && status < 300) ok++;
    else if (status === -1) errors++;
    else non2xx++;
    wake();
  };
  for (let i = 0; i < total && performance.now() - start < seconds * 1000 + 1000; i++) { // behind schedule: stops 1 s late
    const ahead = start + (i * 1000) / rate - performance.now();
    if (ahead >= 1) await new Promise((resolve) => setTimeout(resolve, ahead));
    if (busy >= inFlight) {
      saturated++;
      while (busy >= inFlight) await new Promise((resolve) => (wake = resolve));
    }
    busy++;
    sent++;
    post(agent, url, JSON.stringify({ type: 'bench', i, t: wall() })).then(answered);
  }
  const sendMs = performance.now() - start;
  for (let wait = 0; busy > 0 && wait < 30_000; wait += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  agent.destroy();
  return { sent, ok, non2xx, errors, elapsedMs: sendMs, saturated, cpu: cpuSince(from) };
}

async function flood({ url, writers, seconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: writers });
  const from = { usage: process.cpuUsage(), at: performance.now() };
  const start = performance.now();
  const end = start + seconds * 1000;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const times = [];
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let n = 0; n < 10_000_000 && performance.now() < end; n++) {
        const t = performance.now();
        const status = await post(agent, url, FLOOD_BODY);
        if (times.length < 2_000_000) times.push(performance.now() - t);
        if (status >= 200 && status < 300) ok++;
        else if (status === -1) errors++;
        else non2xx++;
      }
    }),
  );
  const elapsedMs = performance.now() - start;
  agent.destroy();
  times.sort((a, b) => a - b);
  return { requests: ok + non2xx, ok, non2xx, errors, elapsedMs, cpu: cpuSince(from), p50: pct(times, 50), p99: pct(times, 99) };
}

/** GET `url` on `agent`; resolves with status, headers, byte count and (when `parse`) the body text. */
function get(agent, url, parse) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks = [];
      let bytes = 0;
      res.on('data', (chunk) => {
        bytes += chunk.length;
        if (parse) chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, body: parse ? Buffer.concat(chunks).toString('utf8') : undefined }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${url}: no answer in 30 s`)));
    req.on('error', reject);
  });
}

/** Read `url` from offset -1, following Stream-Next-Offset until Stream-Up-To-Date (bytes only, or parsed and counted). */
function readAll(agent, url, parse) {
  return readPages((page) => get(agent, page, parse), url, parse);
}

/**
 * Catch-up client: one keep-alive connection, no Accept-Encoding. A warm-up read that parses and counts
 * the events, then `runs` timed reads that only count bytes; the fastest is returned.
 */
async function catchup({ url, runs }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const warm = await readAll(agent, url, true);
    let best;
    for (let r = 0; r < runs; r++) {
      const from = { usage: process.cpuUsage(), at: performance.now() };
      const read = await readAll(agent, url, false);
      const elapsed = performance.now() - from.at;
      if (best === undefined || elapsed < best.elapsed) best = { ...read, elapsed, cpu: cpuSince(from) };
    }
    return { warmEvents: warm.events, best };
  } finally {
    agent.destroy();
  }
}

process.on('message', async (message) => {
  const reply = (body) => process.send({ id: message.id, ...body });
  try {
    if (message.op === 'paced') reply(await paced(message));
    else if (message.op === 'flood') reply(await flood(message));
    else if (message.op === 'catchup') reply(await catchup(message));
    else reply({ error: `unknown op ${message.op}` });
  } catch (error) {
    reply({ error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
