import { describe, expect, it } from 'vitest';
import type { DurableSessionError } from '../errors';
import type { ReadBatch } from '../types';
import { httpAdapter } from './http';

const encoder = new TextEncoder();
/** An SSE response whose body the test writes (and never ends unless told); aborting `signal` errors it, as fetch does. */
function sseBody(signal?: AbortSignal | null): { response: Response; write(text: string): void; end(): void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (started) => void (controller = started) });
  signal?.addEventListener('abort', () => controller.error(signal.reason));
  return {
    response: new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
    write: (text) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  };
}
const upToDate = (offset: string) => new Response('[]', { headers: { 'content-type': 'application/json', 'Stream-Next-Offset': offset, 'Stream-Up-To-Date': 'true' } });
const control = (offset: string) => `event: control\ndata: {"streamNextOffset":"${offset}","upToDate":true}\n\n`;
/** A fetch that never answers until its signal aborts, as behind a stalled proxy. */
const hanging = (init?: RequestInit) => new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));

async function firstError(iterable: AsyncIterable<ReadBatch<unknown>>): Promise<DurableSessionError> {
  try {
    for await (const batch of iterable) void batch;
  } catch (error) {
    return error as DurableSessionError;
  }
  throw new Error('the read ended without an error');
}

describe('httpAdapter: dead connections', () => {
  it('a live SSE read with no byte for twice keepAliveMs fails with network', async () => {
    const started = Date.now();
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => (String(input).includes('live=sse') ? sseBody(init?.signal).response : upToDate('o1'))) as typeof globalThis.fetch;
    const error = await firstError(httpAdapter({ baseUrl: 'http://h', fetch, keepAliveMs: 30 }).read('s', 'o0', { live: true, signal: new AbortController().signal }));
    expect(error.code).toBe('network');
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('keep-alive comments keep a quiet SSE read alive', async () => {
    let stream!: ReturnType<typeof sseBody>;
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (!String(input).includes('live=sse')) return upToDate('o1');
      stream = sseBody(init?.signal);
      return stream.response;
    }) as typeof globalThis.fetch;
    const controller = new AbortController();
    const batches: ReadBatch<unknown>[] = [];
    const reading = (async () => {
      for await (const batch of httpAdapter({ baseUrl: 'http://h', fetch, keepAliveMs: 30 }).read('s', 'o0', { live: true, signal: controller.signal })) batches.push(batch);
    })().catch((error: unknown) => error);
    for (let beat = 0; beat < 8; beat++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      stream.write(': keep-alive\n\n');
    }
    stream.write(control('o2'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    // 200 ms of keep-alives (> 2 x 30 ms) and no network error: only our own abort ended it.
    expect(await reading).toMatchObject({ code: 'aborted' });
    expect(batches.map((batch) => batch.offset)).toEqual(['o1', 'o2']);
  });

  it('a catch-up or long-poll request over timeoutMs fails with network', async () => {
    const fetch = ((_input: RequestInfo | URL, init?: RequestInit) => hanging(init)) as typeof globalThis.fetch;
    const error = await firstError(httpAdapter({ baseUrl: 'http://h', fetch, timeoutMs: 30 }).read('s', 'o0', { live: false, signal: new AbortController().signal }));
    expect(error).toMatchObject({ code: 'network', retryable: true });
  });

  it('an SSE line without end fails with a typed protocol error instead of growing the buffer', async () => {
    const stream = sseBody();
    const fetch = (async (input: RequestInfo | URL) => (String(input).includes('live=sse') ? stream.response : upToDate('o1'))) as typeof globalThis.fetch;
    const reading = firstError(httpAdapter({ baseUrl: 'http://h', fetch }).read('s', 'o0', { live: true, signal: new AbortController().signal }));
    const chunk = 'x'.repeat(1 << 20);
    for (let index = 0; index < 9; index++) stream.write(index === 0 ? `data: ${chunk}` : chunk);
    expect((await reading).code).toBe('protocol');
  });

  it('reconnects at most once per minReconnectDelayMs when the server ends every live response at once', async () => {
    let live = 0;
    const fetch = (async (input: RequestInfo | URL) => {
      if (!String(input).includes('live=sse')) return upToDate('o1');
      live++;
      return new Response(control('o1'), { headers: { 'content-type': 'text/event-stream' } });
    }) as typeof globalThis.fetch;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const ended = await (async () => {
      for await (const batch of httpAdapter({ baseUrl: 'http://h', fetch, minReconnectDelayMs: 100 }).read('s', 'o0', { live: true, signal: controller.signal })) void batch;
    })().catch((error: DurableSessionError) => error);
    expect(ended === undefined || ended.code === 'aborted').toBe(true); // only our abort ends it
    expect(live).toBeGreaterThanOrEqual(3);
    expect(live).toBeLessThanOrEqual(6); // 500 ms / 100 ms, plus the first (without it: thousands)
  });

  it('an append that times out is retried by the session with the same producer seq', async () => {
    const seqs: string[] = [];
    let calls = 0;
    const fetch = ((_input: RequestInfo | URL, init?: RequestInit) => {
      seqs.push(new Headers(init?.headers).get('producer-seq')!);
      return calls++ === 0 ? hanging(init) : Promise.resolve(new Response(null, { status: 204 }));
    }) as typeof globalThis.fetch;
    const adapter = httpAdapter({ baseUrl: 'http://h', fetch, timeoutMs: 30 });
    const options = { producerId: 'p', epoch: 0, seq: 4 };
    const error = await adapter.append('s', { type: 'x' }, options).catch((failure: DurableSessionError) => failure);
    expect(error).toMatchObject({ code: 'network', retryable: true });
    await adapter.append('s', { type: 'x' }, options);
    expect(seqs).toEqual(['4', '4']);
  });
});

describe('httpAdapter: deleted sessions', () => {
  const deleted = () => new Response(JSON.stringify({ error: { code: 'deleted', message: 'deleted' } }), { status: 404, headers: { 'content-type': 'application/json' } });
  it('a read or append answered 404 "deleted" fails with deleted and never re-creates the stream (no PUT)', async () => {
    const methods: string[] = [];
    const fetch = (async (_input: RequestInfo | URL, init?: RequestInit) => (methods.push(init?.method ?? 'GET'), deleted())) as typeof globalThis.fetch;
    const adapter = httpAdapter({ baseUrl: 'http://h', fetch });
    expect((await firstError(adapter.read('s', 'o3', { live: true, signal: new AbortController().signal }))).code).toBe('deleted');
    expect((await firstError(adapter.read('s', '-1', { live: true, signal: new AbortController().signal }))).code).toBe('deleted');
    await expect(adapter.append('s', { type: 'x' }, { producerId: 'p', epoch: 0, seq: 0 })).rejects.toMatchObject({ code: 'deleted', status: 404 });
    expect(methods).toEqual(['GET', 'GET', 'POST']);
  });

  it('a plain 404 (unknown stream) keeps creating it', async () => {
    const methods: string[] = [];
    const replies = [new Response('{"error":{"code":"not-found","message":"x"}}', { status: 404, headers: { 'content-type': 'application/json' } }), new Response(null, { status: 201 }), new Response(null, { status: 204 })];
    const fetch = (async (_input: RequestInfo | URL, init?: RequestInit) => (methods.push(init?.method ?? 'GET'), replies.shift()!)) as typeof globalThis.fetch;
    await httpAdapter({ baseUrl: 'http://h', fetch }).append('s', { type: 'x' }, { producerId: 'p', epoch: 0, seq: 0 });
    expect(methods).toEqual(['POST', 'PUT', 'POST']);
  });
});
