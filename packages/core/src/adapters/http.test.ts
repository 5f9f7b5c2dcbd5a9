import { describe, expect, it } from 'vitest';
import type { DurableSessionError } from '../errors';
import type { ReadBatch } from '../types';
import { httpAdapter } from './http';

type Call = { method: string; url: string; headers: Record<string, string>; body: string | undefined };
type Reply = Response | Error | ((call: Call) => Response | Error);

/** A fake fetch answering from a script, recording every request. */
function fakeFetch(replies: Reply[]) {
  const calls: Call[] = [];
  const fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const call: Call = { method: init.method ?? 'GET', url: String(input), headers: { ...(init.headers as Record<string, string>) }, body: init.body as string | undefined };
    calls.push(call);
    let r = replies.shift();
    if (typeof r === 'function') r = r(call);
    if (!r) throw new Error(`unexpected ${call.method} ${call.url}`);
    if (r instanceof Error) throw r;
    return r;
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}
const json = (body: unknown, headers: Record<string, string> = {}, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const status = (s: number) => new Response(null, { status: s });
const sse = (text: string) => new Response(text, { headers: { 'content-type': 'text/event-stream' } });

async function collect<E>(iter: AsyncIterable<ReadBatch<E>>, max = 100): Promise<ReadBatch<E>[]> {
  const out: ReadBatch<E>[] = [];
  for await (const b of iter) {
    out.push(b);
    if (out.length >= max) break;
  }
  return out;
}
const signal = () => new AbortController().signal;
const base = 'http://h/api/';
const producer = { producerId: 'p1', epoch: 2, seq: 7 };

describe('httpAdapter: reads', () => {
  it('catches up with plain GETs until up to date (no live)', async () => {
    const { fetch, calls } = fakeFetch([json([{ type: 'a' }], { 'Stream-Next-Offset': 'o1' }), json([{ type: 'b' }], { 'Stream-Next-Offset': 'o2', 'Stream-Up-To-Date': 'true' })]);
    const a = httpAdapter({ baseUrl: base, fetch });
    const got = await collect(a.read('chat 1', '-1', { live: false, signal: signal() }));
    expect(got).toEqual([
      { events: [{ type: 'a' }], offset: 'o1', upToDate: false, closed: false },
      { events: [{ type: 'b' }], offset: 'o2', upToDate: true, closed: false },
    ]);
    expect(calls.map((c) => c.url)).toEqual(['http://h/api/v1/stream/chat%201?offset=-1', 'http://h/api/v1/stream/chat%201?offset=o1']);
  });

  it('long-poll: switches to live once up to date, echoes the cursor, turns a 204 into an empty up-to-date batch', async () => {
    const { fetch, calls } = fakeFetch([
      json([], { 'Stream-Next-Offset': 'o1', 'Stream-Up-To-Date': 'true' }),
      new Response(null, { status: 204, headers: { 'Stream-Next-Offset': 'o1', 'Stream-Up-To-Date': 'true', 'Stream-Cursor': 'c1' } }),
      json([{ type: 'x' }], { 'Stream-Next-Offset': 'o2', 'Stream-Up-To-Date': 'true', 'Stream-Cursor': 'c2' }),
      json([], { 'Stream-Next-Offset': 'o2', 'Stream-Up-To-Date': 'true', 'Stream-Closed': 'true' }),
    ]);
    const a = httpAdapter({ baseUrl: 'http://h', live: 'long-poll', fetch });
    const got = await collect(a.read('s', '-1', { live: true, signal: signal() }));
    expect(got.map((b) => [b.events.length, b.offset, b.upToDate, b.closed])).toEqual([
      [0, 'o1', true, false],
      [0, 'o1', true, false],
      [1, 'o2', true, false],
      [0, 'o2', true, true],
    ]);
    expect(calls.map((c) => c.url.split('?')[1])).toEqual(['offset=-1', 'live=long-poll&offset=o1', 'cursor=c1&live=long-poll&offset=o1', 'cursor=c2&live=long-poll&offset=o2']);
  });

  it('sse: parses data arrays and control events, reconnects at the last offset with the cursor', async () => {
    const { fetch, calls } = fakeFetch([
      json([], { 'Stream-Next-Offset': 'o0', 'Stream-Up-To-Date': 'true' }),
      sse('event: data\ndata: [\ndata: {"type":"a"},\ndata: {"type":"b"}\ndata: ]\n\nevent: control\ndata: {"streamNextOffset":"o1","streamCursor":"c1"}\n\n'),
      sse('event: data\ndata: [{"type":"c"}]\n\nevent: control\ndata: {"streamNextOffset":"o2","streamCursor":"c2","upToDate":true}\n\nevent: control\ndata: {"streamNextOffset":"o2","streamClosed":true}\n\n'),
    ]);
    const a = httpAdapter({ baseUrl: 'http://h', fetch });
    const got = await collect(a.read('s', '-1', { live: true, signal: signal() }));
    expect(got).toEqual([
      { events: [], offset: 'o0', upToDate: true, closed: false },
      { events: [{ type: 'a' }, { type: 'b' }], offset: 'o1', upToDate: false, closed: false },
      { events: [{ type: 'c' }], offset: 'o2', upToDate: true, closed: false },
      { events: [], offset: 'o2', upToDate: true, closed: true },
    ]);
    expect(calls.map((c) => c.url.split('?')[1])).toEqual(['offset=-1', 'live=sse&offset=o0', 'cursor=c1&live=sse&offset=o1']);
  });

  it('sse: a response that ends without any control event is a network error (caller backs off)', async () => {
    const { fetch } = fakeFetch([json([], { 'Stream-Next-Offset': 'o0', 'Stream-Up-To-Date': 'true' }), sse(': nothing\n\n')]);
    const a = httpAdapter({ baseUrl: 'http://h', fetch });
    await expect(collect(a.read('s', '-1', { live: true, signal: signal() }))).rejects.toMatchObject({ code: 'network' });
  });

  it('a 404 read creates the stream with PUT application/json, then reads again', async () => {
    const { fetch, calls } = fakeFetch([status(404), status(201), json([], { 'Stream-Next-Offset': 'o0', 'Stream-Up-To-Date': 'true' })]);
    const a = httpAdapter({ baseUrl: 'http://h', fetch, headers: () => ({ Authorization: 'Bearer t' }) });
    await collect(a.read('s', '-1', { live: false, signal: signal() }));
    expect(calls.map((c) => c.method)).toEqual(['GET', 'PUT', 'GET']);
    expect(calls[1]!.headers).toEqual({ Authorization: 'Bearer t', 'Content-Type': 'application/json' });
  });

  it.each([
    [410, 'gone', false],
    [401, 'unauthorized', false],
    [403, 'unauthorized', false],
    [409, 'conflict', false],
    [400, 'http', false],
    [500, 'http', true],
    [503, 'http', true],
    [429, 'http', true],
  ])('maps status %i to %s (retryable: %s)', async (s, code, retryable) => {
    const { fetch } = fakeFetch([status(s)]);
    const err = (await collect(httpAdapter({ baseUrl: 'http://h', fetch }).read('s', '-1', { live: false, signal: signal() })).catch((e) => e)) as DurableSessionError;
    expect(err).toMatchObject({ name: 'DurableSessionError', code, status: s });
    expect(err.retryable).toBe(retryable);
  });

  it.each([
    [false, 404],
    [false, 400],
    [true, 404],
    [true, 400],
  ])('a read (live: %s) from an offset other than -1 answered %i (stream lost or re-created) fails with gone, creating nothing', async (live, s) => {
    const replies = live ? [json([], { 'Stream-Next-Offset': 'o2', 'Stream-Up-To-Date': 'true' }), status(s)] : [status(s)];
    const { fetch, calls } = fakeFetch(replies);
    const a = httpAdapter({ baseUrl: 'http://h', fetch, live: 'long-poll' });
    const err = (await collect(a.read('s', 'o1', { live, signal: signal() })).catch((e) => e)) as DurableSessionError;
    expect(err).toMatchObject({ code: 'gone', status: s });
    expect(calls.map((c) => c.method)).toEqual(live ? ['GET', 'GET'] : ['GET']);
  });

  it('maps fetch failures to network, bad bodies to protocol, and an aborted read to aborted', async () => {
    const read = (r: Reply[], sig = signal()) => collect(httpAdapter({ baseUrl: 'http://h', fetch: fakeFetch(r).fetch }).read('s', '-1', { live: false, signal: sig })).catch((e: DurableSessionError) => e.code);
    expect(await read([new TypeError('fetch failed')])).toBe('network');
    expect(await read([new Response('{nope', { headers: { 'Stream-Next-Offset': 'o' } })])).toBe('protocol');
    expect(await read([json({ not: 'an array' }, { 'Stream-Next-Offset': 'o' })])).toBe('protocol');
    expect(await read([json([])])).toBe('protocol'); // no Stream-Next-Offset
    const ctrl = new AbortController();
    ctrl.abort();
    expect(await read([new DOMException('aborted', 'AbortError')], ctrl.signal)).toEqual([]); // ends quietly
    const ctrl2 = new AbortController();
    expect(
      await read(
        [
          () => {
            ctrl2.abort();
            return new DOMException('aborted', 'AbortError');
          },
        ],
        ctrl2.signal,
      ),
    ).toBe('aborted');
  });
});

describe('httpAdapter: appends', () => {
  it('POSTs the event as JSON with the idempotent producer headers', async () => {
    const { fetch, calls } = fakeFetch([status(204)]);
    await httpAdapter({ baseUrl: 'http://h', fetch, headers: { 'X-App': '1' } }).append('s', { type: 'prompt', turnId: 't', text: 'hi', clientId: 'c' }, producer);
    expect(calls).toEqual([
      {
        method: 'POST',
        url: 'http://h/v1/stream/s',
        body: '{"type":"prompt","turnId":"t","text":"hi","clientId":"c"}',
        headers: { 'X-App': '1', 'Content-Type': 'application/json', 'Producer-Id': 'p1', 'Producer-Epoch': '2', 'Producer-Seq': '7' },
      },
    ]);
  });

  it('a 404 append creates the stream, then posts again', async () => {
    const { fetch, calls } = fakeFetch([status(404), status(201), json(null, {}, 200)]);
    await httpAdapter({ baseUrl: 'http://h', fetch }).append('s', { type: 'x' }, producer);
    expect(calls.map((c) => c.method)).toEqual(['POST', 'PUT', 'POST']);
    expect(calls[2]!.headers['Producer-Seq']).toBe('7');
  });

  it('rejects with the mapped error', async () => {
    const { fetch } = fakeFetch([status(409)]);
    await expect(httpAdapter({ baseUrl: 'http://h', fetch }).append('s', { type: 'x' }, producer)).rejects.toMatchObject({ code: 'conflict' });
  });
});
