import { afterEach, describe, expect, it } from 'vitest';
import { DURABLE_FETCH_HEADERS as H } from '@durable-session/core';
import { durableResponse, FETCH_CHUNK_EVENT } from './durable-response';
import { SessionServerError } from './errors';
import { createSessionServer, type SessionServer } from './server';

const servers: SessionServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
function server(): SessionServer {
  const s = createSessionServer({ onError: () => undefined });
  servers.push(s);
  return s;
}

type Ev = { type: string; turnId?: string; text?: string; reason?: string; error?: string };
async function events(s: SessionServer, id: string): Promise<Ev[]> {
  const read = await s.store.read(id, { from: '-1' });
  if (read.status !== 'ok') throw new Error(`cannot read ${id}: ${read.status}`);
  return read.entries.map((e) => JSON.parse(new TextDecoder().decode(e.data)) as Ev);
}
/** Poll the session until `done` holds (bounded). */
async function until(s: SessionServer, id: string, done: (events: Ev[]) => boolean): Promise<Ev[]> {
  for (let i = 0; i < 500; i++) {
    const list = await events(s, id);
    if (done(list)) return list;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('timed out waiting for the session');
}
const ended = (list: Ev[]): boolean => list.some((e) => e.type === 'turn.end');

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('durableResponse', () => {
  it('streams the upstream bytes, stores them as chunks between turn.start and turn.end, and sets the headers', async () => {
    const s = server();
    const upstream = new Response('data: a\n\ndata: b\n\n', { headers: { 'content-type': 'text/event-stream', 'x-custom': '1', 'content-length': '18' } });
    const res = await durableResponse(s, upstream, { sessionId: 'chat-1', turnId: 't1', resumeUrl: '/api/chat/chat-1/stream' });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('x-custom')).toBe('1');
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get(H.session)).toBe('chat-1');
    expect(res.headers.get(H.turn)).toBe('t1');
    expect(res.headers.get(H.stream)).toBe('/v1/stream/chat-1');
    expect(res.headers.get(H.resume)).toBe('/api/chat/chat-1/stream');
    expect(res.headers.get('access-control-expose-headers')).toContain(H.offset);
    expect(await res.text()).toBe('data: a\n\ndata: b\n\n');

    const list = await until(s, 'chat-1', ended);
    expect(list[0]).toMatchObject({ type: 'turn.start', turnId: 't1', agentId: 'fetch' });
    expect(list.at(-1)).toMatchObject({ type: 'turn.end', turnId: 't1', reason: 'complete' });
    const text = list.filter((e) => e.type === FETCH_CHUNK_EVENT).map((e) => e.text).join('');
    expect(text).toBe('data: a\n\ndata: b\n\n');
    // The offset header points at or before turn.start.
    const from = (await s.host.session('chat-1').read({ from: res.headers.get(H.offset)! })).events[0]?.event as Ev;
    expect(from.type).toBe('turn.start');
  });

  it('keeps UTF-8 characters split across chunks, and a BOM, byte for byte', async () => {
    const s = server();
    const bytes = new TextEncoder().encode('\uFEFFhé 😀 ok');
    const parts = [bytes.slice(0, 2), bytes.slice(2, 5), bytes.slice(5, 9), bytes.slice(9)];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(p);
        c.close();
      },
    });
    const res = await durableResponse(s, body, { sessionId: 'utf8' });
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const list = await until(s, 'utf8', ended);
    const stored = list.filter((e) => e.type === FETCH_CHUNK_EVENT).map((e) => e.text).join('');
    expect(new TextEncoder().encode(stored)).toEqual(bytes);
  });

  it('accepts an async iterable of strings and `init` for status and headers', async () => {
    const s = server();
    async function* gen(): AsyncGenerator<string> {
      yield 'one ';
      yield '';
      yield 'two';
    }
    const res = await durableResponse(s, gen(), { sessionId: 'iter', init: { status: 201, headers: { 'content-type': 'text/event-stream' } } });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe('one two');
  });

  it('keeps consuming and storing the upstream after the client went away', async () => {
    const s = server();
    const go = gate();
    async function* gen(): AsyncGenerator<string> {
      yield 'first ';
      await go.promise;
      for (let i = 0; i < 20; i++) yield `${i} `;
    }
    const res = await durableResponse(s, gen(), { sessionId: 'gone' });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first ');
    await reader.cancel();
    go.open();
    const list = await until(s, 'gone', ended);
    expect(list.at(-1)).toMatchObject({ reason: 'complete' });
    const text = list.filter((e) => e.type === FETCH_CHUNK_EVENT).map((e) => e.text).join('');
    expect(text).toBe('first ' + Array.from({ length: 20 }, (_, i) => `${i} `).join(''));
  });

  it('hands the factory a signal that aborts on a `cancel` event; the turn ends cancelled and the response closes', async () => {
    const s = server();
    let seen: AbortSignal | undefined;
    const res = await durableResponse(
      s,
      ({ signal }) => {
        seen = signal;
        return new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode('partial'));
            signal.addEventListener('abort', () => c.error(signal.reason));
          },
        });
      },
      { sessionId: 'stop', turnId: 't-stop' },
    );
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('partial');
    expect(seen?.aborted).toBe(false);
    await s.host.session('stop').append({ type: 'cancel', turnId: 't-stop', clientId: 'c1' });
    expect((await reader.read()).done).toBe(true);
    expect(seen?.aborted).toBe(true);
    const list = await until(s, 'stop', ended);
    expect(list.at(-1)).toMatchObject({ type: 'turn.end', reason: 'cancelled' });
  });

  it('ends the turn with error and errors the client stream when the upstream fails mid-way', async () => {
    const s = server();
    async function* gen(): AsyncGenerator<string> {
      yield 'some ';
      throw new Error('model overloaded');
    }
    const res = await durableResponse(s, gen(), { sessionId: 'fail' });
    await expect(res.text()).rejects.toThrow(/model overloaded/);
    const list = await until(s, 'fail', ended);
    expect(list.at(-1)).toMatchObject({ type: 'turn.end', reason: 'error', error: 'model overloaded' });
    expect(list.some((e) => e.text === 'some ')).toBe(true);
  });

  it('rethrows a factory failure after ending the turn with error', async () => {
    const s = server();
    await expect(
      durableResponse(
        s,
        () => {
          throw new Error('no API key');
        },
        { sessionId: 'throws' },
      ),
    ).rejects.toThrow('no API key');
    expect((await events(s, 'throws')).at(-1)).toMatchObject({ type: 'turn.end', reason: 'error', error: 'no API key' });
  });

  it('returns an upstream error response as is', async () => {
    const s = server();
    const upstream = new Response('rate limited', { status: 429 });
    const res = await durableResponse(s, upstream, { sessionId: 'e429' });
    expect(res).toBe(upstream);
    expect(res.headers.get(H.session)).toBeNull();
    expect((await events(s, 'e429')).at(-1)).toMatchObject({ type: 'turn.end', reason: 'error', error: 'upstream answered 429' });
  });

  it('ends the turn with error when the host shuts down mid-answer', async () => {
    const s = server();
    const res = await durableResponse(s, ({ signal }) => new ReadableStream<Uint8Array>({ start: (c) => signal.addEventListener('abort', () => c.close()) }), {
      sessionId: 'shutdown',
    });
    await s.host.close();
    await expect(res.text()).rejects.toBeInstanceOf(SessionServerError);
    expect((await events(s, 'shutdown')).at(-1)).toMatchObject({ type: 'turn.end', reason: 'error' });
  });

  it('uses a random session id and a custom stream URL', async () => {
    const s = server();
    const res = await durableResponse(s, new Response('x'), { streamUrl: 'https://sessions.example.com/v1/stream/abc' });
    expect(res.headers.get(H.session)).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get(H.stream)).toBe('https://sessions.example.com/v1/stream/abc');
    expect(await res.text()).toBe('x');
  });
});

describe('durableResponse waitUntil', () => {
  it('hands the platform the work that outlives the response', async () => {
    const s = server();
    const handed: Promise<void>[] = [];
    async function* gen(): AsyncGenerator<string> {
      yield 'a';
      yield 'b';
    }
    const res = await durableResponse(s, gen(), { sessionId: 'wait', waitUntil: (work) => handed.push(work) });
    expect(handed).toHaveLength(1);
    await res.body!.cancel(); // the client left at once
    await handed[0];
    expect((await events(s, 'wait')).at(-1)).toMatchObject({ type: 'turn.end', reason: 'complete' });
  });
});
