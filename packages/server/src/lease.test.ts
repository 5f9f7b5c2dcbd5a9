import { afterEach, describe, expect, it } from 'vitest';
import { createSessionHost, type SessionHost } from './host';
import { turnProducerId } from './turn';
import { memoryStore } from './memory-store';
import type { SessionStore } from './store';

const enc = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
type Event = { type: string; turnId?: string; agentId?: string; reason?: string; error?: string };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function host(store: SessionStore, turnLeaseSeconds: number): SessionHost {
  const h = createSessionHost({ store, turnLeaseSeconds, onError: () => undefined });
  cleanups.push(() => h.close());
  return h;
}

async function events(store: SessionStore, id: string): Promise<Event[]> {
  const r = await store.read(id, { from: '-1' });
  if (r.status !== 'ok') throw new Error(r.status);
  return r.entries.map((e) => JSON.parse(new TextDecoder().decode(e.data)) as Event);
}

/** Poll the log (a test's observation, bounded) until `done` holds; returns the elapsed ms. */
async function until(store: SessionStore, id: string, done: (log: Event[]) => boolean, maxMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < maxMs) {
    if (done(await events(store, id))) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`not within ${maxMs} ms: ${JSON.stringify(await events(store, id))}`);
}

const ends = (log: Event[], turnId: string): Event[] => log.filter((e) => e.type === 'turn.end' && e.turnId === turnId);

describe('turn leases', () => {
  it('a turn whose node died (no lease) is ended `error` once by a node watching the session, within 4/3 of a lease', async () => {
    const store = memoryStore();
    const survivor = host(store, 1);
    const other = host(store, 1);
    for (const h of [survivor, other]) h.onPrompt(() => undefined, { agentId: 'unrelated' });
    await survivor.session('s').ensure();
    await new Promise((resolve) => setTimeout(resolve, 50)); // both hosts watch the new session
    // A node that died right after claiming the turn: its turn.start and a delta, never a lease.
    const producer = (seq: number) => ({ id: turnProducerId('t1', 'ghost'), epoch: 0, seq });
    await store.append('s', { entries: [enc({ type: 'turn.start', turnId: 't1', agentId: 'ghost' })], producer: producer(0) });
    await store.append('s', { entries: [enc({ type: 'delta', turnId: 't1', agentId: 'ghost', text: 'half' })], producer: producer(1) });
    const elapsed = await until(store, 's', (log) => ends(log, 't1').length > 0, 5000);
    expect(elapsed).toBeLessThan(1000 * (4 / 3) + 1500); // the stated bound, with room for a busy machine
    await new Promise((resolve) => setTimeout(resolve, 1500)); // both survivors had their chance
    const log = await events(store, 's');
    expect(ends(log, 't1')).toEqual([
      { type: 'turn.end', turnId: 't1', agentId: 'ghost', reason: 'error', error: expect.stringContaining('lease expired') },
    ]);
    // and the dead writer, were it alive after all, is fenced off
    expect((await store.append('s', { entries: [enc({ type: 'delta' })], producer: producer(2) })).status).toBe('stale-epoch');
  });

  it('a live turn keeps its lease: a turn longer than several leases ends once, `complete`', async () => {
    const store = memoryStore();
    const runner = host(store, 1);
    const watcher = host(store, 1);
    watcher.onPrompt(() => undefined, { agentId: 'unrelated' });
    await runner.session('s').ensure();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const turn = await runner.session('s').startTurn({ turnId: 't2', agentId: 'slow' });
    for (let i = 0; i < 5; i++) {
      await turn.write(`${i} `);
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    await turn.end('complete');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(ends(await events(store, 's'), 't2')).toEqual([{ type: 'turn.end', turnId: 't2', agentId: 'slow', reason: 'complete' }]);
  });

  it('a node that starts after the turn did (a restart) finds it unfinished and ends it; old prompts stay unanswered', async () => {
    const store = memoryStore();
    const before = host(store, 1);
    await before.session('s').ensure();
    const producer = { id: turnProducerId('t3', 'ghost'), epoch: 0, seq: 0 };
    await store.append('s', { entries: [enc({ type: 'prompt', turnId: 'old', clientId: 'c', text: 'hi' })] });
    await store.append('s', { entries: [enc({ type: 'turn.start', turnId: 't3', agentId: 'ghost' })], producer });
    await before.close(); // the node that was running t3 is gone; a new one starts on the same store
    const answered: string[] = [];
    const after = host(store, 1);
    after.onPrompt(({ prompt }) => void answered.push(prompt.turnId), { agentId: 'fresh' });
    await until(store, 's', (log) => ends(log, 't3').length > 0, 5000);
    expect(ends(await events(store, 's'), 't3')).toMatchObject([{ reason: 'error' }]);
    expect(answered).toEqual([]);
  });

  it('a node that stops watching a session stops tracking its turns (it would not see them end)', async () => {
    const store = memoryStore();
    const runner = host(store, 1);
    const sideline = host(store, 1);
    // `sideline` watches the session only while its own short turn runs, and sees `long` start meanwhile.
    const own = await sideline.session('s').startTurn({ turnId: 'own', agentId: 'side' });
    const long = await runner.session('s').startTurn({ turnId: 'long', agentId: 'main' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await own.end('complete');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await long.write('done');
    await long.end('complete');
    // `long`'s lease lapses a second after its end; a node still tracking it would now end it again.
    await new Promise((resolve) => setTimeout(resolve, 2600));
    expect(ends(await events(store, 's'), 'long')).toEqual([{ type: 'turn.end', turnId: 'long', agentId: 'main', reason: 'complete' }]);
  });
});
