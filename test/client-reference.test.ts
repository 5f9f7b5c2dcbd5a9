/**
 * The core client against the protocol's reference server (`@durable-streams/server`),
 * on 127.0.0.1: catch-up + live (SSE and long-poll), idempotent appends on retry,
 * stream creation on first use, and resuming from IndexedDB after a "reload".
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { DurableStreamTestServer } from '@durable-streams/server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createDurableSession,
  httpAdapter,
  waitFor,
  type AppEvent,
  type DurableSession,
  type SessionEvent,
} from '@durable-session/core';

type Ev = SessionEvent | AppEvent;
let server: DurableStreamTestServer;
let baseUrl: string;
const sessions: DurableSession<AppEvent>[] = [];
let n = 0;
const freshId = (): string => `ref-${process.pid}-${++n}`;

/** A fetch that records every request as `METHOD path?query`. */
function recordingFetch(log: string[], wrap?: (res: Response, init: RequestInit | undefined) => Response | Promise<Response>): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    log.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    const res = await fetch(input, init);
    return wrap ? wrap(res, init) : res;
  };
}

/** An agent writing straight into the stream with its own producer. */
function agent(sessionId: string) {
  const adapter = httpAdapter<Ev>({ baseUrl });
  let seq = 0;
  return (...events: Ev[]) =>
    events.reduce((p, e) => p.then(() => adapter.append(sessionId, e, { producerId: 'agent', epoch: 0, seq: seq++ })), Promise.resolve());
}
const turn = (turnId: string, text: string): Ev[] => [
  { type: 'turn.start', turnId, agentId: 'bot' },
  ...text.split('').map((ch): Ev => ({ type: 'delta', turnId, agentId: 'bot', text: ch })),
  { type: 'turn.end', turnId, agentId: 'bot', reason: 'complete' },
];
function open(sessionId: string, adapter: ReturnType<typeof httpAdapter<Ev>>, persistence: 'memory' | 'indexeddb' = 'memory') {
  const s = createDurableSession<AppEvent>({ sessionId, adapter, persistence, clientId: 'tester', reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
  sessions.push(s);
  return s;
}

beforeAll(async () => {
  server = new DurableStreamTestServer({ host: '127.0.0.1', port: 0, longPollTimeout: 300 });
  baseUrl = await server.start();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory());
});
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  server.clearInjectedFaults();
  vi.unstubAllGlobals();
});

describe.each(['sse', 'long-poll'] as const)('reference server, live=%s', (live) => {
  it('catches up with plain GETs, then follows live appends', async () => {
    const id = freshId();
    const write = agent(id);
    await write({ type: 'prompt', turnId: 't1', text: 'first?', clientId: 'other' }, ...turn('t1', 'old answer'));
    const log: string[] = [];
    const s = open(id, httpAdapter<Ev>({ baseUrl, live, fetch: recordingFetch(log) }));
    const caught = await waitFor(s, (x) => x.status === 'live', 5000);
    expect(caught.turns[0]).toMatchObject({ prompt: 'first?', text: 'old answer', status: 'complete' });
    expect(log[0]).toBe(`GET /v1/stream/${id}?offset=-1`);

    const turnId = await s.send('second?');
    await write(...turn(turnId, 'live answer'));
    const done = await waitFor(s, (x) => x.turns[1]?.status === 'complete', 5000);
    expect(done.turns.map((t) => [t.prompt, t.text])).toEqual([
      ['first?', 'old answer'],
      ['second?', 'live answer'],
    ]);
    expect(log.some((l) => l.includes(`live=${live}`))).toBe(true);
    if (live === 'long-poll') {
      // Survives long-poll timeouts (204) and keeps going.
      await new Promise((r) => setTimeout(r, 700));
      await write({ type: 'prompt', turnId: 't3', text: 'after a 204', clientId: 'other' });
      await waitFor(s, (x) => x.turns.length === 3, 5000);
      expect(log.filter((l) => l.includes('cursor=')).length).toBeGreaterThan(0);
    }
  });

  it('a second session sees the first one’s prompt and cancel live', async () => {
    const id = freshId();
    const one = open(id, httpAdapter<Ev>({ baseUrl, live }));
    const two = open(id, httpAdapter<Ev>({ baseUrl, live }));
    await Promise.all([waitFor(one, (x) => x.status === 'live', 5000), waitFor(two, (x) => x.status === 'live', 5000)]);
    const turnId = await one.send('hello');
    await agent(id)({ type: 'turn.start', turnId, agentId: 'bot' }, { type: 'delta', turnId, agentId: 'bot', text: 'partial' });
    await waitFor(two, (x) => x.turns[0]?.text === 'partial', 5000);
    await two.cancel();
    const seen = await waitFor(one, (x) => x.turns[0]?.status === 'cancelled', 5000);
    expect(seen.activeTurnId).toBeUndefined();
  });
});

describe('reference server: appends', () => {
  it('the same (producer, epoch, seq) lands once', async () => {
    const id = freshId();
    const a = httpAdapter<Ev>({ baseUrl });
    const opts = { producerId: 'p', epoch: 0, seq: 0 };
    await a.append(id, { type: 'prompt', turnId: 't', text: 'x', clientId: 'c' }, opts);
    await a.append(id, { type: 'prompt', turnId: 't', text: 'x', clientId: 'c' }, opts);
    await a.append(id, { type: 'prompt', turnId: 'u', text: 'y', clientId: 'c' }, { ...opts, seq: 1 });
    const res = await fetch(`${baseUrl}/v1/stream/${id}?offset=-1`);
    expect(((await res.json()) as Ev[]).map((e) => e.turnId)).toEqual(['t', 'u']);
    await expect(a.append(id, { type: 'x' }, { ...opts, seq: 5 })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('a session retries an append whose answer was lost; it lands once', async () => {
    const id = freshId();
    const log: string[] = [];
    let lose = 2;
    const s = open(
      id,
      httpAdapter<Ev>({
        baseUrl,
        fetch: recordingFetch(log, (res, init) => {
          if (init?.method === 'POST' && lose-- > 0) throw new TypeError('fetch failed: socket hang up'); // landed, answer lost
          return res;
        }),
      }),
    );
    const warnings: string[] = [];
    s.on('warning', (w) => warnings.push(w.code));
    const turnId = await s.send('only once');
    await s.send('and then this');
    const snap = await waitFor(s, (x) => x.turns.length === 2, 5000);
    expect(snap.turns.map((t) => t.prompt)).toEqual(['only once', 'and then this']);
    expect(snap.turns[0]!.turnId).toBe(turnId);
    expect(log.filter((l) => l.startsWith('POST')).length).toBe(4);
    expect(warnings.filter((w) => w === 'persistence')).toEqual([]);
    expect(warnings).toEqual(['network', 'network']);
  });

  it('retries through injected 503s and dropped connections', async () => {
    const id = freshId();
    const s = open(id, httpAdapter<Ev>({ baseUrl }));
    await waitFor(s, (x) => x.status === 'live', 5000);
    server.injectFault(`/v1/stream/${id}`, { status: 503, count: 1, method: 'POST' });
    server.injectFault(`/v1/stream/${id}`, { dropConnection: true, count: 1, method: 'POST' });
    await s.send('through faults');
    await waitFor(s, (x) => x.turns.length === 1, 5000);
    const res = await fetch(`${baseUrl}/v1/stream/${id}?offset=-1`);
    expect(await res.json()).toHaveLength(1);
  });

  it('creates the stream on first use (404 → PUT)', async () => {
    const id = freshId();
    const log: string[] = [];
    const s = open(id, httpAdapter<Ev>({ baseUrl, fetch: recordingFetch(log) }));
    await waitFor(s, (x) => x.status === 'live', 5000);
    expect(log.slice(0, 3)).toEqual([`GET /v1/stream/${id}?offset=-1`, `PUT /v1/stream/${id}`, `GET /v1/stream/${id}?offset=-1`]);
    const head = await fetch(`${baseUrl}/v1/stream/${id}`, { method: 'HEAD' });
    expect(head.headers.get('content-type')).toContain('application/json');
  });
});

describe('reference server: reload', () => {
  it('renders from IndexedDB, then reads only what it missed', async () => {
    const id = freshId();
    const write = agent(id);
    const first = open(id, httpAdapter<Ev>({ baseUrl }), 'indexeddb');
    const turnId = await first.send('before reload');
    await write(...turn(turnId, 'saved'));
    const saved = await waitFor(first, (x) => x.turns[0]?.status === 'complete', 5000);
    await first.close();
    await write({ type: 'prompt', turnId: 'missed', text: 'while away', clientId: 'other' });

    const log: string[] = [];
    const second = open(id, httpAdapter<Ev>({ baseUrl, fetch: recordingFetch(log) }), 'indexeddb');
    const resumed = await waitFor(second, (x) => x.resumed, 5000);
    expect(resumed.turns[0]).toMatchObject({ text: 'saved', status: 'complete' });
    const after = await waitFor(second, (x) => x.turns.length === 2 && x.status === 'live', 5000);
    expect(after.turns[1]!.prompt).toBe('while away');
    expect(log[0]).toBe(`GET /v1/stream/${id}?offset=${encodeURIComponent(saved.offset)}`);
    expect(log.some((l) => l.includes('offset=-1'))).toBe(false);
  });
});
