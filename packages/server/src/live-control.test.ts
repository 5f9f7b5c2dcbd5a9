import { afterEach, describe, expect, it } from 'vitest';
import { listen } from './listen';
import { memoryStore } from './memory-store';
import { createSessionServer, type SessionServer } from './server';
import type { SessionStore } from './store';
import type { TurnWriter } from './turn';

type Event = Record<string, unknown> & { type: string };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Node {
  server: SessionServer;
  url: string;
  close(): Promise<void>;
}

async function startNode(store: SessionStore = memoryStore(), options: Parameters<typeof createSessionServer>[0] = {}): Promise<Node> {
  const server = createSessionServer({ store, longPollTimeoutMs: 500, onError: () => {}, ...options });
  const running = await listen(server.handler, { port: 0, host: '127.0.0.1', onError: () => {} });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await running.close();
    await server.close();
  };
  cleanups.push(close);
  return { server, url: `${running.url}/v1/stream`, close };
}

const post = (node: Node, id: string, event: Event, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${node.url}/${id}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(event) });

async function readUntil(node: Node, id: string, done: (events: Event[]) => boolean): Promise<Event[]> {
  const events: Event[] = [];
  let offset = '-1';
  for (let round = 0; round < 40; round++) {
    const res = await fetch(`${node.url}/${id}?offset=${offset}&live=long-poll`);
    if (res.status === 200) events.push(...((await res.json()) as Event[]));
    offset = res.headers.get('stream-next-offset') ?? offset;
    if (done(events)) return events;
  }
  throw new Error(`not done after 40 reads: ${JSON.stringify(events.map((e) => e.type))}`);
}

const has = (type: string, match: Record<string, unknown> = {}) => (events: Event[]) =>
  events.some((e) => e.type === type && Object.entries(match).every(([k, v]) => e[k] === v));

const answer = (askId: string, choice: string, answerId: string, clientId = 'c1'): Event => ({ type: 'answer', turnId: 't', askId, choice, clientId, answerId });

/** A turn asking `q1` with options yes/no, and the promise of its answer. */
async function asking(node: Node, id: string, extra: { timeoutMs?: number } = {}): Promise<{ turn: TurnWriter; choice: Promise<string> }> {
  const turn = await node.server.host.session(id).startTurn({ turnId: 't', agentId: 'a' });
  const choice = turn.ask({ askId: 'q1', question: 'Send the email?', options: ['yes', 'no'], ...extra });
  choice.catch(() => {});
  await readUntil(node, id, has('ask'));
  return { turn, choice };
}

describe('steer acknowledgments', () => {
  it('a steer taken by the agent is acked received, then applied; one never taken is rejected at the end', async () => {
    const node = await startNode();
    const turn = await node.server.host.session('s1').startTurn({ turnId: 't', agentId: 'a' });
    expect((await post(node, 's1', { type: 'steer', turnId: 't', text: 'shorter', clientId: 'c', steerId: 'st1' })).status).toBe(204);
    for await (const steer of turn.steers) {
      await turn.acknowledgeSteer(steer.steerId!, 'applied');
      break;
    }
    expect((await post(node, 's1', { type: 'steer', turnId: 't', text: 'ignored', clientId: 'c', steerId: 'st2' })).status).toBe(204);
    await readUntil(node, 's1', has('steer', { steerId: 'st2' }));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the host's watcher hands it to the turn
    await turn.end();
    const events = await readUntil(node, 's1', has('turn.end'));
    const acks = events.filter((e) => e.type === 'steer.ack').map((e) => [e.steerId, e.state, e.reason]);
    expect(acks).toEqual([
      ['st1', 'received', undefined],
      ['st1', 'applied', undefined],
      ['st2', 'rejected', 'not-taken'],
    ]);
    expect(events.findIndex((e) => e.type === 'steer.ack' && e.steerId === 'st2')).toBeLessThan(events.findIndex((e) => e.type === 'turn.end'));
  });

  it('clients cannot write steer.ack or ask (agent events)', async () => {
    const node = await startNode(memoryStore(), { authorize: () => ({ role: 'participant', clientId: 'c' }) });
    await fetch(`${node.url}/s2`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
    expect((await post(node, 's2', { type: 'steer.ack', turnId: 't', agentId: 'a', steerId: 'x', state: 'applied' })).status).toBe(403);
    expect((await post(node, 's2', { type: 'ask', turnId: 't', agentId: 'a', askId: 'q', question: '?', options: ['y'] })).status).toBe(403);
    expect((await post(node, 's2', { type: 'steer.ack', turnId: 't', agentId: 'a', steerId: 'x', state: 'bogus' })).status).toBe(400);
  });
});

describe('approvals', () => {
  it('the agent gets the first valid answer; a second answer is refused with already-answered; a retry of the first is fine', async () => {
    const node = await startNode();
    const { choice } = await asking(node, 's3');
    expect((await post(node, 's3', answer('q1', 'maybe', 'bad'))).status).toBe(400);
    expect((await post(node, 's3', answer('q1', 'yes', 'a1'))).status).toBe(204);
    expect(await choice).toBe('yes');
    const second = await post(node, 's3', answer('q1', 'no', 'a2', 'c2'));
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ error: { code: 'already-answered' } });
    const retry = await post(node, 's3', answer('q1', 'yes', 'a1'));
    expect(retry.status).toBeLessThan(300);
    const events = await readUntil(node, 's3', has('answer'));
    expect(events.filter((e) => e.type === 'answer')).toHaveLength(1);
  });

  it('of concurrent answers exactly one lands', async () => {
    const node = await startNode();
    const { choice } = await asking(node, 's4');
    const statuses = await Promise.all(Array.from({ length: 8 }, (_, i) => post(node, 's4', answer('q1', i % 2 ? 'yes' : 'no', `a${i}`, `c${i}`)).then((r) => r.status)));
    expect(statuses.filter((s) => s === 204)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
    const events = await readUntil(node, 's4', has('answer'));
    const stored = events.filter((e) => e.type === 'answer');
    expect(stored).toHaveLength(1);
    expect(await choice).toBe(stored[0]!.choice);
  });

  it('an answer authorize refuses (a viewer) is refused; an answer for an unknown question is invalid', async () => {
    const node = await startNode(memoryStore(), { authorize: (request) => ({ role: request.headers.get('x-role') === 'viewer' ? 'viewer' : 'participant' }) });
    await asking(node, 's5');
    expect((await post(node, 's5', answer('q1', 'yes', 'a1'), { 'x-role': 'viewer' })).status).toBe(403);
    expect((await post(node, 's5', answer('nope', 'yes', 'a1'))).status).toBe(400);
  });

  it('a cancel while waiting ends the turn cancelled and closes the question', async () => {
    const node = await startNode();
    const { turn, choice } = await asking(node, 's6');
    expect((await post(node, 's6', { type: 'cancel', turnId: 't', clientId: 'c1' })).status).toBe(204);
    await expect(choice).rejects.toMatchObject({ code: 'turn-ended' });
    expect(turn.signal.aborted).toBe(true);
    expect((await post(node, 's6', answer('q1', 'yes', 'a1'))).status).toBe(409);
  });

  it('a timeout closes the question for everyone', async () => {
    const node = await startNode();
    const { choice } = await asking(node, 's7', { timeoutMs: 100 });
    await expect(choice).rejects.toMatchObject({ code: 'timeout' });
    const events = await readUntil(node, 's7', has('ask.closed'));
    expect(events.find((e) => e.type === 'ask.closed')).toMatchObject({ askId: 'q1', reason: 'timeout' });
    expect((await post(node, 's7', answer('q1', 'yes', 'a1'))).status).toBe(409);
  });

  it('a server restart on a store that survives keeps the question open and answerable', async () => {
    const store = memoryStore();
    const first = await startNode(store);
    await asking(first, 's8');
    await first.close();
    const second = await startNode(store);
    // The agent re-attaches in the new process and waits for the answer.
    const reattached = second.server.host.session('s8').awaitAnswer('q1');
    await expect(second.server.host.session('s8').awaitAnswer('nope')).rejects.toMatchObject({ code: 'not-found' });
    expect((await post(second, 's8', answer('q1', 'no', 'a1'))).status).toBe(204);
    expect(await reattached).toBe('no');
    const events = await readUntil(second, 's8', has('answer'));
    expect(events.filter((e) => e.type === 'answer')).toMatchObject([{ askId: 'q1', choice: 'no' }]);
  });
});
