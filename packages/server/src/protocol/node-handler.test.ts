import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionServer, type SessionServer, type SessionServerOptions } from '../server';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A node:http server whose requests go through `before` (a stand-in for a framework's middleware), then the node-native handler. */
async function serve(options: SessionServerOptions = {}, before?: (req: IncomingMessage, res: ServerResponse, next: () => void) => void): Promise<{ base: string; sessions: SessionServer; errors: unknown[] }> {
  const errors: unknown[] = [];
  const sessions = createSessionServer({ ...options, onError: (e) => errors.push(e) });
  const http: Server = createServer((req, res) => (before === undefined ? sessions.nodeHandler(req, res) : before(req, res, () => sessions.nodeHandler(req, res))));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    const closed = new Promise((resolve) => http.close(resolve));
    http.closeAllConnections();
    await closed;
    await sessions.close();
  });
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/v1/stream`;
  return { base, sessions, errors };
}

/** A raw request whose body is written in `chunks`, `gapMs` apart (chunked: no Content-Length). */
function slowPost(url: string, chunks: string[], gapMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    let i = 0;
    const next = (): void => {
      if (req.destroyed) return;
      if (i === chunks.length) return void req.end();
      req.write(chunks[i++]);
      setTimeout(next, gapMs);
    };
    next();
  });
}

describe('the node-native handler', () => {
  it('refuses a chunked body past maxBodyBytes with 413 and keeps serving', async () => {
    const { base } = await serve({ maxBodyBytes: 64 });
    await fetch(`${base}/s`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
    const big = await slowPost(`${base}/s`, ['[', '{"type":"note","pad":"' + 'x'.repeat(100) + '"}', ']'], 5);
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ error: { code: 'payload-too-large' } });
    const small = await slowPost(`${base}/s`, ['{"type":', '"note"}'], 5);
    expect(small.status).toBe(204);
    expect(await (await fetch(`${base}/s?offset=-1`)).json()).toEqual([{ type: 'note' }]);
  });

  it('answers 408 to a body that does not arrive within bodyTimeoutMs', async () => {
    const { base } = await serve({ bodyTimeoutMs: 300 });
    await fetch(`${base}/s`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
    const started = Date.now();
    const slow = await slowPost(`${base}/s`, ['{"type":', '"no', 'te"}'], 400);
    expect(slow.status).toBe(408);
    expect(JSON.parse(slow.body)).toMatchObject({ error: { code: 'request-timeout' } });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await (await fetch(`${base}/s?offset=-1`)).json()).toEqual([]);
  });

  it('ends a live read when its client goes away (the reader slot is free again)', async () => {
    const { base } = await serve({ maxLiveReadersPerSession: 1 });
    await fetch(`${base}/s`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
    for (let i = 0; i < 3; i++) {
      const aborted = new AbortController();
      let res = await fetch(`${base}/s?offset=-1&live=sse`, { signal: aborted.signal });
      for (let tries = 0; res.status === 429 && tries < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20)); // the previous reader's close is still on its way
        res = await fetch(`${base}/s?offset=-1&live=sse`, { signal: aborted.signal });
      }
      expect(res.status).toBe(200);
      await (res.body as ReadableStream<Uint8Array>).getReader().read();
      aborted.abort();
    }
  });

  it('answers HEAD without a body, and an absolute-form target with 400', async () => {
    const { base } = await serve();
    await fetch(`${base}/s`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
    const head = await fetch(`${base}/s`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('stream-next-offset')).toMatch(/_/);
    expect(await head.text()).toBe('');
    const url = new URL(base);
    const absolute = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'GET', path: `http://elsewhere.example/v1/stream/s` }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(absolute).toBe(400);
  });

  it('says how to mount it when a middleware read the body and left nothing', async () => {
    const { base, errors } = await serve({}, (req, _res, next) => {
      req.resume(); // a body parser that keeps what it read to itself
      req.once('end', next);
    });
    await fetch(`${base}/s`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
    const res = await fetch(`${base}/s`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"note"}' });
    expect(res.status).toBe(500);
    expect(errors.map(String).join()).toMatch(/mount the handler before body parsers/);
  });

  it('routes on the request target alone: Host cannot change the path, and rewritten paths are refused', async () => {
    const { base } = await serve();
    for (const id of ['public', 'admin']) {
      await fetch(`${base}/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
      await fetch(`${base}/${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'note', id }) });
    }
    const url = new URL(base);
    const get = (path: string, host: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = httpRequest({ host: url.hostname, port: url.port, path, headers: { host } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const spoofed = await get('/v1/stream/public?offset=-1', 'x/v1/stream/admin?offset=-1&');
    expect(spoofed.status).toBe(200);
    expect(JSON.parse(spoofed.body)).toEqual([{ type: 'note', id: 'public' }]);
    expect((await get('/v1/stream/z/../admin?offset=-1', 'x')).status).toBe(400);
    expect((await get('/v1/stream%2F..%2Fadmin?offset=-1', 'x')).status).toBe(404);
    expect((await get('/v1/stream/z/%2e%2e/admin?offset=-1', 'x')).status).toBe(400);
    expect((await get('/v1/stream\\admin?offset=-1', 'x')).status).toBe(400);
    const created = await new Promise<string | undefined>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'PUT', path: '/v1/stream/loc', headers: { host: 'a@evil.example:8080', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.headers.location);
      });
      req.on('error', reject);
      req.end();
    });
    expect(created).toBe('http://localhost/v1/stream/loc');
  });

  it('closes the connection of a body that stalled (408), and drains a refused one (413) so its client reads the answer', async () => {
    const { base } = await serve({ maxBodyBytes: 64, bodyTimeoutMs: 200 });
    await fetch(`${base}/s`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
    const url = new URL(base);
    const stalled = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/v1/stream/s', headers: { 'content-type': 'application/json', 'content-length': '50' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
      });
      req.on('error', reject);
      req.write('{"type":'); // and nothing more
    });
    expect(stalled).toEqual({ status: 408, connection: 'close' });
    const big = await fetch(`${base}/s`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(100_000) });
    expect(big.status).toBe(413);
    expect(big.headers.get('connection')).toBe('keep-alive');
  });

  it('takes a client that leaves mid-body for what it is, not a server failure', async () => {
    const { base, errors } = await serve();
    await fetch(`${base}/s`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
    const url = new URL(base);
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/v1/stream/s', headers: { 'content-type': 'application/json', 'content-length': '100' } });
      req.on('error', () => resolve());
      req.write('{"ty');
      setTimeout(() => req.destroy(), 50);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors).toEqual([]);
    expect(await (await fetch(`${base}/s?offset=-1`)).json()).toEqual([]);
  });

  it('refuses an answer to a byte stream as a content-type mismatch, before reading the stream', async () => {
    const { base, errors } = await serve();
    await fetch(`${base}/doc`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'not json at all' });
    const answer = { type: 'answer', turnId: 't1', askId: 'q1', choice: 'yes', clientId: 'c', answerId: 'a1' };
    const res = await fetch(`${base}/doc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer) });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: 'content-type-mismatch' } });
    const close = await fetch(`${base}/doc`, { method: 'POST', headers: { 'content-type': 'application/json', 'stream-closed': 'true' }, body: '{"type":"note"}' });
    expect(close.status).toBe(409);
    expect(errors).toEqual([]);
  });
});
