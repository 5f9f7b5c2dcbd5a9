/**
 * Live control end to end, the core client against our server on 127.0.0.1 with the demo
 * agent: steer states reach two devices in order; approvals (one answer wins, a second is
 * refused with `already-answered`); presence counts clients and tabs and never enters the log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createDurableSession, httpAdapter, waitFor, type DurableSession, type SessionAdapter, type SessionEvent, type SteerState } from '@durable-session/core';
import { websocketAdapter } from '@durable-session/core/websocket';
import { createSessionServer, demoAgent, listen, type ListeningServer, type SessionServer } from '@durable-session/server';

let server: SessionServer;
let running: ListeningServer;
let n = 0;
const freshId = (name: string): string => `${name}-${process.pid}-${++n}`;
const open: DurableSession[] = [];

beforeAll(async () => {
  server = createSessionServer({ onError: () => {} });
  server.host.onPrompt(demoAgent({ delayMs: 20, defaultWords: 40 }));
  running = await listen(server, { port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await running.close();
  await server.close();
});

function device(sessionId: string, clientId: string, presence = false, adapter: SessionAdapter<SessionEvent> = httpAdapter<SessionEvent>({ baseUrl: running.url })): DurableSession {
  const s = createDurableSession({
    sessionId,
    adapter,
    persistence: 'memory',
    clientId,
    presence,
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
  });
  open.push(s);
  return s;
}

/** Every state the first steer of the first turn passed through, as one device saw it. */
function steerStates(s: DurableSession): SteerState[] {
  const seen: SteerState[] = [];
  s.subscribe((snap) => {
    const state = snap.turns[0]?.steerStates[0]?.state;
    if (state !== undefined && seen.at(-1) !== state) seen.push(state);
  });
  return seen;
}

async function logTypes(sessionId: string): Promise<string[]> {
  const read = await server.host.session(sessionId).read({ limit: 1000 });
  return read.events.map((e) => (e.event as { type: string }).type);
}

describe('steer states', () => {
  it('reach every device in order (sent → received → applied); a steer to an ended turn is rejected', async () => {
    const id = freshId('steer');
    const a = device(id, 'alice');
    const b = device(id, 'bob');
    const seenA = steerStates(a);
    const seenB = steerStates(b);
    const turnId = await a.send('count to 60');
    await waitFor(b, (s) => (s.turns[0]?.text.length ?? 0) > 0, 5000);
    const steerId = await b.steer('talk about cats');
    for (const s of [a, b]) await waitFor(s, (snap) => snap.turns[0]?.steerStates[0]?.state === 'applied', 10_000);
    expect(a.get().turns[0]!.steerStates[0]!.steerId).toBe(steerId);
    // Each device sees the states in order (two acks folded from one batch show as one change).
    const order: SteerState[] = ['sent', 'received', 'applied'];
    for (const seen of [seenA, seenB]) {
      expect(seen.at(-1)).toBe('applied');
      expect(seen.map((st) => order.indexOf(st))).toEqual([...seen.map((st) => order.indexOf(st))].sort());
    }
    const acks = (await server.host.session(id).read({ limit: 1000 })).events
      .map((e) => e.event as { type: string; steerId?: string; state?: string })
      .filter((e) => e.type === 'steer.ack' && e.steerId === steerId);
    expect(acks.map((e) => e.state)).toEqual(['received', 'applied']);
    await a.cancel(turnId);
    await waitFor(b, (s) => s.turns[0]?.status === 'cancelled', 5000);
    const late = await a.steer('too late', turnId);
    for (const s of [a, b]) {
      const snap = await waitFor(s, (x) => x.turns[0]?.steerStates.some((st) => st.steerId === late) === true, 5000);
      expect(snap.turns[0]!.steerStates.find((st) => st.steerId === late)).toMatchObject({ state: 'rejected', reason: 'turn-ended' });
    }
  });
});

describe('approvals', () => {
  it('the agent asks, a second device answers, both see it and the agent continues; a second answer is refused', async () => {
    const id = freshId('ask');
    const a = device(id, 'alice');
    const b = device(id, 'bob');
    await a.send('use the email tool, 5 words');
    const asked = await waitFor(b, (s) => s.turns[0]?.questions[0]?.state === 'open', 5000);
    const question = asked.turns[0]!.questions[0]!;
    expect(question.options).toEqual(['approve', 'deny']);
    await waitFor(a, (s) => s.turns[0]?.questions[0]?.state === 'open', 5000);
    const [first, second] = await Promise.allSettled([b.answer(question.askId, 'approve'), a.answer(question.askId, 'deny')]);
    const outcomes = [first, second].map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code: string }).code));
    expect(outcomes.sort()).toEqual(['already-answered', 'ok']);
    const done = await waitFor(a, (s) => s.turns[0]?.status === 'complete', 10_000);
    const answered = done.turns[0]!.questions[0]!;
    expect(answered.state).toBe('answered');
    expect(done.turns[0]!.text).toContain(answered.choice === 'approve' ? '[tool approved]' : '[tool denied]');
    await expect(b.answer(question.askId, 'deny')).rejects.toMatchObject({ code: 'already-answered' });
    expect((await logTypes(id)).filter((t) => t === 'answer')).toHaveLength(1);
  });
});

describe('presence', () => {
  it('counts clients and their tabs within one beat, and never writes to the log', async () => {
    const id = freshId('presence');
    const watcher = device(id, 'alice', true);
    await waitFor(watcher, (s) => s.presence.length === 1, 5000);
    const tab2 = device(id, 'alice', true);
    const other = device(id, 'bob', true);
    const started = Date.now();
    await waitFor(watcher, (s) => s.presence.length === 2 && s.presence[0]?.tabs === 2, 5000);
    expect(watcher.get().presence).toEqual([
      { clientId: 'alice', tabs: 2 },
      { clientId: 'bob', tabs: 1 },
    ]);
    await Promise.all([tab2.close(), other.close()]);
    await waitFor(watcher, (s) => s.presence.length === 1 && s.presence[0]?.tabs === 1, 5000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await logTypes(id)).toEqual([]);
  });
});

describe('presence over the WebSocket', () => {
  it('tabs sharing one socket count as that browser\'s tabs, HTTP and socket beats meet in one count, closed tabs leave at once', async () => {
    const id = freshId('presence-ws');
    const socket = websocketAdapter<SessionEvent>({ url: `${running.url.replace(/^http/, 'ws')}/v1/socket`, WebSocket, lingerMs: 10 });
    const tab1 = device(id, 'alice', true, socket);
    const tab2 = device(id, 'alice', true, socket);
    const watcher = device(id, 'bob', true);
    await waitFor(watcher, (s) => s.presence.length === 2 && s.presence[0]?.tabs === 2, 5000);
    expect(watcher.get().presence).toEqual([
      { clientId: 'alice', tabs: 2 },
      { clientId: 'bob', tabs: 1 },
    ]);
    expect(socket.sockets).toBe(1);
    await waitFor(tab1, (s) => s.presence.length === 2, 5000);
    await Promise.all([tab1.close(), tab2.close()]);
    await waitFor(watcher, (s) => s.presence.length === 1 && s.presence[0]?.clientId === 'bob', 5000);
    expect(await logTypes(id)).toEqual([]);
  });
});
