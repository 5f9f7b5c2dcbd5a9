// SSE readers for bench/hot.bench.mjs, in their own process (apart from the server). On IPC:
//   { id, op: 'open', urls, mode, maxSeq }  open one `live=sse` reader per URL (URLs may repeat), reply once each
//       has its first control event (or failed). mode 'live': events { i, t } from the writer; mode 'turn':
//       a turn's `delta` events with text "<seq> <send time>", done at its `turn.end`.
//   { id, op: 'await', sent, idleMs, timeoutMs }  reply when every reader has all `sent` events (live) or its
//       turn.end (turn), or once nothing arrived for idleMs (what is missing then counts as lost), or after
//       timeoutMs: the counts, delivery latency and this process's CPU.
//   { id, op: 'close' }                     close every reader.
// Latency (a histogram, see hot-stats.mjs) = arrival (performance.timeOrigin + performance.now(), read once per chunk) − the event's send time.
import http from 'node:http';
import { histogram, pack, record } from './hot-stats.mjs';

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const wall = () => performance.timeOrigin + performance.now();

let readers = [];
let mode = 'live';
let maxSeq = 0;
let closing = false;
let latencies = histogram();
let cpuFrom = { usage: process.cpuUsage(), at: performance.now() };

/**
 * The JSON text of an SSE event's data lines (one leading space after `data:` dropped, as the spec
 * says). Lines are joined without the newline: the same JSON, since a JSON string holds no raw newline.
 */
function dataOf(block, from) {
  let out = '';
  for (const line of block.slice(from).split('\n')) {
    if (line.startsWith('data:')) out += line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
  }
  return out;
}

function onEvents(reader, events, now) {
  for (const e of events) {
    let seq;
    let sent;
    if (mode === 'live') {
      if (e.type !== 'bench') continue;
      seq = e.i;
      sent = e.t;
    } else {
      if (e.type === 'turn.end') {
        reader.done = true;
        continue;
      }
      if (e.type !== 'delta') continue;
      const space = e.text.indexOf(' ');
      seq = Number(e.text.slice(0, space));
      sent = Number(e.text.slice(space + 1));
    }
    reader.deliveries++;
    record(latencies, now - sent);
    if (!(seq >= 0 && seq < maxSeq)) reader.unexpected++;
    else if (reader.seen[seq] === 1) reader.dups++;
    else {
      reader.seen[seq] = 1;
      reader.unique++;
    }
  }
}

function onBlock(reader, block, now) {
  if (block.startsWith('event: data')) {
    onEvents(reader, JSON.parse(dataOf(block, 12)), now);
  } else if (block.startsWith('event: control')) {
    const control = JSON.parse(dataOf(block, 15));
    if (control.streamNextOffset !== undefined) reader.offset = control.streamNextOffset;
    if (!reader.ready) {
      reader.ready = true;
      reader.onReady();
    }
  } // comments (keep-alive) ignored
}

function connect(reader) {
  const target = new URL(reader.url);
  target.searchParams.set('offset', reader.offset);
  target.searchParams.set('live', 'sse');
  const req = http.get(target, { agent }, (res) => {
    if (res.statusCode !== 200) {
      reader.error ??= `HTTP ${res.statusCode}`;
      res.resume();
      reader.onReady();
      return;
    }
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      const now = wall();
      let buf = reader.buf + chunk;
      let start = 0;
      for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n', start)) {
        onBlock(reader, buf.slice(start, end), now);
        start = end + 2;
      }
      reader.buf = start === 0 ? buf : buf.slice(start);
    });
    res.on('end', () => reopen(reader));
    res.on('error', () => reopen(reader));
  });
  req.on('error', (error) => {
    if (closing) return;
    reader.error ??= String(error.message);
    reader.onReady();
  });
  reader.req = req;
}

/** The server ended the response (its SSE lifetime): reconnect from the last offset, like a client would (counted). */
function reopen(reader) {
  if (closing || reader.closed || reader.error !== undefined) return;
  reader.reconnects++;
  reader.buf = '';
  if (reader.reconnects <= 5) connect(reader);
  else reader.error = 'reconnected more than 5 times';
}

function open(urls, options) {
  closing = false;
  mode = options.mode;
  maxSeq = options.maxSeq;
  latencies = histogram();
  readers = urls.map((url) => ({
    url, offset: 'now', buf: '', ready: false, done: false, closed: false,
    deliveries: 0, unique: 0, dups: 0, unexpected: 0, reconnects: 0, error: undefined,
    seen: new Uint8Array(maxSeq), req: undefined, onReady: () => {},
  }));
  cpuFrom = { usage: process.cpuUsage(), at: performance.now() };
  return Promise.all(
    readers.map(
      (reader) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => {
            reader.error ??= 'no first control event in 10 s';
            resolve();
          }, 10_000);
          reader.onReady = () => {
            clearTimeout(timer);
            reader.onReady = () => {};
            resolve();
          };
          connect(reader);
        }),
    ),
  ).then(() => {
    const failed = readers.filter((r) => r.error !== undefined);
    return { ready: readers.length - failed.length, failed: failed.length, firstError: failed[0]?.error };
  });
}

async function awaitAll({ sent, idleMs = 3000, timeoutMs = 30_000 }) {
  const complete = (r) => r.error !== undefined || (mode === 'live' ? r.unique >= sent : r.done);
  const until = performance.now() + timeoutMs;
  let seen = -1;
  let progressAt = performance.now();
  while (performance.now() < until && !readers.every(complete)) {
    const now = latencies.count;
    if (now !== seen) {
      seen = now;
      progressAt = performance.now();
    } else if (performance.now() - progressAt > idleMs) break; // nothing arrived for idleMs: what is missing is lost
    await new Promise((r) => setTimeout(r, 20));
  }
  const used = process.cpuUsage(cpuFrom.usage);
  const cpu = (100 * (used.user + used.system)) / 1000 / Math.max(1, performance.now() - cpuFrom.at);
  const sum = (f) => readers.reduce((n, r) => n + f(r), 0);
  return {
    readers: readers.length,
    complete: readers.filter(complete).length,
    deliveries: sum((r) => r.deliveries),
    unique: sum((r) => r.unique),
    dups: sum((r) => r.dups),
    unexpected: sum((r) => r.unexpected),
    reconnects: sum((r) => r.reconnects),
    errors: readers.filter((r) => r.error !== undefined).length,
    firstError: readers.find((r) => r.error !== undefined)?.error,
    latency: pack(latencies),
    cpu,
  };
}

function closeAll() {
  closing = true;
  for (const r of readers) {
    r.closed = true;
    r.req?.destroy();
  }
  readers = [];
}

process.on('message', async (message) => {
  const reply = (body) => process.send({ id: message.id, ...body });
  try {
    if (message.op === 'open') reply(await open(message.urls, message));
    else if (message.op === 'await') reply(await awaitAll(message));
    else if (message.op === 'close') {
      closeAll();
      reply({});
    } else reply({ error: `unknown op ${message.op}` });
  } catch (error) {
    reply({ error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => {
  closeAll();
  process.exit(0);
});
process.send({ ready: true });
