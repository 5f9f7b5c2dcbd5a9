import { afterEach, describe, expect, it } from 'vitest';
import { memoryStore } from '../memory-store';
import { createSessionServer, type SessionServer } from '../server';

const servers: SessionServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const BASE = 'http://localhost/v1/stream';
const enc = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

async function sessionWithTurns(turns: number): Promise<SessionServer> {
  const server = createSessionServer({ store: memoryStore() });
  servers.push(server);
  await server.store.create('s', { contentType: 'application/json' });
  for (let t = 0; t < turns; t++) {
    const events = [
      { type: 'prompt', turnId: `t${t}`, text: `q${t}`, clientId: 'c' },
      { type: 'delta', turnId: `t${t}`, agentId: 'a', text: `answer ${t}` },
      { type: 'turn.end', turnId: `t${t}`, agentId: 'a', reason: 'complete' },
    ];
    await server.store.append('s', { entries: events.map(enc) });
  }
  return server;
}
const get = (server: SessionServer, query: string): Promise<Response> => server.handler(new Request(`${BASE}/s?snapshot${query}`));

describe('GET ?snapshot', () => {
  it('answers the last N turns, the count of older ones and the offset to read on from; stores the snapshot', async () => {
    const server = await sessionWithTurns(12);
    const res = await get(server, '&turns=3');
    expect(res.status).toBe(200);
    const page = (await res.json()) as { offset: string; turns: { turnId: string; text: string }[]; older: number };
    expect(page.turns.map((t) => t.turnId)).toEqual(['t9', 't10', 't11']);
    expect(page.older).toBe(9);
    const head = await server.store.head('s');
    expect(head.status === 'ok' && head.stream.tail).toBe(page.offset);
    const held = await server.store.getSnapshot('s');
    expect(held.status === 'ok' && held.snapshot.offset).toBe(page.offset);
    const back = (await (await get(server, '&turns=5&before=t9')).json()) as typeof page;
    expect([back.turns.map((t) => t.turnId), back.older]).toEqual([['t4', 't5', 't6', 't7', 't8'], 4]);
  });

  it('folds up to `at`, and never back past the stored snapshot', async () => {
    const server = await sessionWithTurns(2);
    const first = await server.store.read('s', { from: '-1', limit: 3 });
    const at = first.status === 'ok' ? first.next : '';
    const early = (await (await get(server, `&at=${at}`)).json()) as { offset: string; turns: unknown[] };
    expect([early.offset, early.turns.length]).toEqual([at, 1]);
    await get(server, ''); // stores the snapshot at the tail
    const clamped = (await (await get(server, `&at=${at}`)).json()) as { offset: string; turns: unknown[] };
    expect(clamped.turns.length).toBe(2);
  });

  it('refuses bad input with a typed error', async () => {
    const server = await sessionWithTurns(1);
    expect((await get(server, '&turns=0')).status).toBe(400);
    expect((await get(server, '&before=nope')).status).toBe(400);
    expect((await get(server, '&at=garbage')).status).toBe(400);
    expect((await get(server, '&at=1234567890abcdef_0000000000000001')).status).toBe(410);
    expect((await server.handler(new Request(`${BASE}/missing?snapshot`))).status).toBe(404);
  });
});
