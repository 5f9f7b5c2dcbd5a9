import { afterEach, expect, it } from 'vitest';
import { demoAgent } from './demo-agent';
import { createSessionServer, type SessionServer } from './server';

const servers: SessionServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

it('deleted sessions leave the session index (bounded under create/delete churn), and prompts are still answered', async () => {
  const server = createSessionServer({ onError: () => undefined });
  servers.push(server);
  server.host.onPrompt(demoAgent({ delayMs: 0, defaultWords: 2 }), { agentId: 'demo' });
  const call = (id: string, init: RequestInit = {}) => server.handler(new Request(`http://x/v1/stream/${id}`, init));
  const put = (id: string) => call(id, { method: 'PUT', headers: { 'content-type': 'application/json' } });
  await put('kept');
  for (let i = 0; i < 1500; i++) {
    expect((await put(`churn-${i}`)).status).toBe(201);
    expect((await call(`churn-${i}`, { method: 'DELETE' })).status).toBe(204);
  }
  const index = await server.store.read('__sessions', { from: '-1' });
  if (index.status !== 'ok') throw new Error(index.status);
  expect(index.entries.length).toBeLessThan(1100); // 1,501 sessions listed, 1,500 of them deleted
  const listed = index.entries.map((e) => (JSON.parse(new TextDecoder().decode(e.data)) as { sessionId: string }).sessionId);
  expect(listed).toContain('kept');
  // The host follows the rewritten index: a new session's prompt is answered.
  await put('after');
  await call('after', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'prompt', turnId: 't', text: 'hi', clientId: 'c' }) });
  for (let i = 0; i < 200; i++) {
    const read = await server.store.read('after', { from: '-1' });
    if (read.status === 'ok' && read.entries.some((e) => new TextDecoder().decode(e.data).includes('"turn.end"'))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the prompt was not answered after the index was compacted');
}, 60_000);
