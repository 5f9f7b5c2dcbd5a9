/**
 * The README's framework recipes ("Mount it in your framework") work as written: each is cut out
 * of README.md, run with node on a free port, and must serve create, append, catch-up, SSE,
 * long-poll and HEAD, and the README's client example (a prompt answered by the demo agent).
 * Next.js itself is not installed: its recipe's route module is dispatched by method, as Next does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionServer, type SessionServer } from '@durable-session/server';
import { repoRoot } from './support/cli';
import { readmeExample, runExampleCode } from './support/readme';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(repoRoot, 'test', '.readme-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const json = { 'content-type': 'application/json' };

/** Read an SSE response until `text` appears (bounded by the test's timeout). */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<string> {
  const decoder = new TextDecoder();
  let seen = '';
  while (!seen.includes(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the SSE response ended before ${text}: ${seen}`);
    seen += decoder.decode(value, { stream: true });
  }
  return seen;
}

/** The protocol's routes through a mount at `base` (`http://host:port`), on a fresh session. */
async function checkProtocol(base: string, session: string): Promise<void> {
  const url = `${base}/v1/stream/${session}`;
  expect((await fetch(url, { method: 'PUT', headers: json })).status).toBe(201);
  const appended = await fetch(url, { method: 'POST', headers: json, body: JSON.stringify({ type: 'note', n: 1 }) });
  expect(appended.status).toBe(204);
  const tail1 = appended.headers.get('stream-next-offset') as string;

  const catchUp = await fetch(`${url}?offset=-1`);
  expect(catchUp.status).toBe(200);
  expect(await catchUp.json()).toEqual([{ type: 'note', n: 1 }]);
  expect(catchUp.headers.get('stream-next-offset')).toBe(tail1);

  const polling = fetch(`${url}?offset=${tail1}&live=long-poll`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const second = await fetch(url, {
    method: 'POST',
    headers: { ...json, 'producer-id': 'recipe', 'producer-epoch': '0', 'producer-seq': '0' },
    body: JSON.stringify({ type: 'note', n: 2 }),
  });
  expect(second.status).toBe(200); // a producer's append answers 200 with its headers
  expect(second.headers.get('producer-seq')).toBe('0');
  const polled = await polling;
  expect(polled.status).toBe(200);
  expect(await polled.json()).toEqual([{ type: 'note', n: 2 }]);
  const tail2 = second.headers.get('stream-next-offset') as string;

  const live = new AbortController();
  const sse = await fetch(`${url}?offset=${tail2}&live=sse`, { signal: live.signal });
  expect(sse.headers.get('content-type')).toBe('text/event-stream');
  const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
  await readUntil(reader, 'event: control');
  await fetch(url, { method: 'POST', headers: json, body: JSON.stringify({ type: 'note', n: 3 }) });
  expect(await readUntil(reader, '"n":3')).toContain('event: data');
  live.abort();

  const head = await fetch(url, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.headers.get('stream-next-offset')).not.toBe(tail2);
  const refused = await fetch(url, { method: 'POST', headers: json, body: '[1]' });
  expect(refused.status).toBe(400);
  expect(await refused.json()).toMatchObject({ error: { code: 'invalid-event' } });
}

/** The README's client example against `base`: a prompt the demo agent answers. */
async function checkClientExample(base: string): Promise<void> {
  const code = readmeExample('client').replaceAll('http://127.0.0.1:4437', base);
  const { code: exit, out } = await runExampleCode(dir, 'client', code).done;
  expect(out).toMatch(/^complete \S+/m);
  expect(exit).toBe(0);
}

/** A route module's exports dispatched by method, as Next.js does (Next itself is not installed here). */
const NEXT_DISPATCH = `
import { createServer as createNextLikeServer } from 'node:http';
import { toNodeHandler as bridge } from '@durable-session/server';
const routeModule = { GET, HEAD, POST, PUT, DELETE, OPTIONS };
const dispatch = bridge((request) => routeModule[request.method](request, { params: Promise.resolve({}) }));
createNextLikeServer(dispatch).listen(4437, '127.0.0.1', () => console.log('listening on http://127.0.0.1:4437'));
`;

describe.each(['node', 'express', 'fastify', 'koa', 'hono', 'next'])('the README recipe for %s', (name) => {
  it('serves the protocol and the client example', async () => {
    const port = String(await freePort());
    const recipe = readmeExample(`mount-${name}`) + (name === 'next' ? NEXT_DISPATCH : '');
    const server = runExampleCode(dir, `mount-${name}`, recipe.replaceAll('4437', port), /listening on (http:\/\/\S+)/);
    try {
      const started = await server.done;
      const base = /listening on (http:\/\/\S+)/.exec(started.out)?.[1];
      expect(base, started.out).toBe(`http://127.0.0.1:${port}`);
      await checkProtocol(base as string, `recipe-${name}`);
      await checkClientExample(base as string);
    } finally {
      server.stop();
    }
  });
});

describe('Express, mounted in other ways', () => {
  async function serveApp(app: express.Express): Promise<{ base: string; close: () => Promise<void> }> {
    const http: Server = createHttpServer(app);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    return {
      base: `http://127.0.0.1:${port}`,
      close: () => {
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        return closed;
      },
    };
  }

  async function withApp(mount: (app: express.Express, sessions: SessionServer) => void, check: (base: string) => Promise<void>): Promise<void> {
    const sessions = createSessionServer({ onError: () => undefined });
    const app = express();
    mount(app, sessions);
    const { base, close } = await serveApp(app);
    try {
      await check(base);
    } finally {
      await close();
      await sessions.close();
    }
  }

  it('after express.json(): it serves what the parser parsed, and the app keeps its own routes', async () => {
    await withApp(
      (app, sessions) => {
        app.use(express.json());
        app.post('/api/echo', (req, res) => res.json(req.body));
        app.use(sessions.nodeHandler);
      },
      async (base) => {
        await checkProtocol(base, 'after-json');
        const echo = await fetch(`${base}/api/echo`, { method: 'POST', headers: json, body: '{"a":1}' });
        expect(await echo.json()).toEqual({ a: 1 });
      },
    );
  });

  it('after express.raw(): it stores the bytes; after a parser that rewrites them (text, forms): a 500 that says where to mount it', async () => {
    await withApp(
      (app, sessions) => {
        app.use(express.raw({ type: 'application/octet-stream' }));
        app.use(express.text({ type: 'text/plain' }));
        app.use(sessions.nodeHandler);
      },
      async (base) => {
        const bytes = `${base}/v1/stream/bytes`;
        expect((await fetch(bytes, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
        const raw = new Uint8Array([0x68, 0xe9, 0xff, 0x0a]);
        expect((await fetch(bytes, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: raw })).status).toBe(204);
        expect(new Uint8Array(await (await fetch(`${bytes}?offset=-1`)).arrayBuffer())).toEqual(raw);
        const text = `${base}/v1/stream/text`;
        expect((await fetch(text, { method: 'PUT', headers: { 'content-type': 'text/plain' } })).status).toBe(201);
        const rewritten = await fetch(text, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: new Uint8Array([0x68, 0xe9, 0xff]) });
        expect(rewritten.status).toBe(500);
        expect(new Uint8Array(await (await fetch(`${text}?offset=-1`)).arrayBuffer())).toHaveLength(0);
      },
    );
  });

  it('under a path (app.use("/v1/stream", …)) and as app.all(path, server.handler)', async () => {
    await withApp(
      (app, sessions) => app.use('/v1/stream', sessions.nodeHandler),
      (base) => checkProtocol(base, 'under-path'),
    );
    // The Web-standard handler, called by Express as (req, res, next), hands itself to the node-native one.
    await withApp(
      (app, sessions) => app.all('/v1/stream/*splat', sessions.handler as unknown as express.RequestHandler),
      (base) => checkProtocol(base, 'web-handler'),
    );
  });

  it('passes other paths on to the app, and answers 404 for them without next', async () => {
    await withApp(
      (app, sessions) => {
        app.use(sessions.nodeHandler);
        app.get('/health', (_req, res) => res.send('ok'));
      },
      async (base) => {
        expect(await (await fetch(`${base}/health`)).text()).toBe('ok');
      },
    );
    const sessions = createSessionServer({ onError: () => undefined });
    const http = createHttpServer(sessions.nodeHandler);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/health`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'not-found' } });
    } finally {
      await new Promise((resolve) => http.close(resolve));
      await sessions.close();
    }
  });
});
