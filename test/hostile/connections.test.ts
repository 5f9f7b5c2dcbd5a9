/**
 * Connection attacks against `listen` in-process (short timeouts keep them fast): slowloris
 * bodies, readers that stop reading, live reads past their maximum duration.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionServer, listen, type ListenOptions, type SessionServerOptions } from '@durable-session/server';
import { client, rawRequest } from './support';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(options: SessionServerOptions, listenOptions: ListenOptions = {}) {
  const server = createSessionServer({ onError: () => undefined, ...options });
  const running = await listen(server.handler, { port: 0, onError: () => undefined, ...listenOptions });
  cleanups.push(async () => {
    await running.close();
    await server.close();
  });
  return { server, running, api: client(running.url) };
}

/** Open a raw socket, send `text`, never read (the kernel buffers fill, the server's writes block). */
function stalledReader(url: string, text: string): Socket {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () => {
    socket.write(text);
    socket.pause();
  });
  socket.on('error', () => undefined);
  cleanups.push(async () => void socket.destroy());
  return socket;
}

/** Poll until `done()` holds (bounded by `ms`); how long it took, or undefined. */
async function within(ms: number, done: () => boolean): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (done()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

describe('connections that die quietly, or never finish', () => {
  it('a slowloris body is cut after the body time (408 in the handler, socket closed by node:http)', async () => {
    const { running, api } = await serve({ bodyTimeoutMs: 500 }, { requestTimeoutMs: 1500 });
    await api.put('s');
    const head = `POST /v1/stream/s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":"no`;
    const { response, closedByServer } = await rawRequest(running.url, head, 10_000);
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(response).toContain('request-timeout');
    expect(closedByServer).toBe(true);
    expect(await api.events('s')).toEqual([]);
    await api.healthy();
  });

  it('headers that never end are cut by node:http after the request time', async () => {
    const { running, api } = await serve({}, { requestTimeoutMs: 1000 });
    const { closedByServer } = await rawRequest(running.url, 'GET /v1/stream/s HTTP/1.1\r\nHost: x\r\nX-Slow: 1', 8000);
    expect(closedByServer).toBe(true);
    await api.healthy();
  });

  it('an SSE reader that stops reading is cut off after the write timeout, never buffered without bound', async () => {
    const { running, api } = await serve({}, { writeTimeoutMs: 1000 });
    await api.put('big');
    const event = { type: 'note', text: 'x'.repeat(9000) };
    for (let i = 0; i < 30; i++) expect((await api.post('big', Array.from({ length: 100 }, () => event))).status).toBe(204); // ~27 MB
    let serverSide: Socket | undefined;
    running.server.once('connection', (socket: Socket) => (serverSide = socket));
    stalledReader(running.url, 'GET /v1/stream/big?offset=-1&live=sse HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await within(5000, () => serverSide !== undefined)).toBeDefined();
    // More than loopback buffers hold: the server's writes block, and after the write timeout it cuts the reader.
    expect(await within(15_000, () => serverSide?.destroyed === true)).toBeDefined();
    expect((await api.events('big')).length).toBe(3000);
    await api.healthy();
  });

  it('a live SSE read ends past its maximum duration even when its reader does not read', async () => {
    const { server } = await serve({ sseMaxDurationMs: 300, sseKeepAliveMs: 60_000 });
    await server.handler(new Request('http://x/v1/stream/s', { method: 'PUT', headers: { 'content-type': 'application/json' } }));
    const res = await server.handler(new Request('http://x/v1/stream/s?offset=-1&live=sse'));
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    // Nobody reads. Past the maximum the server ends the response by itself (the runtime can free
    // the connection); the reader resumes from its last offset.
    const outcome = await Promise.race([
      reader.closed.then(() => 'closed', () => 'ended'),
      new Promise((r) => setTimeout(() => r('still open'), 2000)),
    ]);
    expect(outcome).toBe('ended');
  });
});
