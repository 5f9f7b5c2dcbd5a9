// One server for bench/hot.bench.mjs, in its own process (so it has a core to itself):
//   node hot-server.mjs ours|reference|bare '{"store":"memory"|"redis","redisUrl":"…","redisPrefix":"…","server":{createSessionServer options}}'
// It sends { url } on IPC once listening, then answers requests { id, op, … } with { id, … }:
//   cpu-start / cpu-read  the process CPU (user + system) since cpu-start, as % of one core;
//   bare-count            (bare) the POSTs answered and body bytes read since the last bare-count;
//   fill                  (ours) append events straight into the store (clients may not POST `delta`);
//   turns                 (ours) in-process agents: one turn per session, `rate` deltas/s each for `seconds`;
//   gc                    a full garbage collection (between filling and measuring);
//   stop                  close everything and exit.
// It exits by itself when its parent goes away (IPC disconnect).
import { createServer } from 'node:http';

const kind = process.argv[2];
const options = JSON.parse(process.argv[3] ?? '{}');

let url;
let stop = async () => {};
let ours;
let bare = { posts: 0, bytes: 0, seq: 0 };

if (kind === 'ours') {
  const { createSessionServer, listen } = await import('@durable-session/server');
  let store;
  if (options.store === 'redis') {
    const { redisStore } = await import('@durable-session/redis');
    store = redisStore({ url: options.redisUrl, prefix: options.redisPrefix });
  }
  const serverOptions = { onError: (error) => console.error('[hot-server]', error) };
  if (store !== undefined) serverOptions.store = store;
  Object.assign(serverOptions, options.server); // e.g. maxLiveReadersPerSession, maxSessionEvents
  ours = createSessionServer(serverOptions);
  const running = await listen(ours, { port: 0, host: '127.0.0.1' });
  url = running.url;
  stop = async () => {
    await running.close();
    await ours.close();
    await store?.close();
  };
} else if (kind === 'reference') {
  const { DurableStreamTestServer } = await import('@durable-streams/server');
  const reference = new DurableStreamTestServer({ host: '127.0.0.1', port: 0, longPollTimeout: 20_000 });
  url = await reference.start();
  stop = () => reference.stop();
} else if (kind === 'bare') {
  // Stores nothing: reads every request body, answers POST 204, PUT 201, anything else 200 empty.
  // A GET with `live=sse` stays open: every later POST body to that path is written to it at once as
  // `event: data` (the body in a JSON array) + `event: control`, one write per POST per reader: the
  // floor of what a fan-out costs on this machine, without a store, offsets or batching.
  const live = new Map(); // path → Set of responses
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const [path, query = ''] = req.url.split('?');
    if (req.method === 'GET' && query.includes('live=sse')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('event: control\ndata:{"streamNextOffset":"0","upToDate":true}\n\n');
      if (!live.has(path)) live.set(path, new Set());
      live.get(path).add(res);
      req.on('close', () => live.get(path)?.delete(res));
      return;
    }
    const chunks = [];
    let bytes = 0;
    req.on('data', (chunk) => {
      bytes += chunk.length;
      if (live.has(path)) chunks.push(chunk);
    });
    req.on('end', () => {
      if (req.method === 'POST') {
        bare.posts++;
        bare.bytes += bytes;
        const readers = live.get(path);
        if (readers !== undefined && readers.size > 0) {
          bare.seq++;
          const text = `event: data\ndata:[${Buffer.concat(chunks).toString('utf8')}]\n\nevent: control\ndata:{"streamNextOffset":"${bare.seq}","upToDate":true}\n\n`;
          for (const reader of readers) reader.write(text);
        }
        res.writeHead(204).end();
      } else res.writeHead(req.method === 'PUT' ? 201 : 200, { 'content-length': '0' }).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${server.address().port}`;
  stop = () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
} else {
  throw new Error(`unknown server kind ${kind}`);
}

let cpuFrom = { usage: process.cpuUsage(), at: performance.now() };
const cpuPct = (from) => {
  const used = process.cpuUsage(from.usage);
  return (100 * (used.user + used.system)) / 1000 / Math.max(1, performance.now() - from.at);
};

const pct = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);

/**
 * One agent turn per session: each starts at a random moment in the first `staggerMs` (turns come and
 * go at different times, not all in one tick), then writes `rate` deltas/s for `seconds` (own timer,
 * catching up when late), then `turn.end()`. A delta's text is `"<seq> <send time>"`, the send time
 * being its slot in that schedule (performance.timeOrigin-based): when an overloaded event loop runs
 * the timer late, the delay counts, as it would for tokens arriving from a model. Writes are not
 * awaited one by one (the turn queues them in order), like an agent relaying tokens as they come.
 */
async function runTurns({ sessions, rate, seconds, staggerMs = 1000 }) {
  const interval = 1000 / rate;
  const perTurn = Math.round(rate * seconds);
  const from = { usage: process.cpuUsage(), at: performance.now() };
  const lags = new Float64Array(sessions.length * perTurn);
  let lagCount = 0;
  let written = 0;
  let failed = 0;
  let firstError;
  const fail = (error) => {
    failed++;
    firstError ??= String(error?.message ?? error);
  };
  const start = performance.now();
  const runTurn = async (id) => {
    const turn = await ours.host.session(id).startTurn({ agentId: 'bench' });
    const t0 = performance.now();
    const pending = [];
    await new Promise((resolve) => {
      let seq = 0;
      const tick = () => {
        const now = performance.now();
        // every delta whose slot has come (more than one when this timer ran late)
        while (seq < perTurn && t0 + seq * interval <= now) {
          const slot = t0 + seq * interval;
          lags[lagCount++] = now - slot;
          pending.push(turn.write(`${seq} ${performance.timeOrigin + slot}`).then(() => written++, fail));
          seq++;
        }
        if (seq < perTurn) setTimeout(tick, Math.max(0, t0 + seq * interval - performance.now()));
        else resolve();
      };
      tick();
    });
    await Promise.all(pending);
    await turn.end();
  };
  await Promise.all(
    sessions.map(
      (id) =>
        new Promise((resolve) => {
          setTimeout(() => runTurn(id).catch(fail).finally(resolve), Math.random() * staggerMs);
        }),
    ),
  );
  const elapsed = performance.now() - start;
  const sorted = lags.subarray(0, lagCount).sort();
  return { written, failed, firstError, elapsedMs: elapsed, cpu: cpuPct(from), timerLagP99: pct(sorted, 99) };
}

/**
 * (ours) Append `events` (JSON values) to stream `id` straight into the server's store, 1000 a call,
 * one entry each: what agents write, which clients are refused from POSTing (`delta`).
 */
async function fill({ stream, events }) {
  const encoder = new TextEncoder();
  for (let i = 0; i < events.length; i += 1000) {
    const entries = events.slice(i, i + 1000).map((e) => encoder.encode(JSON.stringify(e)));
    const outcome = await ours.store.append(stream, { entries, contentType: 'application/json' });
    if (outcome.status !== 'appended') throw new Error(`fill ${stream}: ${outcome.status}`);
  }
  return { appended: events.length };
}

process.on('message', async (message) => {
  const reply = (body) => process.send({ id: message.id, ...body });
  try {
    if (message.op === 'cpu-start') {
      cpuFrom = { usage: process.cpuUsage(), at: performance.now() };
      reply({});
    } else if (message.op === 'cpu-read') reply({ cpu: cpuPct(cpuFrom) });
    else if (message.op === 'bare-count') {
      reply({ ...bare });
      bare = { posts: 0, bytes: 0, seq: bare.seq };
    } else if (message.op === 'turns') reply(await runTurns(message));
    else if (message.op === 'fill') reply(await fill(message));
    else if (message.op === 'gc') {
      globalThis.gc?.(); // the process runs with --expose-gc
      reply({});
    }
    else if (message.op === 'stop') {
      await stop();
      reply({});
      process.exit(0);
    } else reply({ error: `unknown op ${message.op}` });
  } catch (error) {
    reply({ error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => {
  stop().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
process.send({ url });
