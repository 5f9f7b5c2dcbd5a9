import { afterEach, describe, expect, it } from 'vitest';
import { demoAgent } from './demo-agent';
import { SessionServerError } from './errors';
import type { PromptContext } from './host';
import { listen, type ListeningServer } from './listen';
import { memoryStore } from './memory-store';
import { createSessionServer, type SessionServer } from './server';
import type { SessionStore, WaitOutcome } from './store';
import type { TurnWriter } from './turn';

type Event = Record<string, unknown> & { type: string };

interface Node {
  server: SessionServer;
  running: ListeningServer;
  url: string;
  errors: unknown[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A session server on 127.0.0.1, port 0, cleaned up after the test. */
async function startNode(store?: SessionStore): Promise<Node> {
  const errors: unknown[] = [];
  const server = createSessionServer({ ...(store === undefined ? {} : { store }), longPollTimeoutMs: 1000, onError: (e) => errors.push(e) });
  const running = await listen(server.handler, { port: 0, host: '127.0.0.1', onError: (e) => errors.push(e) });
  cleanups.push(async () => {
    await running.close();
    await server.close();
  });
  return { server, running, url: `${running.url}/v1/stream`, errors };
}

async function createSession(node: Node, id: string): Promise<void> {
  const res = await fetch(`${node.url}/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
  expect(res.status).toBe(201);
}

async function post(node: Node, id: string, event: Event): Promise<void> {
  const res = await fetch(`${node.url}/${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
  expect(res.status).toBe(204);
}

/** Long-poll the session until `done(events)` holds (bounded), returning every event read. */
async function readUntil(node: Node, id: string, done: (events: Event[]) => boolean, maxRounds = 60): Promise<Event[]> {
  const events: Event[] = [];
  let offset = '-1';
  for (let round = 0; round < maxRounds; round++) {
    const res = await fetch(`${node.url}/${id}?offset=${offset}&live=long-poll`);
    if (res.status === 200) events.push(...((await res.json()) as Event[]));
    offset = res.headers.get('stream-next-offset') ?? offset;
    if (done(events)) return events;
  }
  throw new Error(`condition not met after ${maxRounds} reads: ${JSON.stringify(events)}`);
}

const turnEnd = (turnId: string) => (events: Event[]) => events.some((e) => e.type === 'turn.end' && e.turnId === turnId);
const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

/** Create the session, prompt through `writer`, wait for a delta read through `reader`, cancel, and read until the turn ended. */
async function promptThenCancel(at: { writer: Node; reader: Node; sessionId: string; turnId: string; text: string }): Promise<Event[]> {
  await createSession(at.writer, at.sessionId);
  await post(at.writer, at.sessionId, { type: 'prompt', turnId: at.turnId, text: at.text, clientId: 'c' });
  await readUntil(at.reader, at.sessionId, (events) => events.some((e) => e.type === 'delta'));
  await post(at.writer, at.sessionId, { type: 'cancel', turnId: at.turnId, clientId: 'c' });
  return readUntil(at.reader, at.sessionId, turnEnd(at.turnId));
}

describe('turns started by the server', () => {
  it('a cancel POSTed by a client aborts the turn signal', async () => {
    const node = await startNode();
    await createSession(node, 's1');
    const turn = await node.server.host.session('s1').startTurn({ turnId: 't1', agentId: 'writer' });
    await turn.write('Hel');
    expect(turn.signal.aborted).toBe(false);
    await post(node, 's1', { type: 'cancel', turnId: 't1', clientId: 'tab-2' });
    await aborted(turn.signal);
    expect(turn.signal.reason).toBeInstanceOf(SessionServerError);
    expect(turn.signal.reason).toMatchObject({ code: 'cancelled' });
    await turn.end('cancelled');
    const events = await readUntil(node, 's1', turnEnd('t1'));
    expect(events.map((e) => e.type)).toEqual(['turn.start', 'delta', 'cancel', 'turn.end']);
    expect(events.at(-1)).toEqual({ type: 'turn.end', turnId: 't1', agentId: 'writer', reason: 'cancelled' });
    expect(node.errors).toEqual([]);
  });

  it('a "*" cancel aborts the running turns, not turns started after it', async () => {
    const node = await startNode();
    await createSession(node, 's2');
    const session = node.server.host.session('s2');
    const first = await session.startTurn({ turnId: 'a' });
    const second = await session.startTurn({ turnId: 'b', agentId: 'other' });
    await post(node, 's2', { type: 'cancel', turnId: '*', clientId: 'c' });
    await Promise.all([aborted(first.signal), aborted(second.signal)]);
    const later = await session.startTurn({ turnId: 'c' });
    await later.write('still running');
    expect(later.signal.aborted).toBe(false);
    await Promise.all([first.end('cancelled'), second.end('cancelled'), later.end()]);
  });

  it('a steer POSTed by a client reaches the turn steers, which end with the turn', async () => {
    const node = await startNode();
    await createSession(node, 's3');
    const turn = await node.server.host.session('s3').startTurn({ turnId: 't' });
    await post(node, 's3', { type: 'steer', turnId: 'other-turn', text: 'not for you', clientId: 'c' });
    await post(node, 's3', { type: 'steer', turnId: 't', text: 'shorter please', clientId: 'c' });
    const received: unknown[] = [];
    for await (const steer of turn.steers) {
      received.push(steer);
      await turn.end();
    }
    expect(received).toEqual([{ type: 'steer', turnId: 't', text: 'shorter please', clientId: 'c' }]);
    expect(turn.signal.aborted).toBe(false);
  });

  it('writes after end reject with turn-ended; end is idempotent; emit refuses SDK types', async () => {
    const node = await startNode();
    const turn = await node.server.host.session('s4').startTurn({ turnId: 't' });
    await turn.emit('tool.call', { name: 'search' });
    await expect(turn.emit('delta', { text: 'sneaky' })).rejects.toMatchObject({ code: 'bad-request' });
    const ending = turn.end('complete');
    expect(turn.end('error', 'ignored')).toBe(ending);
    await ending;
    await expect(turn.write('late')).rejects.toMatchObject({ code: 'turn-ended' });
    const events = await readUntil(node, 's4', turnEnd('t'));
    expect(events.map((e) => e.type)).toEqual(['turn.start', 'tool.call', 'turn.end']);
    expect(events[1]).toEqual({ type: 'tool.call', name: 'search', turnId: 't', agentId: 'agent' });
  });
});

describe('onPrompt', () => {
  it('runs the agent for a prompt POSTed over HTTP; a cancel aborts it and the turn ends cancelled', async () => {
    const node = await startNode();
    let seen: TurnWriter | undefined;
    node.server.host.onPrompt(async ({ prompt, turn }) => {
      seen = turn;
      await turn.write(`answering: ${prompt.text}`);
      await aborted(turn.signal);
    });
    const events = await promptThenCancel({ writer: node, reader: node, sessionId: 'p1', turnId: 'q1', text: 'hello' });
    expect(seen?.signal.aborted).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['prompt', 'turn.start', 'delta', 'cancel', 'turn.end']);
    expect(events.at(-1)).toMatchObject({ turnId: 'q1', agentId: 'agent', reason: 'cancelled' });
    expect(node.errors).toEqual([]);
  });

  it("ends the turn with reason error when the handler throws, and reports the error", async () => {
    const node = await startNode();
    const boom = new Error('model unavailable');
    node.server.host.onPrompt(async ({ turn }) => {
      await turn.write('partial');
      throw boom;
    });
    await createSession(node, 'p2');
    await post(node, 'p2', { type: 'prompt', turnId: 'q', text: 'hi', clientId: 'c' });
    const events = await readUntil(node, 'p2', turnEnd('q'));
    expect(events.at(-1)).toEqual({ type: 'turn.end', turnId: 'q', agentId: 'agent', reason: 'error', error: 'model unavailable' });
    expect(node.errors).toEqual([boom]);
  });

  it('a client dropping its live read mid-answer aborts nothing: the turn completes', async () => {
    const node = await startNode();
    let seen: PromptContext | undefined;
    const agent = demoAgent({ delayMs: 5 });
    node.server.host.onPrompt(async (context) => {
      seen = context;
      await agent(context);
    });
    await createSession(node, 'p3');
    await post(node, 'p3', { type: 'prompt', turnId: 'q', text: 'tell me 40 words', clientId: 'c' });

    const connection = new AbortController();
    const sse = await fetch(`${node.url}/p3?offset=-1&live=sse`, { signal: connection.signal });
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    for (let i = 0; i < 100 && !text.includes('"type":"delta"'); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('"type":"delta"');
    connection.abort(); // the tab loses its connection mid-answer

    const events = await readUntil(node, 'p3', turnEnd('q'));
    expect(events.at(-1)).toMatchObject({ type: 'turn.end', reason: 'complete' });
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(40);
    expect(seen?.turn.signal.aborted).toBe(false);
    expect(node.errors).toEqual([]);
  });
});

describe('several nodes sharing one store', () => {
  it('a prompt and a cancel written through node B reach the agent running on node A', async () => {
    const store = memoryStore();
    cleanups.push(() => store.close());
    const a = await startNode(store);
    const b = await startNode(store);
    const started: string[] = [];
    let running: TurnWriter | undefined;
    const writer =
      (node: 'A' | 'B') =>
      async ({ turn }: { turn: TurnWriter }): Promise<void> => {
        started.push(node);
        running = turn;
        await turn.write(`from ${node}`);
        await aborted(turn.signal);
      };
    a.server.host.onPrompt(writer('A'), { agentId: 'writer' });
    b.server.host.onPrompt(writer('B'), { agentId: 'writer' });
    const events = await promptThenCancel({ writer: b, reader: a, sessionId: 'shared', turnId: 'q', text: 'hi' });
    expect(running?.signal.aborted).toBe(true);
    // answered once per agentId across the nodes
    expect(started).toHaveLength(1);
    expect(events.filter((e) => e.type === 'turn.start')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ reason: 'cancelled', agentId: 'writer' });
    expect([...a.errors, ...b.errors]).toEqual([]);
  });
});

describe('session index', () => {
  /** A server over a store whose appends to the session index fail while `failures.index > 0`. */
  function flakyIndex() {
    const inner = memoryStore();
    const failures = { index: 0 };
    const store: SessionStore = {
      ...bind(inner),
      async append(id, options) {
        if (id === '__sessions' && failures.index > 0) {
          failures.index--;
          throw new Error('store hiccup');
        }
        return inner.append(id, options);
      },
    };
    const errors: unknown[] = [];
    const server = createSessionServer({ store, onError: (e) => errors.push(e) });
    cleanups.push(async () => {
      await server.close();
      await inner.close();
    });
    const answered: string[] = [];
    server.host.onPrompt(async ({ prompt, turn }) => {
      answered.push(prompt.turnId);
      await turn.write('hi');
    });
    const call = (id: string, method: string, body?: unknown): Promise<Response> =>
      server.handler(
        new Request(`http://localhost/v1/stream/${id}`, {
          method,
          headers: { 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      );
    const indexEntries = async (): Promise<unknown[]> => {
      const read = await inner.read('__sessions', { from: '-1' });
      return read.status === 'ok' ? read.entries.map((e) => JSON.parse(new TextDecoder().decode(e.data)) as unknown) : [];
    };
    return { server, failures, errors, answered, call, indexEntries };
  }

  const until = async (condition: () => boolean): Promise<void> => {
    for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  it('a transient failure announcing a new session is retried: its prompts are answered', async () => {
    const node = flakyIndex();
    await new Promise((resolve) => setTimeout(resolve, 20)); // the index watcher is following
    node.failures.index = 1;
    expect((await node.call('s1', 'PUT')).status).toBe(201);
    expect((await node.call('s1', 'POST', { type: 'prompt', turnId: 'q', text: 'hi', clientId: 'c' })).status).toBe(204);
    await until(() => node.answered.length > 0);
    expect(node.answered).toEqual(['q']);
  });

  it('a PUT whose announcement keeps failing answers 5xx; the retried PUT announces it and earlier prompts are answered', async () => {
    const node = flakyIndex();
    node.failures.index = 100;
    const put = await node.call('s2', 'PUT');
    expect(put.status).toBe(500);
    expect(node.errors.length).toBeGreaterThan(0); // reported, not swallowed
    node.failures.index = 0;
    // the stream exists: a client may already have written into it
    expect((await node.call('s2', 'POST', { type: 'prompt', turnId: 'early', text: 'hi', clientId: 'c' })).status).toBe(204);
    expect((await node.call('s2', 'PUT')).status).toBe(200);
    await until(() => node.answered.length > 0);
    expect(node.answered).toEqual(['early']);
  });

  it('announcing is idempotent: repeated PUTs and ensure() list a session once', async () => {
    const node = flakyIndex();
    expect((await node.call('s3', 'PUT')).status).toBe(201);
    expect((await node.call('s3', 'PUT')).status).toBe(200);
    await node.server.host.session('s3').ensure();
    await node.server.host.registerSession('s3');
    expect((await node.indexEntries()).filter((e) => (e as { sessionId?: string }).sessionId === 's3')).toHaveLength(1);
  });

  it('ensure() announces an existing session that was never listed', async () => {
    const node = flakyIndex();
    await node.server.store.create('s4', { contentType: 'application/json' }); // created behind the host's back
    await node.server.host.session('s4').ensure();
    await node.server.host.session('s4').append({ type: 'prompt', turnId: 'q4', text: 'hi', clientId: 'c' });
    await until(() => node.answered.length > 0);
    expect(node.answered).toEqual(['q4']);
  });
});

describe('shutdown', () => {
  it('host.close() stops every watcher (no wait left in the store) and ends running turns', async () => {
    const inner = memoryStore();
    let pendingWaits = 0;
    const store: SessionStore = {
      ...bind(inner),
      async wait(id, after, signal): Promise<WaitOutcome> {
        pendingWaits++;
        try {
          return await inner.wait(id, after, signal);
        } finally {
          pendingWaits--;
        }
      },
    };
    const node = await startNode(store);
    cleanups.push(() => inner.close());
    node.server.host.onPrompt(async ({ turn }) => aborted(turn.signal));
    await createSession(node, 'z');
    await post(node, 'z', { type: 'prompt', turnId: 'q', text: 'hi', clientId: 'c' });
    await readUntil(node, 'z', (events) => events.some((e) => e.type === 'turn.start'));
    const direct = await node.server.host.session('other').startTurn({ turnId: 'd' });
    expect(pendingWaits).toBeGreaterThan(0);

    await node.server.host.close();
    expect(pendingWaits).toBe(0);
    expect(direct.signal.aborted).toBe(true);
    const log = await store.read('z', { from: '-1' });
    const last = log.status === 'ok' ? JSON.parse(new TextDecoder().decode(log.entries.at(-1)?.data)) : undefined;
    expect(last).toMatchObject({ type: 'turn.end', turnId: 'q', reason: 'error', error: 'the session host shut down' });
    expect(() => node.server.host.session('z')).toThrow(SessionServerError);
  });
});

/** The store's methods bound to it, so they can be spread into a wrapper. */
function bind(store: SessionStore): SessionStore {
  return {
    create: store.create.bind(store),
    head: store.head.bind(store),
    append: store.append.bind(store),
    read: store.read.bind(store),
    wait: store.wait.bind(store),
    delete: store.delete.bind(store),
    putSnapshot: store.putSnapshot.bind(store),
    getSnapshot: store.getSnapshot.bind(store),
    close: store.close.bind(store),
  };
}
