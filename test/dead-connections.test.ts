/**
 * Connections that die quietly (issue 10), against our server on 127.0.0.1:
 * - half-open: a proxy that stops forwarding but keeps every socket open (stall mode). The client
 *   must leave `live` within about twice the server's keep-alive interval and, once the network
 *   forwards again, recover the whole answer, with no gap and no repeat.
 * - a stream deleted and re-created (another instance) while a client was away: the client
 *   reopening from IndexedDB rebuilds with `recovered: false` (400 or 404 from today's server,
 *   410 `gone` once offsets carry the stream instance).
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDurableSession, httpAdapter, waitFor, type DurableSession, type SessionEvent } from '@durable-session/core';
import { createSessionServer, demoAgent, listen, type ListeningServer, type SessionServer } from '@durable-session/server';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';

const KEEP_ALIVE_MS = 200;
let server: SessionServer;
let running: ListeningServer;
let proxy: FaultProxy;
const open: DurableSession[] = [];
let count = 0;
const freshId = (name: string): string => `${name}-${process.pid}-${++count}`;

function client(sessionId: string, baseUrl: string, persistence: 'memory' | 'indexeddb' = 'memory'): DurableSession {
  const adapter = httpAdapter<SessionEvent>({ baseUrl, keepAliveMs: KEEP_ALIVE_MS, timeoutMs: 1000 });
  const session = createDurableSession({ sessionId, adapter, persistence, tabs: false, clientId: 'tester', reconnect: { initialDelayMs: 10, maxDelayMs: 200 } });
  open.push(session);
  return session;
}

beforeAll(async () => {
  server = createSessionServer({ closeTimeoutMs: 1000, sseKeepAliveMs: KEEP_ALIVE_MS });
  server.host.onPrompt(demoAgent({ delayMs: 20 }));
  running = await listen(server.handler, { port: 0 });
  proxy = await startFaultProxy(running.url);
});

afterAll(async () => {
  await Promise.all(open.map((session) => session.close()));
  await proxy.close();
  await running.close();
  await server.close();
});

describe('dead connections', () => {
  it('half-open: leaves live within ~2x the keep-alive interval, then recovers the whole answer', async () => {
    const sessionId = freshId('stall');
    const session = client(sessionId, proxy.url);
    await waitFor(session, (snapshot) => snapshot.status === 'live', 5000);
    const reference = client(sessionId, running.url); // straight to the server: the whole answer
    await waitFor(reference, (snapshot) => snapshot.status === 'live', 5000);
    const turnId = await session.send('tell me something long enough to stream for a while');
    await waitFor(session, (snapshot) => (snapshot.turns.at(-1)?.text.length ?? 0) > 0, 5000);

    proxy.stall(true);
    const stalledAt = Date.now();
    await waitFor(session, (snapshot) => snapshot.status !== 'live', 5000);
    const noticedMs = Date.now() - stalledAt;
    // Dead after 2 x 200 ms without a byte (plus a data chunk or keep-alive already in flight).
    expect(noticedMs).toBeLessThan(2 * KEEP_ALIVE_MS + 600);

    await new Promise((resolve) => setTimeout(resolve, 500));
    proxy.stall(false);
    const done = (snapshot: ReturnType<DurableSession['get']>) => snapshot.turns.find((turn) => turn.turnId === turnId)?.status === 'complete';
    const expected = await waitFor(reference, done, 20_000);
    const recovered = await waitFor(session, done, 10_000);
    expect(recovered.turns).toEqual(expected.turns);
  });

  it('a stream deleted and re-created meanwhile: the client reopening from IndexedDB rebuilds with recovered: false', async () => {
    const sessionId = freshId('recreated');
    const first = client(sessionId, running.url, 'indexeddb');
    await waitFor(first, (snapshot) => snapshot.status === 'live', 5000);
    for (const text of ['one', 'two', 'three']) await first.emit({ type: 'note', text } as never);
    await waitFor(first, (snapshot) => snapshot.offset !== '-1' && snapshot.status === 'live', 5000);
    const savedOffset = first.get().offset;
    await first.close();

    // Deleted and created again with fewer events: today's server answers the old offset 400 (beyond the
    // tail), a server whose offsets carry the stream instance answers 410. Either way: gone.
    expect((await fetch(`${running.url}/v1/stream/${sessionId}`, { method: 'DELETE' })).status).toBeLessThan(300);
    expect((await fetch(`${running.url}/v1/stream/${sessionId}`, { method: 'PUT', headers: { 'content-type': 'application/json' } })).status).toBeLessThan(300);
    await fetch(`${running.url}/v1/stream/${sessionId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'note', text: 'new' }) });

    const reopened = client(sessionId, running.url, 'indexeddb');
    const rebuilt = await waitFor(reopened, (snapshot) => !snapshot.recovered && snapshot.status === 'live', 5000);
    expect(savedOffset).not.toBe('-1');
    expect(rebuilt.resumed).toBe(false);
    expect(rebuilt.offset).not.toBe(savedOffset);
  });
});
