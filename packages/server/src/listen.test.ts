import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type ListeningServer } from './listen';
import { createSessionServer, type SessionServer } from './server';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof createSessionServer>[0] = {}): Promise<{ server: SessionServer; running: ListeningServer; errors: unknown[] }> {
  const errors: unknown[] = [];
  const server = createSessionServer({ ...options, onError: (e) => errors.push(e) });
  const running = await listen(server.handler, { port: 0, host: '127.0.0.1', onError: (e) => errors.push(e) });
  cleanups.push(async () => {
    await running.close();
    await server.close();
  });
  return { server, running, errors };
}

/** A raw node:http request on one keep-alive agent (so the connection is reused). */
function raw(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('listen', () => {
  it('binds 127.0.0.1 on a free port and reports the URL', async () => {
    const { running } = await start();
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    expect(running.port).toBeGreaterThan(0);
  });

  it('answers 413 to an oversized body and keeps serving the same client', async () => {
    const { running, errors } = await start({ maxBodyBytes: 1024 });
    const base = `${running.url}/v1/stream/big`;
    expect((await fetch(base, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
    const big = await raw(base, 'POST', { 'content-type': 'application/octet-stream' }, Buffer.alloc(256 * 1024, 7));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ error: { code: 'payload-too-large' } });
    const small = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array([1, 2, 3]) });
    expect(small.status).toBe(204);
    expect(new Uint8Array(await (await fetch(base)).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    expect(errors).toEqual([]);
  });

  it('streams SSE as it is produced and close() ends open live reads', async () => {
    const { running } = await start();
    const base = `${running.url}/v1/stream/live`;
    await fetch(base, { method: 'PUT', headers: { 'content-type': 'application/json' } });
    const res = await fetch(`${base}?offset=-1&live=sse`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('event: control');
    await running.close();
    // the live read ends (cleanly or cut), it does not hang
    let done = false;
    for (let i = 0; i < 10 && !done; i++) {
      done = await reader.read().then(
        (r) => r.done,
        () => true,
      );
    }
    expect(done).toBe(true);
  });
});
