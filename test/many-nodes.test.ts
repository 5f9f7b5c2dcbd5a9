/**
 * Many nodes on one Redis: durable-session-server CLI processes sharing a real Redis (REDIS_URL,
 * a fresh key prefix), with the core client reading and writing through either node.
 * - a prompt posted to node B is answered by the agent on node A, once;
 * - a cancel posted to node B aborts the turn running on node A;
 * - a second device reading through node B sees node A's answer live;
 * - a node is kill -9ed while its agents stream and clients read through both nodes: every
 *   acknowledged event is in the log exactly once, every client's transcript equals the log,
 *   and the survivor ends the dead node's turn `error` (turn lease: 2 s here).
 * Build first: `npm run build`.
 */
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDurableSession, httpAdapter, waitFor, type DurableSession, type SessionEvent, type SessionSnapshot } from '@durable-session/core';
import { redisStore } from '@durable-session/redis';
import { startCli } from './support/cli';
import { sessionLog as log } from './support/session-log';
import { deleteKeys, REDIS_URL } from './support/redis';

const prefixes: string[] = [];
/** A `--store` setting on the test Redis under a fresh key prefix (one per pair of nodes). */
function freshStore(): { setting: string; prefix: string } {
  const prefix = `many-nodes:${randomUUID()}:`;
  prefixes.push(prefix);
  return { setting: `${REDIS_URL.replace(/\/+$/, '')}?prefix=${prefix}`, prefix };
}
const LEASE_SECONDS = 2;
const processes: ChildProcess[] = [];
const clients: DurableSession[] = [];
let n = 0;
const freshId = (name: string): string => `${name}-${process.pid}-${++n}`;

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const prefix of prefixes) await deleteKeys(prefix);
});

async function node(store: string, agent: boolean): Promise<{ url: string; nodeId: string; process: ChildProcess }> {
  const args = ['--port', '0', '--store', store, '--turn-lease', String(LEASE_SECONDS), '--long-poll-timeout', '2000'];
  if (agent) args.push('--demo-agent', '--demo-delay', '15');
  const started = await startCli(args);
  processes.push(started.process);
  return started;
}

function client(sessionId: string, baseUrl: string, clientId: string): DurableSession {
  const adapter = httpAdapter<SessionEvent>({ baseUrl, live: 'sse' });
  const c = createDurableSession({ sessionId, adapter, persistence: 'memory', clientId, reconnect: { initialDelayMs: 10, maxDelayMs: 200 } });
  clients.push(c);
  return c;
}

const turn = (s: SessionSnapshot, turnId: string) => s.turns.find((t) => t.turnId === turnId);
const settled = (turnId: string) => (s: SessionSnapshot) => (turn(s, turnId)?.status ?? 'streaming') !== 'streaming';
const starts = (events: SessionEvent[], turnId: string) => events.filter((e) => e.type === 'turn.start' && e.turnId === turnId);
const ends = (events: SessionEvent[], turnId: string) => events.filter((e) => e.type === 'turn.end' && e.turnId === turnId);
const textOf = (events: SessionEvent[], turnId: string) =>
  events.map((e) => (e.type === 'delta' && e.turnId === turnId ? e.text : '')).join('');

/** The demo agent's answer of `words` words (it writes VOCABULARY in order when not steered). */
function demoText(words: number): string {
  const vocabulary = (
    'the session keeps every token in order so a dropped connection loses nothing and a second tab ' +
    'sees the same answer while it is written stop is an explicit event never a closed socket'
  ).split(' ');
  return Array.from({ length: words }, (_, i) => vocabulary[i % vocabulary.length]).join(' ');
}

describe('two nodes on one Redis: agent on A, clients on B', () => {
  let a: Awaited<ReturnType<typeof node>>;
  let b: Awaited<ReturnType<typeof node>>;
  beforeAll(async () => {
    const { setting } = freshStore();
    [a, b] = await Promise.all([node(setting, true), node(setting, false)]);
  });
  afterAll(() => {
    for (const n of [a, b]) n?.process.kill('SIGTERM');
  });

  it('a prompt posted to B is answered by the agent on A, once', async () => {
    const id = freshId('prompt');
    const onB = client(id, b.url, 'device-b');
    const turnId = await onB.send('answer with 12 words');
    const done = await waitFor(onB, settled(turnId), 20_000);
    expect(turn(done, turnId)?.status).toBe('complete');
    const events = await log(a.url, id);
    expect(starts(events, turnId)).toEqual([{ type: 'turn.start', turnId, agentId: 'demo' }]);
    expect(ends(events, turnId)).toHaveLength(1);
    expect(textOf(events, turnId)).toBe(demoText(12));
    expect(turn(done, turnId)?.text).toBe(demoText(12));
  });

  it('a cancel posted to B aborts the turn running on A; a second device on B saw it live', async () => {
    const id = freshId('cancel');
    const writer = client(id, a.url, 'device-a');
    const turnId = await writer.send('answer with 3000 words');
    await waitFor(writer, (s) => (turn(s, turnId)?.text.length ?? 0) > 20, 20_000);
    // the second device joins mid-answer through B and sees it streaming, growing
    const second = client(id, b.url, 'device-b');
    const joined = await waitFor(second, (s) => (turn(s, turnId)?.text.length ?? 0) > 0, 20_000);
    expect(turn(joined, turnId)?.status).toBe('streaming');
    const seen = turn(joined, turnId)?.text.length ?? 0;
    await waitFor(second, (s) => (turn(s, turnId)?.text.length ?? 0) > seen + 20, 20_000);
    await second.cancel();
    const ended = await waitFor(writer, settled(turnId), 20_000);
    await waitFor(second, settled(turnId), 20_000);
    expect(turn(ended, turnId)?.status).toBe('cancelled'); // written by A's host when the agent's signal fired
    const events = await log(b.url, id);
    expect(ends(events, turnId)).toEqual([{ type: 'turn.end', turnId, agentId: 'demo', reason: 'cancelled' }]);
    const text = textOf(events, turnId);
    expect(text.split(' ').length).toBeLessThan(3000);
    expect(demoText(3000).startsWith(text)).toBe(true);
    for (const c of [writer, second]) expect(turn(c.get(), turnId)?.text).toBe(text);
  });
});

describe('a node dies mid-answer (kill -9)', () => {
  let c: Awaited<ReturnType<typeof node>>;
  let d: Awaited<ReturnType<typeof node>>;
  const { setting, prefix } = freshStore();
  const store = redisStore({ url: REDIS_URL, prefix });
  beforeAll(async () => {
    [c, d] = await Promise.all([node(setting, true), node(setting, true)]);
  });
  afterAll(() => store.close());

  /** Which node runs a turn: its lease in the store names the holder. */
  async function holderOf(sessionId: string, turnId: string): Promise<string> {
    const lease = await store.read(`__lease/${sessionId}/${turnId}/demo`, { from: '-1' });
    if (lease.status !== 'ok') throw new Error(`no lease for ${turnId}: ${lease.status}`);
    return (JSON.parse(new TextDecoder().decode(lease.entries[0]?.data)) as { node: string }).node;
  }

  it('loses no acknowledged event, repeats none, and the survivor ends the dead node’s turns `error`', async () => {
    const WORDS = 400; // about 6 s per answer at 15 ms a word
    const runs: Array<{ id: string; turnId: string; onC: DurableSession; onD: DurableSession; applied: Map<DurableSession, SessionEvent[]> }> = [];
    for (let i = 0; i < 4; i++) {
      const id = freshId('kill');
      const onC = client(id, c.url, `c-${i}`);
      const onD = client(id, d.url, `d-${i}`);
      const applied = new Map<DurableSession, SessionEvent[]>([[onC, []], [onD, []]]);
      for (const [reader, list] of applied) reader.on('event', ({ event }) => list.push(event));
      const turnId = await (i % 2 === 0 ? onC : onD).send(`answer with ${WORDS} words`);
      runs.push({ id, turnId, onC, onD, applied });
    }
    for (const r of runs) await waitFor(r.onC, (s) => (turn(s, r.turnId)?.text.length ?? 0) > 20, 20_000);
    const holders = await Promise.all(runs.map((r) => holderOf(r.id, r.turnId)));
    const [victim, survivor] = holders[0] === c.nodeId ? [c, d] : [d, c];
    victim.process.kill('SIGKILL');
    const killedAt = Date.now();
    const orphaned = new Set(runs.filter((_, i) => holders[i] === victim.nodeId));
    expect(orphaned.size).toBeGreaterThan(0);

    const viaSurvivor = (r: (typeof runs)[number]) => (survivor === c ? r.onC : r.onD);
    const viaVictim = (r: (typeof runs)[number]) => (survivor === c ? r.onD : r.onC);
    for (const r of [...orphaned]) await waitFor(viaSurvivor(r), settled(r.turnId), 30_000);
    const reapedAfterMs = Date.now() - killedAt;
    for (const r of runs) await waitFor(viaSurvivor(r), settled(r.turnId), 30_000);
    // The stated bound (4/3 of the lease after the last renewal), with room for a busy machine.
    expect(reapedAfterMs).toBeLessThan(LEASE_SECONDS * 1000 * (4 / 3) + 4000);

    for (const r of runs) {
      const events = await log(survivor.url, r.id);
      expect(events.filter((e) => e.type === 'prompt' && e.turnId === r.turnId)).toHaveLength(1);
      expect(starts(events, r.turnId)).toHaveLength(1);
      const end = ends(events, r.turnId);
      expect(end).toHaveLength(1);
      const text = textOf(events, r.turnId);
      if (orphaned.has(r)) {
        expect(end[0]).toMatchObject({ reason: 'error', error: expect.stringContaining('lease expired') });
        expect(demoText(WORDS).startsWith(text)).toBe(true); // what was acknowledged, in order, once
      } else {
        expect(end[0]).toMatchObject({ reason: 'complete' });
        expect(text).toBe(demoText(WORDS));
      }
      // the reader on the survivor applied exactly the log; the one on the dead node a prefix of it
      await waitFor(viaSurvivor(r), () => (r.applied.get(viaSurvivor(r))?.length ?? 0) >= events.length, 10_000);
      expect(r.applied.get(viaSurvivor(r))).toEqual(events);
      const partial = r.applied.get(viaVictim(r)) ?? [];
      expect(partial).toEqual(events.slice(0, partial.length));
      expect(turn(viaSurvivor(r).get(), r.turnId)?.text).toBe(text);
    }
  });
});
