import { afterEach, describe, expect, it } from 'vitest';
import { durableResponse } from './durable-response';
import type { AuthorizeContext } from './protocol/config';
import { createSessionServer, type SessionServer, type SessionServerOptions } from './server';

const BASE = 'http://localhost/v1/stream';
const JSON_TYPE = { 'content-type': 'application/json' };
const servers: SessionServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function setup(options: SessionServerOptions = {}) {
  const server = createSessionServer({ onError: () => undefined, ...options });
  servers.push(server);
  const call = (path: string, init: RequestInit = {}): Promise<Response> => server.handler(new Request(`${BASE}${path}`, init));
  const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    call(path, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const events = async (id: string): Promise<unknown[]> => (await (await call(`/${id}?offset=-1`)).json()) as unknown[];
  return { server, call, post, events };
}
const code = async (res: Response): Promise<string> => ((await res.json()) as { error: { code: string } }).error.code;
const prompt = (turnId: string, clientId = 'c1') => ({ type: 'prompt', turnId, text: 'hi', clientId });

describe('only well-formed events enter a session stream', () => {
  it('refuses null, non-objects, objects without a string type and malformed SDK events with 400, storing nothing of the request', async () => {
    const { call, post, events } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    expect((await post('/s', prompt('t0'))).status).toBe(204);
    for (const body of ['null', '[null]', '[1]', '"x"', '[[]]', '{"text":"no type"}', '{"type":5}', '{"type":""}', [prompt('t1'), null], { type: 'fetch.chunk', turnId: 't' }]) {
      const res = await post('/s', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await code(res)).toBe('invalid-event');
    }
    expect(await events('s')).toEqual([prompt('t0')]);
    expect((await post('/s', { type: 'tool.call', turnId: 't0', name: 'search' })).status).toBe(204);
  });

  it('refuses more than maxEventsPerAppend events with 413 too-many-events before storing any', async () => {
    const { call, post, events } = setup({ maxEventsPerAppend: 10 });
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    const res = await post('/s', Array.from({ length: 11 }, (_, i) => ({ type: 'note', i })));
    expect(res.status).toBe(413);
    expect(await code(res)).toBe('too-many-events');
    expect(await events('s')).toEqual([]);
  });

  it('refuses appends past the session bounds with 413 session-full; the session stays readable', async () => {
    const { call, post, events } = setup({ maxSessionEvents: 3 });
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    expect((await post('/s', [{ type: 'a' }, { type: 'b' }])).status).toBe(204);
    const full = await post('/s', [{ type: 'c' }, { type: 'd' }]);
    expect(full.status).toBe(413);
    expect(await code(full)).toBe('session-full');
    expect(await events('s')).toEqual([{ type: 'a' }, { type: 'b' }]);
  });
});

describe('roles', () => {
  it('clients cannot write agent events, close a session, or use the server producer namespace', async () => {
    const { call, post, events } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    for (const body of [
      { type: 'turn.start', turnId: 't', agentId: 'demo' },
      { type: 'delta', turnId: 't', agentId: 'demo', text: 'forged' },
      { type: 'turn.end', turnId: 't', agentId: 'demo', reason: 'complete' },
      { type: 'fetch.chunk', turnId: 't', agentId: 'fetch', text: 'forged' },
    ]) {
      const res = await post('/s', body);
      expect(res.status).toBe(403);
      expect(await code(res)).toBe('forbidden');
    }
    expect((await post('/s', prompt('t'), { 'producer-id': '__turn/t/demo', 'producer-epoch': '9', 'producer-seq': '0' })).status).toBe(403);
    expect((await call('/s', { method: 'POST', headers: { 'stream-closed': 'true' } })).status).toBe(403);
    expect(await events('s')).toEqual([]);
  });

  it('authorize sees the parsed events with their actions, before any lookup', async () => {
    const seen: AuthorizeContext[] = [];
    const { post } = setup({ authorize: (_req, ctx) => (seen.push(ctx), false) });
    const unknown = await post('/missing', [prompt('t'), { type: 'cancel', turnId: 't', clientId: 'c1' }]);
    expect(unknown.status).toBe(403); // not 404: refusing tells nothing about existence
    expect(seen[0]).toEqual({
      sessionId: 'missing',
      action: 'control',
      events: [
        { event: prompt('t'), action: 'append' },
        { event: { type: 'cancel', turnId: 't', clientId: 'c1' }, action: 'control' },
      ],
    });
  });

  it('a viewer reads but never writes; a participant is bound to its clientId; an agent grant writes agent events', async () => {
    const { call, post, events } = setup({
      authorize: (req) => {
        const who = req.headers.get('x-user');
        if (who === 'viewer') return { role: 'viewer' };
        if (who === 'agent') return { role: 'agent', agentId: 'bot' };
        return { role: 'participant', clientId: who ?? 'anon' };
      },
    });
    await call('/s', { method: 'PUT', headers: { ...JSON_TYPE, 'x-user': 'alice' } });
    expect((await post('/s', prompt('t', 'alice'), { 'x-user': 'alice' })).status).toBe(204);
    expect((await post('/s', prompt('t2', 'bob'), { 'x-user': 'alice' })).status).toBe(403);
    expect((await post('/s', prompt('t3', 'viewer'), { 'x-user': 'viewer' })).status).toBe(403);
    expect((await call('/s', { method: 'DELETE', headers: { 'x-user': 'viewer' } })).status).toBe(403);
    expect((await call('/s?offset=-1', { headers: { 'x-user': 'viewer' } })).status).toBe(200);
    expect((await post('/s', { type: 'delta', turnId: 't', agentId: 'other', text: 'x' }, { 'x-user': 'agent' })).status).toBe(403);
    expect((await post('/s', { type: 'delta', turnId: 't', agentId: 'bot', text: 'x' }, { 'x-user': 'agent' })).status).toBe(204);
    expect(await events('s')).toEqual([prompt('t', 'alice'), { type: 'delta', turnId: 't', agentId: 'bot', text: 'x' }]);
  });

  it("control: 'own-turns' limits cancel and steer to the turns the caller prompted", async () => {
    const { call, post } = setup({ authorize: (req) => ({ clientId: req.headers.get('x-user') ?? 'anon', control: 'own-turns' }) });
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    await post('/s', prompt('ta', 'alice'), { 'x-user': 'alice' });
    await post('/s', prompt('tb', 'bob'), { 'x-user': 'bob' });
    const cancel = (turnId: string, clientId: string) => post('/s', { type: 'cancel', turnId, clientId }, { 'x-user': clientId });
    expect((await cancel('tb', 'alice')).status).toBe(403);
    expect((await cancel('*', 'alice')).status).toBe(403);
    expect((await post('/s', { type: 'steer', turnId: 'tb', text: 'x', clientId: 'alice' }, { 'x-user': 'alice' })).status).toBe(403);
    expect((await cancel('ta', 'alice')).status).toBe(204);
  });

  it('durableResponse runs the same authorize, before the session is looked up', async () => {
    const { server } = setup({ authorize: (req) => req.headers.get('x-user') === 'alice' });
    const upstream = new Response('hello');
    await expect(durableResponse(server, upstream, { sessionId: 's' })).rejects.toMatchObject({ code: 'forbidden' });
    const request = (user: string) => new Request('http://localhost/api/chat', { method: 'POST', headers: { 'x-user': user } });
    await expect(durableResponse(server, upstream, { sessionId: 's', request: request('mallory') })).rejects.toMatchObject({ code: 'forbidden' });
    expect((await server.store.head('s')).status).toBe('not-found');
    const res = await durableResponse(server, upstream, { sessionId: 's', request: request('alice') });
    expect(await res.text()).toBe('hello');
  });
});

describe('stream identity and deletion', () => {
  it('an offset of a deleted and re-created session answers 410 gone; a deleted session answers 404 deleted', async () => {
    const { call, post } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    const tail = (await post('/s', prompt('t'))).headers.get('stream-next-offset') ?? '';
    expect((await call('/s', { method: 'DELETE' })).status).toBe(204);
    for (const init of [{}, { method: 'DELETE' }]) {
      const res = await call('/s?offset=-1', init);
      expect(res.status).toBe(404);
      expect(await code(res)).toBe('deleted');
    }
    const append = await post('/s', prompt('t2'));
    expect([append.status, await code(append)]).toEqual([404, 'deleted']);
    expect(await code(await call('/never?offset=-1'))).toBe('not-found');
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    await post('/s', [prompt('x'), prompt('y')]);
    const stale = await call(`/s?offset=${tail}`);
    expect(stale.status).toBe(410);
    expect(await code(stale)).toBe('gone');
  });
});

describe('content types', () => {
  it('serves what clients stored sandboxed: CSP sandbox, nosniff, and as an attachment', async () => {
    const { call } = setup();
    await call('/page', { method: 'PUT', headers: { 'content-type': 'text/html' }, body: '<script>alert(document.cookie)</script>' });
    const res = await call('/page?offset=-1');
    expect(res.headers.get('content-security-policy')).toMatch(/^sandbox/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe('attachment');
  });
});
