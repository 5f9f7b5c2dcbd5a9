import { afterEach, describe, expect, it } from 'vitest';
import { SessionServerError } from '../errors';
import { memoryStore } from '../memory-store';
import { formatOffset, ZERO_OFFSET } from '../offsets';
import type { SessionStore } from '../store';
import type { SessionAction } from './config';
import { createProtocolHandler, type ProtocolHandlerOptions } from './handler';

const BASE = 'http://localhost/v1/stream';
const JSON_TYPE = { 'content-type': 'application/json' };

const stores: SessionStore[] = [];
const reported: unknown[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  // The handler reports only unexpected failures: none of these requests may cause one.
  expect(reported.splice(0)).toEqual([]);
});

/** A generic Durable Streams handler (`sessionStreams: false`): these are protocol tests; session rules are in session-streams.test.ts. */
function setup(options: Partial<ProtocolHandlerOptions> = {}) {
  const store = memoryStore();
  stores.push(store);
  const handler = createProtocolHandler({ store, onError: (e) => reported.push(e), sessionStreams: false, ...options });
  const call = (path: string, init: RequestInit = {}): Promise<Response> => handler(new Request(`${BASE}${path}`, init));
  /** The offset of `position` in stream `id` as it is now. */
  const at = async (id: string, position: number): Promise<string> => {
    const head = await store.head(id);
    if (head.status !== 'ok') throw new Error(head.status);
    return formatOffset(head.stream.instance, position);
  };
  return { store, handler, call, at };
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  expect(response.headers.get('content-type')).toBe('application/json');
  const body = (await response.json()) as { error: { code: string; message: string } };
  return body.error;
}

describe('create, append and read (JSON mode)', () => {
  it('flattens one array level per append and reads the messages back as one JSON array', async () => {
    const { call, at } = setup();
    const put = await call('/chat', { method: 'PUT', headers: JSON_TYPE, body: '[{"type":"a"}]' });
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe(`${BASE}/chat`);
    expect(put.headers.get('stream-next-offset')).toBe(await at('chat', 1));
    const post = await call('/chat', { method: 'POST', headers: JSON_TYPE, body: '[{"type":"b"},[1,2]]' });
    expect(post.status).toBe(204);
    expect(post.headers.get('stream-next-offset')).toBe(await at('chat', 3));
    const get = await call('/chat?offset=-1');
    expect(get.status).toBe(200);
    expect(get.headers.get('stream-up-to-date')).toBe('true');
    expect(await get.json()).toEqual([{ type: 'a' }, { type: 'b' }, [1, 2]]);
    const after = await call(`/chat?offset=${await at('chat', 1)}`);
    expect(await after.json()).toEqual([{ type: 'b' }, [1, 2]]);
  });

  it('answers an idempotent PUT with 200 and a different configuration with 409', async () => {
    const { call } = setup();
    expect((await call('/s', { method: 'PUT', headers: JSON_TYPE })).status).toBe(201);
    expect((await call('/s', { method: 'PUT', headers: JSON_TYPE })).status).toBe(200);
    const conflict = await call('/s', { method: 'PUT', headers: { 'content-type': 'text/plain' } });
    expect(conflict.status).toBe(409);
    expect((await errorOf(conflict)).code).toBe('conflict');
  });

  it('serves an unchanged read as 304 to a client holding its ETag', async () => {
    const { call } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE, body: '{"n":1}' });
    const first = await call('/s');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    expect((await call('/s', { headers: { 'if-none-match': etag ?? '' } })).status).toBe(304);
    await call('/s', { method: 'POST', headers: JSON_TYPE, body: '{"n":2}' });
    expect((await call('/s', { headers: { 'if-none-match': etag ?? '' } })).status).toBe(200);
  });

  it('answers offset=now with [] and the tail, and resumes from there', async () => {
    const { call, at } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE, body: '[1,2]' });
    const now = await call('/s?offset=now');
    expect(await now.text()).toBe('[]');
    expect(now.headers.get('stream-next-offset')).toBe(await at('s', 2));
    expect(now.headers.get('cache-control')).toBe('no-store');
    await call('/s', { method: 'POST', headers: JSON_TYPE, body: '3' });
    expect(await (await call(`/s?offset=${now.headers.get('stream-next-offset') ?? ''}`)).json()).toEqual([3]);
  });
});

describe('bad input gets the protocol status and a JSON error body', () => {
  it('malformed JSON: 400 invalid-json', async () => {
    const { call } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    const res = await call('/s', { method: 'POST', headers: JSON_TYPE, body: '{ nope' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid-json');
  });

  it('an empty JSON array: 400', async () => {
    const { call } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    expect((await call('/s', { method: 'POST', headers: JSON_TYPE, body: '[]' })).status).toBe(400);
  });

  it('a body over maxBodyBytes: 413 payload-too-large, nothing appended', async () => {
    const { call } = setup({ maxBodyBytes: 64 });
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    const res = await call('/s', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ text: 'x'.repeat(100) }) });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload-too-large');
    expect(await (await call('/s')).json()).toEqual([]);
  });

  it('a streamed body over the limit without Content-Length: 413', async () => {
    const { handler } = setup({ maxBodyBytes: 10 });
    await handler(new Request(`${BASE}/s`, { method: 'PUT', headers: { 'content-type': 'text/plain' } }));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode('abcd'));
        c.close();
      },
    });
    const init = { method: 'POST', headers: { 'content-type': 'text/plain' }, body, duplex: 'half' } as RequestInit;
    expect((await handler(new Request(`${BASE}/s`, init))).status).toBe(413);
  });

  it('malformed offsets: 400 invalid-offset', async () => {
    const { call } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    for (const query of ['offset=abc', 'offset=', 'offset=0,1', `offset=${ZERO_OFFSET}&offset=-1`, 'live=long-poll']) {
      const res = await call(`/s?${query}`);
      expect(res.status, query).toBe(400);
      expect((await errorOf(res)).code).toBe('invalid-offset');
    }
  });

  it('an unknown session: 404 not-found, for every method', async () => {
    const { call } = setup();
    for (const init of [{}, { method: 'POST', headers: JSON_TYPE, body: '{}' }, { method: 'DELETE' }]) {
      const res = await call('/missing', init);
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe('not-found');
    }
    expect((await call('/missing', { method: 'HEAD' })).status).toBe(404);
  });

  it('an append to a closed stream: 409 stream-closed with Stream-Closed and the final offset', async () => {
    const { call, at } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE, body: '[1]' });
    expect((await call('/s', { method: 'POST', headers: { 'stream-closed': 'true' } })).status).toBe(204);
    const res = await call('/s', { method: 'POST', headers: JSON_TYPE, body: '2' });
    expect(res.status).toBe(409);
    expect(res.headers.get('stream-closed')).toBe('true');
    expect(res.headers.get('stream-next-offset')).toBe(await at('s', 1));
    expect((await errorOf(res)).code).toBe('stream-closed');
  });

  it('a content type that does not match the stream: 409; a missing one: 400', async () => {
    const { call } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    const mismatch = await call('/s', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(mismatch.status).toBe(409);
    expect((await errorOf(mismatch)).code).toBe('content-type-mismatch');
    const missing = await call('/s', { method: 'POST', body: new Blob(['{}']) });
    expect(missing.status).toBe(400);
  });

  it('SDK control events missing required fields: 400 invalid-event; application events pass through', async () => {
    const { call } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    const bad = [
      { type: 'cancel', turnId: 't1' },
      { type: 'steer', turnId: 't1', clientId: 'c1' },
      { type: 'prompt', text: 'hi', clientId: 'c1' },
      { type: 'turn.end', turnId: 't1', agentId: 'a', reason: 'bored' },
    ];
    for (const event of bad) {
      const res = await call('/s', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify([{ type: 'ok.app' }, event]) });
      expect(res.status, JSON.stringify(event)).toBe(400);
      expect((await errorOf(res)).code).toBe('invalid-event');
    }
    // nothing of a refused batch was written
    expect(await (await call('/s')).json()).toEqual([]);
    const good = [{ type: 'tool.call', whatever: 1 }, { type: 'cancel', turnId: '*', clientId: 'c1' }, 42];
    expect((await call('/s', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(good) })).status).toBe(204);
    expect(await (await call('/s')).json()).toEqual(good);
  });

  it('paths that are not session URLs: 404; reserved __ ids are not reachable', async () => {
    const { call, handler } = setup();
    expect((await handler(new Request('http://localhost/elsewhere'))).status).toBe(404);
    expect((await call('/__sessions')).status).toBe(404);
    expect((await call('/a%2Fb', { method: 'PUT', headers: JSON_TYPE })).status).toBe(404);
    expect((await call('/a%00b', { method: 'PUT', headers: JSON_TYPE })).status).toBe(404);
    expect((await call('/nested/id', { method: 'PUT', headers: JSON_TYPE })).status).toBe(201);
  });

  it('an unsupported method: 405 with Allow', async () => {
    const { call } = setup();
    const res = await call('/s', { method: 'PATCH' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('POST');
  });

  it('every response carries the browser security and CORS headers', async () => {
    const { call } = setup();
    const res = await call('/missing', { headers: { origin: 'https://app.example' } });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('stream-next-offset');
    const preflight = await call('/s', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, producer-id' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('producer-id');
  });

  it('an origin list only allows those origins', async () => {
    const { call } = setup({ cors: ['https://ok.example'] });
    expect((await call('/x', { headers: { origin: 'https://ok.example' } })).headers.get('access-control-allow-origin')).toBe('https://ok.example');
    expect((await call('/x', { headers: { origin: 'https://evil.example' } })).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('authorize', () => {
  it('is asked with the session and the action, and refuses with 401/403', async () => {
    const seen: Array<[string, SessionAction]> = [];
    const { call } = setup({
      authorize(request, { sessionId, action }) {
        seen.push([sessionId, action]);
        if (request.headers.get('authorization') === null) throw new SessionServerError('unauthorized', 'token required');
        return request.headers.get('authorization') !== 'Bearer reader' || action === 'read';
      },
    });
    const admin = { authorization: 'Bearer admin', ...JSON_TYPE };
    const reader = { authorization: 'Bearer reader', ...JSON_TYPE };
    expect((await call('/s', { method: 'PUT', headers: admin })).status).toBe(201);
    expect((await call('/s', { method: 'POST', headers: admin, body: '{"type":"note"}' })).status).toBe(204);
    expect((await call('/s', { method: 'POST', headers: admin, body: '{"type":"cancel","turnId":"*","clientId":"c"}' })).status).toBe(204);
    expect((await call('/s', { method: 'POST', headers: { authorization: 'Bearer admin', 'stream-closed': 'true' } })).status).toBe(204);
    expect((await call('/s', { headers: reader })).status).toBe(200);
    const refused = await call('/s', { method: 'DELETE', headers: reader });
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe('forbidden');
    const anonymous = await call('/s');
    expect(anonymous.status).toBe(401);
    expect((await errorOf(anonymous)).code).toBe('unauthorized');
    expect(seen.map(([, action]) => action)).toEqual(['create', 'append', 'control', 'control', 'read', 'delete', 'read']);
    expect(seen.every(([id]) => id === 's')).toBe(true);
  });
});

describe('idempotent producers over HTTP', () => {
  it('answers 200 for new data, 204 for a retry, 403 for a stale epoch, 409 for a gap', async () => {
    const { call } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    const send = (epoch: number, seq: number) =>
      call('/s', {
        method: 'POST',
        headers: { ...JSON_TYPE, 'producer-id': 'p', 'producer-epoch': String(epoch), 'producer-seq': String(seq) },
        body: JSON.stringify({ epoch, seq }),
      });
    expect((await send(0, 0)).status).toBe(200);
    const retry = await send(0, 0);
    expect(retry.status).toBe(204);
    expect(retry.headers.get('producer-seq')).toBe('0');
    const gap = await send(0, 5);
    expect(gap.status).toBe(409);
    expect(gap.headers.get('producer-expected-seq')).toBe('1');
    expect((await send(1, 0)).status).toBe(200);
    const stale = await send(0, 1);
    expect(stale.status).toBe(403);
    expect(stale.headers.get('producer-epoch')).toBe('1');
    expect(await (await call('/s')).json()).toEqual([
      { epoch: 0, seq: 0 },
      { epoch: 1, seq: 0 },
    ]);
  });

  it('refuses partial or malformed producer headers with 400', async () => {
    const { call } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    const post = (headers: Record<string, string>) => call('/s', { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: '1' });
    expect((await post({ 'producer-id': 'p' })).status).toBe(400);
    expect((await post({ 'producer-id': 'p', 'producer-epoch': '1e3', 'producer-seq': '0' })).status).toBe(400);
    expect((await post({ 'producer-id': '', 'producer-epoch': '0', 'producer-seq': '0' })).status).toBe(400);
  });
});

describe('live reads', () => {
  it('long-poll waits for the next append and returns it', async () => {
    const { call, at } = setup({ longPollTimeoutMs: 60_000 });
    await call('/s', { method: 'PUT', headers: JSON_TYPE, body: '{"n":0}' });
    const polling = call(`/s?offset=${await at('s', 1)}&live=long-poll`);
    await call('/s', { method: 'POST', headers: JSON_TYPE, body: '{"n":1}' });
    const res = await polling;
    expect(res.status).toBe(200);
    expect(res.headers.get('stream-cursor')).toMatch(/^\d+$/);
    expect(await res.json()).toEqual([{ n: 1 }]);
  });

  it('long-poll answers 204 with the tail when nothing arrives, and at once on a closed stream', async () => {
    const { call, at } = setup({ longPollTimeoutMs: 20 });
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    const timeout = await call(`/s?offset=${ZERO_OFFSET}&live=long-poll`);
    expect(timeout.status).toBe(204);
    expect(timeout.headers.get('stream-next-offset')).toBe(await at('s', 0)); // position 0, in this stream's instance
    expect(timeout.headers.get('stream-up-to-date')).toBe('true');
    await call('/s', { method: 'POST', headers: { 'stream-closed': 'true' } });
    const eof = await call(`/s?offset=${ZERO_OFFSET}&live=long-poll`);
    expect(eof.status).toBe(204);
    expect(eof.headers.get('stream-closed')).toBe('true');
  });

  it('a long-poll aborted by its client ends without waiting for the timeout', async () => {
    const { handler, call } = setup({ longPollTimeoutMs: 60_000 });
    await call('/s', { method: 'PUT', headers: JSON_TYPE });
    const controller = new AbortController();
    const polling = handler(new Request(`${BASE}/s?offset=${ZERO_OFFSET}&live=long-poll`, { signal: controller.signal }));
    controller.abort();
    expect((await polling).status).toBe(204);
  });

  it('SSE sends catch-up data, a control event, then live data as it is appended', async () => {
    const { handler, call, at } = setup();
    await call('/s', { method: 'PUT', headers: JSON_TYPE, body: '{"n":1}' });
    const controller = new AbortController();
    const res = await handler(new Request(`${BASE}/s?offset=-1&live=sse`, { signal: controller.signal }));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string): Promise<void> => {
      for (let i = 0; i < 50 && !text.includes(needle); i++) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    };
    await readUntil('"upToDate":true');
    expect(text).toContain('event: data\ndata:[\ndata:{"n":1}\ndata:]\n\n');
    expect(text).toContain(`event: control\ndata:{"streamNextOffset":"${await at('s', 1)}"`);
    await call('/s', { method: 'POST', headers: JSON_TYPE, body: '{"n":2}' });
    await readUntil(await at('s', 2));
    expect(text).toContain('data:{"n":2}');
    await call('/s', { method: 'POST', headers: { 'stream-closed': 'true' } });
    await readUntil('streamClosed');
    expect(text).toContain('"streamClosed":true');
    expect((await reader.read()).done).toBe(true);
    controller.abort();
  });

  it('SSE reads the store only as fast as its client takes the events (backpressure)', async () => {
    const store = memoryStore();
    stores.push(store);
    let reads = 0;
    let waits = 0;
    const counting: SessionStore = {
      create: (id, o) => store.create(id, o),
      head: (id, o) => store.head(id, o),
      append: (id, o) => store.append(id, o),
      putSnapshot: (id, snapshot) => store.putSnapshot(id, snapshot),
      getSnapshot: (id) => store.getSnapshot(id),
      read: (id, o) => {
        reads++;
        return store.read(id, o);
      },
      async wait(id, after, signal) {
        waits++;
        try {
          return await store.wait(id, after, signal);
        } finally {
          waits--;
        }
      },
      delete: (id) => store.delete(id),
      close: () => store.close(),
    };
    const handler = createProtocolHandler({ store: counting, maxReadBytes: 1024, onError: (e) => reported.push(e) });
    await store.create('big', { contentType: 'application/json' });
    const entry = new TextEncoder().encode(JSON.stringify({ pad: 'x'.repeat(100) }));
    for (let i = 0; i < 200; i++) await store.append('big', { entries: [entry] });

    const res = await handler(new Request(`${BASE}/big?offset=-1&live=sse`));
    await new Promise((resolve) => setTimeout(resolve, 50)); // a client that reads nothing
    expect(reads).toBeLessThanOrEqual(3); // not the ~20 reads of the whole session

    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"upToDate":true')) text += decoder.decode((await reader.read()).value);
    expect(text.match(/data:\{"pad"/g)).toHaveLength(200);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(waits).toBe(1); // waiting live for the next append
    await reader.cancel();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(waits).toBe(0); // cancelling the body ends the wait
  });

  it('SSE keeps a leading space of text data (SSE parsers strip one)', async () => {
    const { handler, call } = setup();
    await call('/t', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: ' indented\nplain' });
    await call('/t', { method: 'POST', headers: { 'stream-closed': 'true' } });
    const res = await handler(new Request(`${BASE}/t?offset=-1&live=sse`));
    const text = await res.text();
    expect(text).toContain('data:  indented\ndata:plain\n');
  });
});
