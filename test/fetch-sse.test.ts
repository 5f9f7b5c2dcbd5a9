/**
 * durableFetch + durableResponse with a plain SSE consumer (eventsource-parser), over real
 * node:http on 127.0.0.1 behind the fault proxy: the body survives dozens of cuts and the
 * parsed events equal the upstream's exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { createDurableFetch, DurableSessionError } from '@durable-session/core';
import { durableResponse } from '@durable-session/server';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';
import { eventually, startFetchApp, type FetchApp } from './support/fetch-app';

let app: FetchApp;
let proxy: FaultProxy;
/** Per request id: what the upstream sent, and a flag that ends it. */
const upstreams = new Map<string, { sent: EventSourceMessage[]; text: string; stop: boolean; aborted: boolean }>();

/** An SSE upstream: ticks every 2 ms (cut at arbitrary byte boundaries) until told to stop and at least `min` were sent. */
function sseUpstream(id: string, min: number, signal: AbortSignal): ReadableStream<Uint8Array> {
  const state = { sent: [] as EventSourceMessage[], text: '', stop: false, aborted: false };
  upstreams.set(id, state);
  signal.addEventListener('abort', () => (state.aborted = true));
  const encoder = new TextEncoder();
  let n = 0;
  let carry = new Uint8Array(0);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((r) => setTimeout(r, 2));
      if (signal.aborted || ((state.stop || n >= 5_000) && n >= min)) {
        if (carry.byteLength > 0) controller.enqueue(carry);
        controller.close();
        return;
      }
      const message: EventSourceMessage = { id: String(n), event: n % 3 === 0 ? 'tick' : undefined, data: `{"n":${n},"text":"tök ${'é😀'.repeat(n % 4)}"}\nline two of ${n}` };
      n++;
      state.sent.push(message);
      const frame = `${message.event ? `event: ${message.event}\n` : ''}id: ${message.id}\n${message.data.split('\n').map((l) => `data: ${l}`).join('\n')}\n\n`;
      state.text += frame;
      const bytes = new Uint8Array([...carry, ...encoder.encode(frame)]);
      // Split at an arbitrary byte (possibly inside a multi-byte character): keep the tail for the next pull.
      const cut = Math.floor(bytes.byteLength * (0.3 + ((n * 7) % 5) / 10));
      controller.enqueue(bytes.subarray(0, cut));
      carry = bytes.slice(cut);
    },
  });
}

beforeAll(async () => {
  app = await startFetchApp(async (request, sessions) => {
    const url = new URL(request.url);
    const id = url.searchParams.get('id') ?? 'x';
    const min = Number(url.searchParams.get('min') ?? '0');
    if (url.pathname !== '/sse' || request.method !== 'POST') return new Response('not found', { status: 404 });
    return durableResponse(sessions, ({ signal }) => sseUpstream(id, min, signal), {
      sessionId: `sse-${id}`,
      onError: () => undefined, // one test deletes the session mid-answer on purpose
      init: { headers: { 'content-type': 'text/event-stream' } },
    });
  });
  proxy = await startFaultProxy(app.url);
});
afterAll(async () => {
  await proxy.close();
  await app.close();
});

async function collect(body: ReadableStream<Uint8Array>): Promise<{ events: EventSourceMessage[]; bytes: Uint8Array }> {
  const [forParser, raw] = body.tee();
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ id: e.id, event: e.event, data: e.data }) });
  const parsing = (async () => {
    const reader = forParser.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  })();
  const bytes = new Uint8Array(await new Response(raw).arrayBuffer());
  await parsing;
  return { events, bytes };
}

describe('durableFetch with a plain SSE consumer', () => {
  it('reads the same events as the upstream across at least 50 cuts', async () => {
    const durableFetch = createDurableFetch({ persistence: 'memory', reconnect: { initialDelayMs: 5, maxDelayMs: 40, maxAttempts: 200 } });
    const res = await durableFetch(`${proxy.url}/sse?id=cuts&min=200`, { method: 'POST' });
    expect(res.ok).toBe(true);
    const cutter = proxy.cutRandomly({ minMs: 5, maxMs: 30, count: 60 });
    const safety = setTimeout(() => cutter.stop(), 60_000);
    void cutter.done.then(() => {
      clearTimeout(safety);
      upstreams.get('cuts')!.stop = true;
    });
    const { events, bytes } = await collect(res.body!);
    const made = await cutter.done;
    const upstream = upstreams.get('cuts')!;
    expect(made).toBeGreaterThanOrEqual(50);
    expect(events.length).toBe(upstream.sent.length);
    expect(events).toEqual(upstream.sent);
    expect(new TextDecoder().decode(bytes)).toBe(upstream.text);
    expect(upstream.aborted).toBe(false);
  });

  it('passes responses of other endpoints through untouched', async () => {
    const durableFetch = createDurableFetch({ persistence: 'memory' });
    const plain = await fetch(`${app.url}/nothing`);
    const res = await durableFetch(`${app.url}/nothing`);
    expect(res.status).toBe(404);
    expect(res.headers.get('durable-session-id')).toBeNull();
    expect(await res.text()).toBe(await plain.text());
  });

  it('aborting the signal writes a cancel: the upstream stops and the turn ends cancelled', async () => {
    const durableFetch = createDurableFetch({ persistence: 'memory', clientId: 'sse-client' });
    const controller = new AbortController();
    const res = await durableFetch(`${proxy.url}/sse?id=stop`, { method: 'POST', signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
    await eventually(() => (upstreams.get('stop')?.aborted ? true : undefined));
    const events = await app.events('sse-stop');
    expect(events).toContainEqual(expect.objectContaining({ type: 'cancel', clientId: 'sse-client' }));
    expect(events.at(-1)).toMatchObject({ type: 'turn.end', reason: 'cancelled' });
  });

  it('ends the body with a typed error when the session cannot be read any more', async () => {
    const durableFetch = createDurableFetch({ persistence: 'memory', reconnect: { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 } });
    const res = await durableFetch(`${proxy.url}/sse?id=deleted`, { method: 'POST' });
    const reader = res.body!.getReader();
    await reader.read();
    await app.sessions.store.delete('sse-deleted');
    proxy.cut();
    const error = await (async () => {
      for (;;) await reader.read();
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DurableSessionError);
    expect((error as DurableSessionError).code).toBe('deleted'); // the server's tombstone tells a deleted session from an unknown one
    upstreams.get('deleted')!.stop = true;
  });
});
