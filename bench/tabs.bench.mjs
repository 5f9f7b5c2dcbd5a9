// Tab coordination in real Chromium (the system's, found like the tests find it, headless), against the built
// @durable-session/server on 127.0.0.1:0. Run `npm run build` first, then `node bench/tabs.bench.mjs`.
//
// 1. Latency at 200 deltas/s (1 leader + 2 followers): each delta carries the time the agent wrote it;
//    each tab records when it applied it (performance.timeOrigin + performance.now(): one browser,
//    one clock). Leader → follower is the BroadcastChannel hop; agent → tab includes the server.
// 2. Live connections reaching the server for 1, 3 and 10 tabs on one session, sampled while the
//    agent streams, with tab coordination (default) and without (`tabs: false`).
// 3. Failover: the leader closes mid-answer; time until another tab holds the lock and has resumed.
// Bounded: every wait has a deadline and a watchdog ends the process after 4 minutes.
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { createSessionServer, listen } from '@durable-session/server';
import { CHROMIUM_ARGS, INSTALL_HINT, locateChromium } from '../test/support/chromium-path.mjs';

const watchdog = setTimeout(() => {
  console.error('tabs.bench: took more than 4 minutes, giving up');
  process.exit(1);
}, 240_000);
watchdog.unref();

const RATE = 200; // deltas per second
const stamp = () => performance.timeOrigin + performance.now();

const page = await build({
  entryPoints: [fileURLToPath(new URL('../test/browser/support/page.ts', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
  logLevel: 'silent',
});
const script = page.outputFiles[0].text;
const html = '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>';

// The agent: "N" → N deltas at RATE per second, each `i@<time written, ms since epoch> `.
const server = createSessionServer({ onError: (e) => console.error('[server]', e) });
server.host.onPrompt(
  async ({ prompt, turn }) => {
    const n = Number(/\d+/.exec(prompt.text)?.[0] ?? 100);
    const t0 = performance.now();
    for (let i = 0; i < n && !turn.signal.aborted; i++) {
      const wait = t0 + (i * 1000) / RATE - performance.now();
      if (wait > 0) await sleep(wait);
      await turn.write(`${i}@${stamp().toFixed(3)} `);
    }
  },
  { agentId: 'bench' },
);
const reads = new Map(); // session id → { inFlight, total }
const running = await listen(
  async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/') return new Response(html, { headers: { 'content-type': 'text/html' } });
    if (url.pathname === '/page.js') return new Response(script, { headers: { 'content-type': 'text/javascript' } });
    const id = /^\/v1\/stream\/([^/]+)$/.exec(url.pathname)?.[1];
    if (request.method !== 'GET' || !url.searchParams.has('live') || !id) return server.handler(request);
    const key = decodeURIComponent(id);
    const count = reads.get(key) ?? { inFlight: 0, total: 0 };
    reads.set(key, count);
    count.inFlight++;
    count.total++;
    let done = false;
    const end = () => {
      if (!done) count.inFlight--;
      done = true;
    };
    request.signal.addEventListener('abort', end);
    const response = await server.handler(request).catch((e) => (end(), Promise.reject(e)));
    if (!response.body) return end(), response;
    return new Response(response.body.pipeThrough(new TransformStream({ flush: end })), { status: response.status, headers: response.headers });
  },
  { port: 0, host: '127.0.0.1', onError: (e) => console.error('[listen]', e) },
);
const executablePath = locateChromium();
if (executablePath === undefined) throw new Error(INSTALL_HINT);
const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
const context = await browser.newContext();
context.setDefaultTimeout(15_000);

let sessions = 0;
const until = async (check, ms, what) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
};
const snap = (p) => p.evaluate(() => window.snap());
/** Open `count` tabs; those that cannot load (no connection left) are `stalled`, never evaluated (it would wait). */
async function openTabs(id, count, tabs = true) {
  const pages = [];
  const stalled = [];
  for (let i = 0; i < count; i++) {
    const p = await context.newPage();
    // Without coordination, the 7th tab on finds Chromium's 6 connections per host taken by live reads: it cannot even load.
    const loaded = await p.goto(`${running.url}/?session=${id}&tabs=${tabs}`, { timeout: tabs ? 15_000 : 3_000 }).then(
      () => true,
      (e) => (tabs ? Promise.reject(e) : false),
    );
    if (!loaded) {
      stalled.push(p);
      continue;
    }
    await p.waitForFunction(() => typeof window.snap === 'function');
    pages.push(p);
  }
  return Object.assign(pages, { stalled });
}
/** Write the prompt server side (10 solo tabs hold the browser's 6 connections per host: a POST from a tab would wait). */
const prompt = (id, n) => server.host.session(id).append({ type: 'prompt', turnId: `t-${id}`, text: String(n), clientId: 'bench' });
const deltasOf = (p, id) =>
  p.evaluate((turnId) => window.applied.filter((e) => e.type === 'delta' && e.turnId === turnId).map((e) => [e.text, e.at]), `t-${id}`);
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const ms = (x) => (x === undefined ? '-' : `${x.toFixed(2)} ms`);

const started = Date.now();
const lap = (what) => console.error(`  (${what}: ${((Date.now() - started) / 1000).toFixed(1)} s since start)`);
try {
  // 1. Latency.
  {
    const id = `bench-latency-${sessions++}`;
    await server.host.session(id).ensure();
    const pages = await openTabs(id, 3);
    await until(async () => (await Promise.all(pages.map(snap))).every((s) => s.status === 'live'), 10_000, 'tabs live');
    const modes = (await Promise.all(pages.map(snap))).map((s) => s.tabs);
    const leader = pages[modes.indexOf('leader')];
    const followers = pages.filter((p) => p !== leader);
    const N = 1000; // 5 s at 200/s
    await prompt(id, N);
    await until(async () => (await Promise.all(pages.map((p) => deltasOf(p, id)))).every((d) => d.length === N), 30_000, 'all deltas');
    const at = (list) => new Map(list.map(([text, t]) => [Number(text.split('@')[0]), { t, written: Number(text.split('@')[1]) }]));
    const lead = at(await deltasOf(leader, id));
    const agentToLeader = [...lead.values()].map((x) => x.t - x.written);
    const leaderToFollower = [];
    const agentToFollower = [];
    for (const f of followers) {
      for (const [i, x] of at(await deltasOf(f, id))) {
        leaderToFollower.push(x.t - lead.get(i).t);
        agentToFollower.push(x.t - x.written);
      }
    }
    console.log(`\nLatency at ${RATE} deltas/s, ${N} deltas, 1 leader + ${followers.length} followers (Chromium ${browser.version()})`);
    console.log('| path | p50 | p90 | p99 | max |\n| --- | --- | --- | --- | --- |');
    for (const [name, xs] of [['leader → follower (BroadcastChannel)', leaderToFollower], ['agent → leader (server, SSE)', agentToLeader], ['agent → follower', agentToFollower]])
      console.log(`| ${name} | ${ms(pct(xs, 0.5))} | ${ms(pct(xs, 0.9))} | ${ms(pct(xs, 0.99))} | ${ms(Math.max(...xs))} |`);
    await Promise.all(pages.map((p) => p.close()));
    lap('latency');
  }

  // 2. Connections.
  console.log('\nLive reads reaching the server per session while the agent streams (400 deltas at 200/s)');
  console.log('| tabs | coordinated: in flight (min–max) / opened | tabs: false: in flight (min–max) / opened | tabs with the full answer (coordinated / tabs: false) |');
  console.log('| --- | --- | --- | --- |');
  for (const count of [1, 3, 10]) {
    const row = [];
    const complete = [];
    for (const tabs of [true, false]) {
      const id = `bench-conn-${sessions++}`;
      await server.host.session(id).ensure();
      const pages = await openTabs(id, count, tabs);
      // Without coordination, 10 tabs want 10 connections: Chromium allows 6 per host, the rest wait.
      await until(async () => (await Promise.all(pages.map(snap))).every((s) => s.status === 'live'), 15_000, 'tabs live');
      await prompt(id, 400);
      const samples = [];
      const end = Date.now() + 2_000;
      while (Date.now() < end) {
        samples.push(reads.get(id)?.inFlight ?? 0);
        await sleep(25);
      }
      await sleep(1_000);
      const full = (await Promise.all(pages.map((p) => deltasOf(p, id)))).filter((d) => d.length === 400).length;
      row.push(`${Math.min(...samples)}–${Math.max(...samples)} / ${reads.get(id)?.total ?? 0}`);
      complete.push(`${full}/${count}`);
      await Promise.all([...pages, ...pages.stalled].map((p) => p.close({ runBeforeUnload: false })));
      await sleep(300); // let Chromium free the connections
      lap(`${count} tabs, tabs: ${tabs}`);
    }
    console.log(`| ${count} | ${row[0]} | ${row[1]} | ${complete.join(' / ')} |`);
  }

  // 3. Failover.
  {
    const takeovers = [];
    for (let run = 0; run < 3; run++) {
      const id = `bench-failover-${sessions++}`;
      await server.host.session(id).ensure();
      const pages = await openTabs(id, 3);
      await until(async () => (await Promise.all(pages.map(snap))).every((s) => s.status === 'live'), 10_000, 'tabs live');
      const modes = (await Promise.all(pages.map(snap))).map((s) => s.tabs);
      const leader = pages[modes.indexOf('leader')];
      const rest = pages.filter((p) => p !== leader);
      await prompt(id, 400);
      await sleep(1_000);
      const closedAt = stamp();
      await leader.close();
      await until(async () => (await Promise.all(rest.map((p) => p.evaluate(() => window.ledAt)))).some((x) => x !== undefined), 5_000, 'a new leader');
      const ledAt = (await Promise.all(rest.map((p) => p.evaluate(() => window.ledAt)))).find((x) => x !== undefined);
      await until(async () => (await Promise.all(rest.map((p) => deltasOf(p, id)))).every((d) => d.length === 400), 10_000, 'the full answer');
      takeovers.push(ledAt - closedAt);
      await Promise.all(rest.map((p) => p.close()));
    }
    console.log(`\nFailover (3 tabs, leader closed mid-answer at ${RATE} deltas/s, 3 runs): lock taken by another tab ${takeovers.map((x) => x.toFixed(1)).join(', ')} ms after close() began; every remaining tab got all 400 deltas`);
  }
} finally {
  await browser.close();
  await running.close();
  await server.close();
  clearTimeout(watchdog);
}
