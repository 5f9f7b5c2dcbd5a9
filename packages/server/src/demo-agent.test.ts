import { afterEach, describe, expect, it } from 'vitest';
import { demoAgent, wordCount } from './demo-agent';
import { createSessionHost, type SessionHost } from './host';
import { memoryStore } from './memory-store';
import type { SessionStore } from './store';

type Event = Record<string, unknown> & { type: string };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(): { store: SessionStore; host: SessionHost; errors: unknown[] } {
  const store = memoryStore();
  const errors: unknown[] = [];
  const host = createSessionHost({ store, onError: (e) => errors.push(e) });
  cleanups.push(() => store.close(), () => host.close());
  return { store, host, errors };
}

/** Read the session (waking on appends, bounded) until `done` holds. */
async function readUntil(store: SessionStore, id: string, done: (events: Event[]) => boolean): Promise<Event[]> {
  const events: Event[] = [];
  let from = '-1';
  for (let round = 0; round < 10_000; round++) {
    const read = await store.read(id, { from });
    if (read.status !== 'ok') throw new Error(read.status);
    events.push(...read.entries.map((e) => JSON.parse(new TextDecoder().decode(e.data)) as Event));
    from = read.next;
    if (done(events)) return events;
    await store.wait(id, from, AbortSignal.timeout(5000));
  }
  throw new Error('condition not met');
}

const answer = (events: Event[]): string =>
  events
    .filter((e) => e.type === 'delta')
    .map((e) => e.text)
    .join('');
const ended = (events: Event[]): boolean => events.some((e) => e.type === 'turn.end');

describe('demoAgent', () => {
  it('writes as many words as the number in the prompt, one delta per word', async () => {
    const { host, store, errors } = setup();
    host.onPrompt(demoAgent({ delayMs: 0 }), { agentId: 'demo' });
    const session = host.session('d1');
    await session.ensure();
    await session.append({ type: 'prompt', turnId: 't', text: 'give me 7 words', clientId: 'c' });
    const events = await readUntil(store, 'd1', ended);
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(7);
    expect(answer(events).split(' ')).toHaveLength(7);
    expect(events.at(-1)).toEqual({ type: 'turn.end', turnId: 't', agentId: 'demo', reason: 'complete' });
    expect(errors).toEqual([]);
  });

  it('changes course on a steer and stops on a cancel', async () => {
    const { host, store, errors } = setup();
    host.onPrompt(demoAgent({ delayMs: 2 }));
    const session = host.session('d2');
    await session.ensure();
    await session.append({ type: 'prompt', turnId: 't', text: 'count 2000', clientId: 'c' });
    await readUntil(store, 'd2', (events) => events.some((e) => e.type === 'delta'));
    await session.append({ type: 'steer', turnId: 't', text: 'talk about cats', clientId: 'c' });
    await readUntil(store, 'd2', (events) => /\[steered: talk about cats\]( \S+){4}/.test(answer(events)));
    await session.append({ type: 'cancel', turnId: 't', clientId: 'c' });
    const events = await readUntil(store, 'd2', ended);
    const text = answer(events);
    const afterSteer = text.slice(text.indexOf('[steered: talk about cats]') + '[steered: talk about cats]'.length);
    expect(afterSteer.split(' ').filter(Boolean).slice(0, 4)).toEqual(['talk', 'and', 'about', 'then']);
    expect(events.filter((e) => e.type === 'delta').length).toBeLessThan(2000);
    expect(events.at(-1)).toMatchObject({ type: 'turn.end', reason: 'cancelled' });
    expect(errors).toEqual([]);
  });

  it('counts words from the first number, clamped, else the default', () => {
    expect(wordCount('write 12 lines', 60, 100)).toBe(12);
    expect(wordCount('999999', 60, 100)).toBe(100);
    expect(wordCount('0', 60, 100)).toBe(1);
    expect(wordCount('no number here', 60, 100)).toBe(60);
  });
});
