import { afterEach, describe, expect, it } from 'vitest';
import { createDurableFetch, DURABLE_FETCH_HEADERS as H, type DurableFetchOptions } from './durable-fetch';
import { DurableSessionError } from './errors';

const enc = new TextEncoder();
const dec = new TextDecoder();
const ORIGIN = 'http://app.test';
const pad = (n: number): string => String(n).padStart(8, '0');
type Ev = { type: string; turnId?: string; text?: string; reason?: string; error?: string; clientId?: string };

/**
 * A fake chat route plus a fake Durable Streams session (`/v1/stream/s`), behind a `fetch`.
 * The route's direct body is driven by the test (`direct`), the session by `emit`.
 */
class Fake {
  readonly log: Array<{ method: string; url: string; headers: Headers }> = [];
  readonly events: Ev[] = [];
  readonly live = new Set<{ from: number; c: ReadableStreamDefaultController<Uint8Array> }>();
  direct!: ReadableStreamDefaultController<Uint8Array>;
  /** Answer session reads with this status instead (e.g. 503, 401). */
  failReads: number | undefined;
  /** Answer session reads with an SSE response that ends at once, without a control event. */
  emptyReads = false;
  /** Hold the chat route's answer until this resolves. */
  hold: Promise<void> | undefined;
  offsetAtStart = pad(0);

  constructor(readonly turnId = 't1', readonly resume?: string) {}

  emit(...events: Ev[]): void {
    for (const e of events) this.events.push(e);
    for (const l of [...this.live]) this.flush(l);
  }
  chunk(text: string): void {
    this.emit({ type: 'fetch.chunk', turnId: this.turnId, text });
  }
  /** Error every open SSE read (a dropped connection). */
  cutLive(): void {
    for (const l of this.live) l.c.error(new TypeError('terminated'));
    this.live.clear();
  }
  private flush(l: { from: number; c: ReadableStreamDefaultController<Uint8Array> }, control = true): void {
    const batch = this.events.slice(l.from);
    if (batch.length === 0) return;
    l.from = this.events.length;
    l.c.enqueue(enc.encode(`event: data\ndata:${JSON.stringify(batch)}\n\n`));
    if (control) l.c.enqueue(enc.encode(`event: control\ndata:${JSON.stringify({ streamNextOffset: pad(l.from), upToDate: true })}\n\n`));
  }
  /** Send the pending events of every open SSE read without their control event, then drop them. */
  dataThenCut(): void {
    for (const l of this.live) this.flush(l, false);
    this.cutLive();
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    if (init?.signal?.aborted) throw init.signal.reason; // as fetch does
    this.log.push({ method, url: url.href, headers: new Headers(init?.headers) });
    if (url.pathname === '/chat') {
      if (this.hold) await this.hold;
      this.offsetAtStart = pad(this.events.length);
      this.emit({ type: 'turn.start', turnId: this.turnId });
      const headers: Record<string, string> = {
        'content-type': 'text/event-stream',
        [H.session]: 's',
        [H.turn]: this.turnId,
        [H.offset]: this.offsetAtStart,
        [H.stream]: '/v1/stream/s',
      };
      if (this.resume) headers[H.resume] = this.resume;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (this.direct = c) });
      init?.signal?.addEventListener('abort', () => this.direct.error(init.signal!.reason));
      return new Response(body, { headers });
    }
    if (url.pathname === '/v1/stream/s') {
      if (method === 'POST') {
        this.emit(JSON.parse(String(init?.body)) as Ev);
        return new Response(null, { status: 204 });
      }
      if (this.failReads) return new Response('no', { status: this.failReads });
      if (this.emptyReads) return new Response('', { headers: { 'content-type': 'text/event-stream' } });
      const from = Number(url.searchParams.get('offset'));
      if (url.searchParams.get('live') !== 'sse') {
        return new Response(JSON.stringify(this.events.slice(from)), {
          headers: { 'content-type': 'application/json', 'stream-next-offset': pad(this.events.length), 'stream-up-to-date': 'true' },
        });
      }
      const entry = { from, c: undefined as unknown as ReadableStreamDefaultController<Uint8Array> };
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          entry.c = c;
          this.live.add(entry);
          this.flush(entry);
        },
        cancel: () => void this.live.delete(entry),
      });
      init?.signal?.addEventListener('abort', () => {
        this.live.delete(entry);
        try {
          entry.c.error(init.signal!.reason);
        } catch {
          // already closed
        }
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    }
    if (url.pathname === '/plain') return new Response('plain body', { headers: { 'x-plain': '1' } });
    return new Response(null, { status: 404 });
  };
}

const quick: DurableFetchOptions['reconnect'] = { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 5 };
const errors: DurableSessionError[] = [];
const make = (fake: Fake, extra: DurableFetchOptions = {}): typeof fetch =>
  createDurableFetch({ fetch: fake.fetch, persistence: 'memory', reconnect: quick, onError: (e) => errors.push(e), ...extra });
afterEach(() => {
  expect(errors.splice(0)).toEqual([]);
});

async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!check()) throw new Error('condition not met');
}

describe('createDurableFetch', () => {
  it('passes other responses through untouched', async () => {
    const fake = new Fake();
    const res = await make(fake)(`${ORIGIN}/plain`);
    expect(res.headers.get('x-plain')).toBe('1');
    expect(await res.text()).toBe('plain body');
  });

  it('with a signal, a plain body still aborts with it, and the abort listener goes once the body ends or errs', async () => {
    let body!: ReadableStreamDefaultController<Uint8Array>;
    const base = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      const stream = new ReadableStream<Uint8Array>({ start: (c) => void (body = c) });
      init?.signal?.addEventListener('abort', () => body.error(init.signal!.reason));
      return new Response(stream, { status: 201, headers: { 'x-plain': '1' } });
    }) as typeof fetch;
    const f = createDurableFetch({ fetch: base, persistence: 'memory', onError: (e) => errors.push(e) });
    /** A signal counting its listeners. */
    const counted = () => {
      const ctrl = new AbortController();
      const listeners = new Set<unknown>();
      const add = ctrl.signal.addEventListener.bind(ctrl.signal);
      const remove = ctrl.signal.removeEventListener.bind(ctrl.signal);
      ctrl.signal.addEventListener = (type: string, l: never, o?: never) => (listeners.add(l), add(type, l, o));
      ctrl.signal.removeEventListener = (type: string, l: never, o?: never) => (listeners.delete(l), remove(type, l, o));
      return { ctrl, listeners };
    };

    const ended = counted();
    const res = await f(`${ORIGIN}/plain`, { signal: ended.ctrl.signal });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-plain')).toBe('1');
    body.enqueue(enc.encode('plain'));
    body.close();
    expect(await res.text()).toBe('plain');
    await tick();
    expect(ended.listeners.size).toBe(0);

    const erred = counted();
    const res2 = await f(`${ORIGIN}/plain`, { signal: erred.ctrl.signal });
    body.error(new TypeError('terminated'));
    await expect(res2.text()).rejects.toThrow();
    await tick();
    expect(erred.listeners.size).toBe(0);

    const aborted = counted();
    const res3 = await f(`${ORIGIN}/plain`, { signal: aborted.ctrl.signal });
    const reading = res3.text();
    body.enqueue(enc.encode('part'));
    aborted.ctrl.abort(new DOMException('stop', 'AbortError'));
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    await tick();
    expect(aborted.listeners.size).toBe(0);
  });

  it('continues byte for byte after the direct body drops mid-chunk and mid-character', async () => {
    const fake = new Fake();
    const res = await make(fake)(`${ORIGIN}/chat`, { method: 'POST' });
    expect(res.url).toBe(`${ORIGIN}/chat`);
    expect(res.headers.get(H.turn)).toBe('t1');
    const reading = readAll(res.body!);
    const text = 'data: héllo 😀\n\ndata: wörld\n\n';
    fake.chunk(text.slice(0, 12));
    fake.chunk(text.slice(12));
    const bytes = enc.encode(text);
    fake.direct.enqueue(bytes.subarray(0, 9)); // ends inside "é"
    fake.direct.enqueue(bytes.subarray(9, 17)); // ends inside "😀", in the second stored chunk
    fake.direct.error(new TypeError('terminated'));
    await until(() => fake.live.size > 0);
    fake.emit({ type: 'turn.end', turnId: 't1', reason: 'complete' });
    expect(await reading).toEqual(bytes);
    expect(fake.log.filter((r) => r.url.includes('live=sse'))[0]?.url).toBe(`${ORIGIN}/v1/stream/s?offset=${pad(0)}&live=sse`);
  });

  it('never repeats what a resumed read delivered before it dropped, and ignores other turns', async () => {
    const fake = new Fake();
    const res = await make(fake)(`${ORIGIN}/chat`, { method: 'POST' });
    const reading = readAll(res.body!);
    fake.direct.error(new TypeError('terminated'));
    await until(() => fake.live.size > 0);
    fake.chunk('one ');
    fake.emit({ type: 'fetch.chunk', turnId: 'other', text: 'NOT MINE ' });
    fake.live.forEach((l) => l.c.enqueue(enc.encode(': keep-alive\n\n')));
    fake.events.push({ type: 'fetch.chunk', turnId: 't1', text: 'two ' });
    fake.dataThenCut(); // "two " delivered, but the read dropped before its control event
    await until(() => fake.live.size > 0);
    fake.chunk('three');
    fake.cutLive();
    await until(() => fake.live.size > 0);
    fake.emit({ type: 'turn.end', turnId: 't1', reason: 'complete' });
    expect(dec.decode(await reading)).toBe('one two three');
  });

  it('ends the body when the direct body ends, and when the turn ends cancelled by someone else', async () => {
    const fake = new Fake();
    const res = await make(fake)(`${ORIGIN}/chat`, { method: 'POST' });
    fake.chunk('a');
    fake.direct.enqueue(enc.encode('a'));
    fake.direct.close();
    expect(await res.text()).toBe('a');

    const other = new Fake('t2');
    const res2 = await make(other)(`${ORIGIN}/chat`, { method: 'POST' });
    other.direct.error(new TypeError('terminated'));
    await until(() => other.live.size > 0);
    other.emit({ type: 'cancel', turnId: 't2' }, { type: 'turn.end', turnId: 't2', reason: 'cancelled' });
    expect(await res2.text()).toBe('');
  });

  it('errors the body with a typed error when the answer failed on the server', async () => {
    const fake = new Fake();
    const res = await make(fake)(`${ORIGIN}/chat`, { method: 'POST' });
    fake.emit({ type: 'turn.end', turnId: 't1', reason: 'error', error: 'model overloaded' });
    fake.direct.error(new TypeError('terminated'));
    const error = (await res.text().catch((e: unknown) => e)) as DurableSessionError;
    expect(error).toBeInstanceOf(DurableSessionError);
    expect(error).toMatchObject({ code: 'http', status: 502 });
    expect(error.message).toContain('model overloaded');
  });

  it('aborting the signal writes a cancel event and errors the body with the abort reason', async () => {
    const fake = new Fake();
    const controller = new AbortController();
    const res = await make(fake, { clientId: 'me' })(`${ORIGIN}/chat`, { method: 'POST', signal: controller.signal });
    const reader = res.body!.getReader();
    fake.chunk('x');
    fake.direct.enqueue(enc.encode('x'));
    await reader.read();
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
    await until(() => fake.events.some((e) => e.type === 'cancel'));
    expect(fake.events.at(-1)).toEqual({ type: 'cancel', turnId: 't1', clientId: 'me' });
    const post = fake.log.find((r) => r.method === 'POST' && r.url.endsWith('/v1/stream/s'));
    expect(post?.headers.get('content-type')).toBe('application/json');
  });

  it('a stop before the headers arrived rejects at once and still cancels the turn when they come', async () => {
    const fake = new Fake();
    let arrive!: () => void;
    fake.hold = new Promise((r) => (arrive = r));
    const controller = new AbortController();
    const pending = make(fake, { clientId: 'early' })(`${ORIGIN}/chat`, { method: 'POST', signal: controller.signal });
    await tick();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    arrive();
    await until(() => fake.events.some((e) => e.type === 'cancel'));
    expect(fake.events.at(-1)).toEqual({ type: 'cancel', turnId: 't1', clientId: 'early' });
  });

  it('an already aborted signal rejects like fetch', async () => {
    const fake = new Fake();
    await expect(make(fake)(`${ORIGIN}/chat`, { method: 'POST', signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('re-attaches a GET of the resume URL from the session: the answer so far, then live; then forgets it', async () => {
    const fake = new Fake('t-re', '/chat/c1/stream');
    const first = await make(fake)(`${ORIGIN}/chat`, { method: 'POST' });
    fake.chunk('data: 1\n\n');
    fake.direct.enqueue(enc.encode('data: 1\n\n'));
    await first.body!.cancel(); // the page went away without stopping the answer
    fake.chunk('data: 2\n\n');

    const second = make(fake); // "after a reload": a new instance over the same storage
    const res = await second(`${ORIGIN}/chat/c1/stream`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.url).toBe(`${ORIGIN}/chat/c1/stream`);
    const reading = res.text();
    await until(() => fake.live.size > 0);
    fake.chunk('data: 3\n\n');
    fake.emit({ type: 'turn.end', turnId: 't-re', reason: 'complete' });
    expect(await reading).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\n');
    expect(fake.log.some((r) => r.url === `${ORIGIN}/chat/c1/stream`)).toBe(false); // never reached the route

    // Ended and forgotten: the next GET goes to the network (the route answers "nothing to resume").
    const after = await second(`${ORIGIN}/chat/c1/stream`);
    expect(after.status).toBe(404);
  });

  it('re-attaching to an answer that ended meanwhile answers 204 and forgets it', async () => {
    const fake = new Fake('t-ended', '/chat/c2/stream');
    const first = await make(fake)(`${ORIGIN}/chat`, { method: 'POST' });
    await first.body!.cancel();
    fake.chunk('all');
    fake.emit({ type: 'turn.end', turnId: 't-ended', reason: 'complete' });
    const durableFetch = make(fake);
    expect((await durableFetch(`${ORIGIN}/chat/c2/stream`)).status).toBe(204);
    expect((await durableFetch(`${ORIGIN}/chat/c2/stream`)).status).toBe(404); // forgotten: the route is asked
  });

  it('gives up after maxAttempts failures in a row with the last typed error, and keeps the answer re-attachable', async () => {
    const fake = new Fake('t-down', '/chat/c3/stream');
    const res = await make(fake)(`${ORIGIN}/chat`, { method: 'POST' });
    fake.failReads = 503;
    fake.direct.error(new TypeError('terminated'));
    const error = (await res.text().catch((e: unknown) => e)) as DurableSessionError;
    expect(error).toMatchObject({ code: 'http', status: 503 });
    expect(fake.log.filter((r) => r.url.includes('live=sse'))).toHaveLength(5);
    fake.failReads = undefined;
    fake.emit({ type: 'turn.end', turnId: 't-down', reason: 'complete' });
    expect((await make(fake)(`${ORIGIN}/chat/c3/stream`)).status).toBe(204); // was still stored
  });

  it('counts session reads that end without progress as failures', async () => {
    const fake = new Fake();
    const res = await make(fake)(`${ORIGIN}/chat`, { method: 'POST' });
    fake.emptyReads = true;
    fake.direct.error(new TypeError('terminated'));
    await expect(res.text()).rejects.toMatchObject({ code: 'network' });
    expect(fake.log.filter((r) => r.url.includes('live=sse'))).toHaveLength(5);
  });

  it('does not retry what cannot succeed (401), and sends the configured headers', async () => {
    const fake = new Fake();
    const res = await make(fake, { headers: async () => ({ authorization: 'Bearer t' }) })(`${ORIGIN}/chat`, { method: 'POST' });
    fake.failReads = 401;
    fake.direct.error(new TypeError('terminated'));
    await expect(res.text()).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    const reads = fake.log.filter((r) => r.url.includes('live=sse'));
    expect(reads).toHaveLength(1);
    expect(reads[0]!.headers.get('authorization')).toBe('Bearer t');
  });

  it('reports a cancel that cannot be delivered through onError', async () => {
    const fake = new Fake();
    const reported: DurableSessionError[] = [];
    // The session refuses every request (403): the cancel cannot be written.
    const refusing: typeof fetch = async (input, init) =>
      String(input).includes('/v1/stream/') ? new Response(null, { status: 403 }) : fake.fetch(input, init);
    const controller = new AbortController();
    const res = await createDurableFetch({ fetch: refusing, persistence: 'memory', onError: (e) => reported.push(e) })(`${ORIGIN}/chat`, {
      method: 'POST',
      signal: controller.signal,
    });
    controller.abort();
    await expect(res.text()).rejects.toMatchObject({ name: 'AbortError' });
    await until(() => reported.length > 0);
    expect(reported).toEqual([expect.objectContaining({ code: 'unauthorized', status: 403 })]);
  });
});
