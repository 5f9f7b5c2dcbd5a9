/**
 * The WebSocket adapter against our server on 127.0.0.1, with the demo agent streaming:
 * - through a fault-injecting TCP proxy that cuts the one shared socket ≥ 200 times, several
 *   sessions on it at once each apply exactly their session's log, and every prompt lands once;
 * - a reader on SSE and a reader on the socket see the same events at the same offsets;
 * - cancel and steer over the socket reach the agent; closing the socket cancels nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createDurableSession, httpAdapter, waitFor, type DurableSession, type ReadBatch, type SessionEvent, type SessionSnapshot } from '@durable-session/core';
import { websocketAdapter, type WebSocketAdapter } from '@durable-session/core/websocket';
import { createSessionServer, demoAgent, parseOffset, listen, type ListeningServer, type SessionServer } from '@durable-session/server';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';

let server: SessionServer;
let running: ListeningServer;
const aborted = new Set<string>();
let n = 0;
const freshId = (name: string): string => `ws-${name}-${process.pid}-${++n}`;
const open: DurableSession[] = [];
const socketUrl = (httpUrl: string): string => `${httpUrl.replace('http', 'ws')}/v1/socket`;

function session(sessionId: string, adapter: WebSocketAdapter<SessionEvent> | ReturnType<typeof httpAdapter<SessionEvent>>): DurableSession {
  const s = createDurableSession({ sessionId, adapter, persistence: 'memory', clientId: 'tester', tabs: false, reconnect: { initialDelayMs: 10, maxDelayMs: 100 } });
  open.push(s);
  return s;
}

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

const settled = (turnId: string) => (s: SessionSnapshot) => {
  const turn = s.turns.find((t) => t.turnId === turnId);
  return turn !== undefined && turn.status !== 'streaming';
};

beforeAll(async () => {
  server = createSessionServer({ closeTimeoutMs: 1000 });
  const agent = demoAgent({ delayMs: 2 });
  server.host.onPrompt(async (context) => {
    const id = context.prompt.turnId;
    context.turn.signal.addEventListener('abort', () => aborted.add(id));
    return agent(context);
  });
  running = await listen(server, { port: 0 });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await running.close();
  await server.close();
});

describe('through a proxy that cuts the shared socket', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(running.url);
  });
  afterAll(() => proxy.close());

  it('three sessions on one socket each apply exactly their log across ≥ 200 cuts; every prompt lands once', async () => {
    const adapter = websocketAdapter<SessionEvent>({ url: socketUrl(proxy.url), WebSocket, pingIntervalMs: 1000, reconnect: { initialDelayMs: 5, maxDelayMs: 50 } });
    const ids = [freshId('cuts-a'), freshId('cuts-b'), freshId('cuts-c')];
    const clients = ids.map((id) => session(id, adapter));
    const applied = clients.map(() => [] as unknown[]);
    clients.forEach((c, i) => c.on('event', ({ event }) => applied[i]!.push(event)));
    const cutter = proxy.cutRandomly({ minMs: 5, maxMs: 30, count: 210 });
    let cutting = true;
    void cutter.done.then(() => (cutting = false));
    const deadline = Date.now() + 90_000;
    const turnIds = clients.map(() => [] as string[]);
    await Promise.all(
      clients.map(async (client, i) => {
        while (cutting && Date.now() < deadline) {
          const turnId = await client.send('answer with 300 words');
          turnIds[i]!.push(turnId);
          await waitFor(client, settled(turnId), 30_000);
        }
      }),
    );
    cutter.stop();
    const cuts = await cutter.done;
    expect(cuts).toBeGreaterThanOrEqual(200);
    // One socket at a time carried all three sessions: each cut cost one reconnect, not three.
    expect(adapter.sockets).toBeGreaterThan(200);
    expect(adapter.sockets).toBeLessThanOrEqual(cuts + 1);
    for (const [i, client] of clients.entries()) {
      const log = (await serverLog(ids[i]!)) as SessionEvent[];
      await waitFor(client, () => applied[i]!.length >= log.length, 10_000);
      expect(applied[i]).toEqual(log);
      const prompts = log.filter((e) => e.type === 'prompt').map((e) => e.turnId);
      expect(prompts).toEqual(turnIds[i]); // exactly once each, in order
      for (const turn of client.get().turns) expect(turn.status).toBe('complete');
      for (const id of turnIds[i]!) expect(aborted.has(id)).toBe(false);
    }
  }, 120_000);
});

describe('the same session over SSE and over the socket', () => {
  it('yields the same events at the same offsets', async () => {
    const id = freshId('same');
    const writer = session(id, httpAdapter<SessionEvent>({ baseUrl: running.url }));
    const t1 = await writer.send('answer with 120 words');
    const reads = async (adapter: ReturnType<typeof httpAdapter<SessionEvent>>): Promise<ReadBatch<SessionEvent>[]> => {
      const stop = new AbortController();
      const batches: ReadBatch<SessionEvent>[] = [];
      const timer = setTimeout(() => stop.abort(), 20_000);
      try {
        for await (const batch of adapter.read(id, '-1', { live: true, signal: stop.signal })) {
          batches.push(batch);
          if (batch.events.some((e) => e.type === 'turn.end' && e.turnId === t1)) break;
        }
      } finally {
        clearTimeout(timer);
      }
      return batches;
    };
    const ws = websocketAdapter<SessionEvent>({ url: socketUrl(running.url), WebSocket });
    const [overSse, overSocket] = await Promise.all([reads(httpAdapter<SessionEvent>({ baseUrl: running.url, live: 'sse' })), reads(ws)]);
    const flat = (batches: ReadBatch<SessionEvent>[]) => batches.flatMap((b) => b.events);
    expect(flat(overSocket)).toEqual(flat(overSse));
    expect(flat(overSocket).length).toBeGreaterThan(100);
    // Offsets: every batch ends at the offset of the events read so far, on both transports.
    for (const batches of [overSse, overSocket]) {
      let count = 0;
      for (const b of batches) {
        count += b.events.length;
        expect(parseOffset(b.offset)?.position).toBe(count);
      }
    }
    expect(overSocket.at(-1)!.offset).toBe(overSse.at(-1)!.offset);
  });
});

describe('control over the socket', () => {
  it('steer reaches the running agent and cancel aborts it; every client sees it cancelled', async () => {
    const id = freshId('control');
    const a = session(id, websocketAdapter<SessionEvent>({ url: socketUrl(running.url), WebSocket }));
    const b = session(id, httpAdapter<SessionEvent>({ baseUrl: running.url, live: 'long-poll' }));
    const turnId = await a.send('answer with 3000 words');
    await waitFor(b, (s) => (s.turns.at(-1)?.text.length ?? 0) > 20, 10_000);
    await a.steer('cats and dogs', turnId);
    await waitFor(b, (s) => s.turns.at(-1)?.text.includes('[steered: cats and dogs]') === true, 10_000);
    await a.cancel();
    await waitFor(a, settled(turnId), 10_000);
    await waitFor(b, settled(turnId), 10_000);
    expect(a.get().turns.at(-1)?.status).toBe('cancelled');
    expect(b.get().turns.at(-1)?.status).toBe('cancelled');
    expect(aborted.has(turnId)).toBe(true);
    const log = (await serverLog(id)) as SessionEvent[];
    expect(log.filter((e) => e.type === 'cancel')).toHaveLength(1);
    expect(log.filter((e) => e.type === 'steer')).toEqual([{ type: 'steer', turnId, text: 'cats and dogs', clientId: 'tester', steerId: expect.any(String) }]);
    expect(log.at(-1)).toMatchObject({ type: 'turn.end', turnId, reason: 'cancelled' });
  });

  it('closing the socket mid-answer cancels nothing', async () => {
    const id = freshId('gone');
    const adapter = websocketAdapter<SessionEvent>({ url: socketUrl(running.url), WebSocket, lingerMs: 10 });
    const a = session(id, adapter);
    const turnId = await a.send('answer with 200 words');
    await waitFor(a, (s) => (s.turns.at(-1)?.text.length ?? 0) > 10, 10_000);
    await a.close();
    const until = Date.now() + 3000;
    while (server.websocket!.connections > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(server.websocket!.connections).toBe(0); // the socket is really closed
    const watcher = session(id, httpAdapter<SessionEvent>({ baseUrl: running.url }));
    await waitFor(watcher, settled(turnId), 20_000);
    expect(watcher.get().turns.at(-1)?.status).toBe('complete');
    expect(aborted.has(turnId)).toBe(false);
  });
});
