/**
 * The core client against our own server on 127.0.0.1, with the demo agent streaming:
 * - a fault-injecting TCP proxy cuts the connection at random points (≥ 200 cuts across both
 *   live modes) and the client's applied events still equal the session log exactly;
 * - a "reload" (a second session object on the same IndexedDB) reads only what it missed,
 *   counted on the wire;
 * - cancel and steer written by the client reach the agent; cut connections never cancel.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDurableSession,
  httpAdapter,
  waitFor,
  type DurableSession,
  type SessionEvent,
  type SessionSnapshot,
} from '@durable-session/core';
import { createSessionServer, demoAgent, listen, type ListeningServer, type SessionServer } from '@durable-session/server';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';

let server: SessionServer;
let running: ListeningServer;
/** Turn ids whose agent saw its AbortSignal fire. */
const aborted = new Set<string>();
let n = 0;
const freshId = (name: string): string => `${name}-${process.pid}-${++n}`;
const open: DurableSession[] = [];

function session(sessionId: string, baseUrl: string, extra: { live?: 'sse' | 'long-poll'; persistence?: 'memory' | 'indexeddb'; fetch?: typeof fetch } = {}): DurableSession {
  const adapter = httpAdapter<SessionEvent>({ baseUrl, live: extra.live ?? 'sse', ...(extra.fetch ? { fetch: extra.fetch } : {}) });
  const s = createDurableSession({
    sessionId,
    adapter,
    persistence: extra.persistence ?? 'memory',
    clientId: 'tester',
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
  });
  open.push(s);
  return s;
}

/** Every event of the session, as the server holds it. */
async function serverLog(sessionId: string): Promise<unknown[]> {
  const events: unknown[] = [];
  let from = '-1';
  for (let i = 0; i < 10_000; i++) {
    const read = await server.host.session(sessionId).read({ from, limit: 1000 });
    events.push(...read.events.map((e) => e.event));
    from = read.next;
    if (read.upToDate) return events;
  }
  throw new Error('log did not end');
}

const lastTurn = (s: SessionSnapshot) => s.turns.at(-1);
const settled = (turnId: string) => (s: SessionSnapshot) => {
  const turn = s.turns.find((t) => t.turnId === turnId);
  return turn !== undefined && turn.status !== 'streaming';
};

beforeAll(async () => {
  server = createSessionServer({ closeTimeoutMs: 1000 });
  const agent = demoAgent({ delayMs: 2 });
  server.host.onPrompt((context) => {
    context.turn.signal.addEventListener('abort', () => aborted.add(context.prompt.turnId));
    return agent(context);
  });
  running = await listen(server.handler, { port: 0 });
});

afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await running.close();
  await server.close();
});

describe.each(['sse', 'long-poll'] as const)('through a proxy that cuts connections (%s)', (live) => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(running.url);
  });
  afterAll(() => proxy.close());

  it('applies exactly the session log, in order, across ≥ 100 cuts', async () => {
    const sessionId = freshId(`cuts-${live}`);
    const client = session(sessionId, proxy.url, { live });
    const applied: unknown[] = [];
    client.on('event', ({ event }) => applied.push(event));
    const cutter = proxy.cutRandomly({ minMs: 5, maxMs: 40, count: 110 });
    let cutting = true;
    void cutter.done.then(() => (cutting = false));
    const deadline = Date.now() + 60_000;
    const turnIds: string[] = [];
    // Long answers while the proxy keeps cutting; bounded by count and time.
    while (cutting && Date.now() < deadline) {
      const turnId = await client.send('answer with 400 words');
      turnIds.push(turnId);
      await waitFor(client, settled(turnId), 30_000);
    }
    cutter.stop();
    expect(await cutter.done).toBeGreaterThanOrEqual(100);
    expect(proxy.accepted).toBeGreaterThan(100); // the client reconnected after the cuts

    const log = await serverLog(sessionId);
    await waitFor(client, (s) => s.state.turns.length === turnIds.length && turnIds.every((id) => settled(id)(s)), 10_000);
    // Wait until the client has read up to the log's end, then compare event for event.
    await waitFor(client, () => applied.length >= log.length, 10_000);
    expect(applied).toEqual(log);
    for (const turn of client.get().turns) expect(turn.status).toBe('complete');
    for (const id of turnIds) expect(aborted.has(id)).toBe(false);
  });
});

describe('reload', () => {
  it('renders from IndexedDB and reads only the events after the saved offset (counted on the wire)', async () => {
    const sessionId = freshId('reload');
    const first = session(sessionId, running.url, { persistence: 'indexeddb', live: 'long-poll' });
    const t1 = await first.send('answer with 20 words');
    await waitFor(first, settled(t1), 10_000);
    const before = (await serverLog(sessionId)).length;
    await first.close();

    // Meanwhile another device writes a second turn.
    const other = session(sessionId, running.url);
    const t2 = await other.send('answer with 30 words');
    await waitFor(other, settled(t2), 10_000);
    const total = (await serverLog(sessionId)).length;

    // Count events delivered in GET responses (long-poll bodies are JSON arrays).
    let onWire = 0;
    const firstReadOffsets: string[] = [];
    const countingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = new URL(String(input));
      if ((init?.method ?? 'GET') === 'GET' && res.status === 200) {
        firstReadOffsets.push(url.searchParams.get('offset') ?? '');
        const body = (await res.clone().json()) as unknown[];
        onWire += body.length;
      }
      return res;
    };
    const reloaded = session(sessionId, running.url, { persistence: 'indexeddb', live: 'long-poll', fetch: countingFetch });
    const resumed = await waitFor(reloaded, (s) => s.resumed, 5_000);
    expect(resumed.turns.map((t) => t.turnId)).toContain(t1);
    await waitFor(reloaded, settled(t2), 10_000);
    expect(firstReadOffsets[0]).not.toBe('-1');
    expect(onWire).toBe(total - before);
    expect(reloaded.get().turns.find((t) => t.turnId === t2)?.text).toBe(other.get().turns.find((t) => t.turnId === t2)?.text);
  });
});

describe('control events', () => {
  it('steer reaches the running agent and cancel aborts its signal; every client sees it cancelled', async () => {
    const sessionId = freshId('control');
    const a = session(sessionId, running.url);
    const b = session(sessionId, running.url, { live: 'long-poll' });
    const turnId = await a.send('answer with 3000 words');
    await waitFor(b, (s) => (lastTurn(s)?.text.length ?? 0) > 20, 10_000);
    await b.steer('cats and dogs', turnId);
    await waitFor(a, (s) => lastTurn(s)?.text.includes('[steered: cats and dogs]') === true, 10_000);
    await b.cancel();
    await waitFor(a, settled(turnId), 10_000);
    await waitFor(b, settled(turnId), 10_000);
    expect(a.get().turns.at(-1)?.status).toBe('cancelled');
    expect(b.get().turns.at(-1)?.status).toBe('cancelled');
    expect(aborted.has(turnId)).toBe(true);
    const log = (await serverLog(sessionId)) as SessionEvent[];
    expect(log.filter((e) => e.type === 'cancel')).toHaveLength(1);
    expect(log.filter((e) => e.type === 'steer')).toEqual([{ type: 'steer', turnId, text: 'cats and dogs', clientId: 'tester', steerId: expect.any(String) }]);
    expect(log.at(-1)).toMatchObject({ type: 'turn.end', turnId, reason: 'cancelled' });
  });

  it('a client that goes away mid-answer cancels nothing', async () => {
    const sessionId = freshId('gone');
    const a = session(sessionId, running.url);
    const turnId = await a.send('answer with 200 words');
    await waitFor(a, (s) => (lastTurn(s)?.text.length ?? 0) > 10, 10_000);
    await a.close();
    const watcher = session(sessionId, running.url);
    await waitFor(watcher, settled(turnId), 20_000);
    expect(watcher.get().turns.at(-1)?.status).toBe('complete');
    expect(aborted.has(turnId)).toBe(false);
  });
});
