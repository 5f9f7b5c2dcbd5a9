// How long one catch-up GET (handler call to body read, almost all of it synchronous) of a page of tiny entries holds the event loop (issue 10): a session of
// 100,000 `{"type":"x"}` events read from the start, with the default `maxReadEntries` (1000) and
// with no entry bound (what main did). Runs on the built server package, in-process.
import { createSessionServer } from '@durable-session/server';

const EVENTS = 100_000;

async function measure(label, options) {
  const server = createSessionServer({ onError: () => undefined, maxSessionEvents: EVENTS, ...options });
  const call = (query, init) => server.handler(new Request(`http://x/v1/stream/tiny${query}`, init));
  await call('', { method: 'PUT', headers: { 'content-type': 'application/json' } });
  const batch = JSON.stringify(Array.from({ length: 100 }, () => ({ type: 'x' })));
  for (let i = 0; i < EVENTS / 100; i++) await call('', { method: 'POST', headers: { 'content-type': 'application/json' }, body: batch });
  const times = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    const res = await call('?offset=-1');
    await res.arrayBuffer();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`| ${label} | ${times[10].toFixed(1)} ms | ${times[19].toFixed(1)} ms |`);
  await server.close();
}

console.log('| catch-up GET from -1 of 100,000 tiny events | p50 | max |');
console.log('| --- | --- | --- |');
await measure('`maxReadEntries` 1000: 1000 entries per response', { maxReadEntries: 1000 });
await measure('`maxReadEntries` 10,000 (default): 10,000 entries per response', {});
await measure('no entry bound (main): all 100,000 in one response', { maxReadEntries: Number.MAX_SAFE_INTEGER });
