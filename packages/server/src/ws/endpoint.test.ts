import { WS_PATH, WS_SUBPROTOCOL, type WsServerFrame } from '@durable-session/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SessionServerError } from '../errors';
import { listen, type ListeningServer } from '../listen';
import { createSessionServer, type SessionServer, type SessionServerOptions } from '../server';

type Frame = WsServerFrame & Record<string, unknown>;

/** A raw protocol client: every frame it received, and a way to wait for one. */
interface RawClient {
  socket: WebSocket;
  frames: Frame[];
  send(frame: unknown): void;
  next(match: (f: Frame) => boolean, ms?: number): Promise<Frame>;
  closed: Promise<number>;
}

let running: ListeningServer | undefined;
let server: SessionServer | undefined;
const clients: WebSocket[] = [];
const errors: unknown[] = [];

async function start(options: SessionServerOptions = {}): Promise<string> {
  server = createSessionServer({ onError: (e) => errors.push(e), ...options });
  running = await listen(server, { port: 0 });
  return running.url.replace('http', 'ws') + WS_PATH;
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
  const socket = new WebSocket(url, WS_SUBPROTOCOL, { headers });
  clients.push(socket);
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const taken = new Set<Frame>();
  return {
    socket,
    frames,
    closed,
    send: (frame) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next(match, ms = 5000) {
      return new Promise((resolve, reject) => {
        const look = (): boolean => {
          for (const f of frames) {
            if (!taken.has(f) && match(f)) {
              taken.add(f);
              waiters.delete(check);
              clearTimeout(timer);
              resolve(f);
              return true;
            }
          }
          return false;
        };
        const check = (): void => void look();
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching frame within ${ms} ms; got ${JSON.stringify(frames.slice(-5))}`));
        }, ms);
        if (!look()) waiters.add(check);
      });
    },
  };
}

const kind = (k: string, extra: Record<string, unknown> = {}) => (f: Frame) =>
  f.kind === k && Object.entries(extra).every(([key, v]) => f[key] === v);

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await running?.close();
  await server?.close();
  running = undefined;
  server = undefined;
  errors.length = 0;
});

describe('WebSocket endpoint', () => {
  it('says hello, then subscribes, appends with acks and delivers the same offsets as an HTTP read', async () => {
    const url = await start();
    const c = await connect(url);
    expect(await c.next(kind('hello'))).toMatchObject({ v: 1, heartbeatMs: 15_000 });
    expect(c.socket.protocol).toBe(WS_SUBPROTOCOL);
    c.send({ kind: 'create', ref: 1, session: 's1' });
    expect(await c.next(kind('ack', { ref: 1 }))).toMatchObject({ duplicate: false, offset: expect.stringMatching(/^[0-9a-z]{16}_0{16}$/) });
    c.send({ kind: 'subscribe', sub: 1, session: 's1', offset: '-1' });
    expect(await c.next(kind('events', { sub: 1 }))).toMatchObject({ events: [], upToDate: true });
    const producer = { id: 'p', epoch: 0, seq: 0 };
    c.send({ kind: 'append', ref: 2, session: 's1', event: { type: 'x', n: 1 }, producer });
    c.send({ kind: 'append', ref: 3, session: 's1', event: { type: 'x', n: 2 }, producer: { ...producer, seq: 1 } });
    c.send({ kind: 'append', ref: 4, session: 's1', event: { type: 'x', n: 1 }, producer }); // a retry
    expect(await c.next(kind('ack', { ref: 2 }))).toMatchObject({ offset: expect.stringMatching(/_0{15}1$/), duplicate: false });
    expect(await c.next(kind('ack', { ref: 3 }))).toMatchObject({ offset: expect.stringMatching(/_0{15}2$/) });
    expect(await c.next(kind('ack', { ref: 4 }))).toMatchObject({ duplicate: true });
    const events: unknown[] = [];
    while (events.length < 2) events.push(...((await c.next(kind('events', { sub: 1 }))).events as unknown[]));
    expect(events).toEqual([{ type: 'x', n: 1 }, { type: 'x', n: 2 }]);
    const http = await fetch(`${running!.url}/v1/stream/s1?offset=-1`);
    expect(await http.json()).toEqual(events);
    expect(http.headers.get('stream-next-offset')).toMatch(/_0{15}2$/);
  });

  it('answers bad frames with typed errors and keeps the socket and its other sessions working', async () => {
    const url = await start({ websocket: { maxFrameBytes: 2048 } });
    const c = await connect(url);
    c.send({ kind: 'create', ref: 1, session: 'ok' });
    await c.next(kind('ack', { ref: 1 }));
    c.send({ kind: 'subscribe', sub: 1, session: 'ok', offset: '-1' });
    await c.next(kind('events', { sub: 1 }));
    const bad: [unknown, string, Record<string, unknown>][] = [
      ['not json{', 'invalid-json', {}],
      [{ kind: 'teleport', ref: 5 }, 'bad-request', { ref: 5 }],
      [[1, 2], 'bad-request', {}],
      [{ kind: 'append', ref: 'seven', session: 'ok', event: {} }, 'bad-request', {}],
      [{ kind: 'append', ref: 6, session: 42, event: {} }, 'bad-request', { ref: 6 }],
      [{ kind: 'append', ref: 7, session: 'ok', event: {}, producer: { id: 'p', epoch: -1, seq: 0 } }, 'bad-request', { ref: 7 }],
      [{ kind: 'subscribe', sub: 2, session: 'ok', offset: 12 }, 'invalid-offset', { sub: 2 }],
      [{ kind: 'subscribe', sub: 3, session: 'ok', offset: '-1', live: 'yes' }, 'bad-request', { sub: 3 }],
      [{ kind: 'append', ref: 8, session: 'ok', event: { pad: 'x'.repeat(3000) } }, 'payload-too-large', { ref: 8 }],
      [{ kind: 'append', ref: 9, session: 'other', event: { type: 'x' } }, 'bad-request', { ref: 9 }], // not subscribed
      [{ kind: 'append', ref: 10, session: 'ok', event: { type: 'prompt', turnId: 't' } }, 'invalid-event', { ref: 10 }],
      [{ kind: 'subscribe', sub: 4, session: 'missing', offset: '-1' }, 'not-found', { sub: 4 }],
      [{ kind: 'subscribe', sub: 5, session: '__sessions', offset: '-1' }, 'bad-request', { sub: 5 }], // the reserved session index
      [{ kind: 'create', ref: 11, session: '__evil' }, 'bad-request', { ref: 11 }],
      [{ kind: 'create', ref: 12, session: '../x' }, 'bad-request', { ref: 12 }],
      [{ kind: 'create', ref: 13, session: 'x'.repeat(600) }, 'bad-request', { ref: 13 }],
    ];
    for (const [frame, code, ids] of bad) {
      c.send(frame);
      const error = await c.next(kind('error'));
      expect({ code: error.code, ...Object.fromEntries(Object.keys(ids).map((k) => [k, error[k]])) }).toEqual({ code, ...ids });
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(typeof error.message).toBe('string');
    }
    c.socket.send(Buffer.from('{}'), { binary: true });
    expect(await c.next(kind('error'))).toMatchObject({ code: 'bad-request' });
    // Still working: an append to the subscribed session lands and is delivered.
    c.send({ kind: 'append', ref: 11, session: 'ok', event: { type: 'x' } });
    await c.next(kind('ack', { ref: 11 }));
    expect(await c.next(kind('events', { sub: 1 }))).toMatchObject({ events: [{ type: 'x' }] });
    c.send({ kind: 'ping', t: 3 });
    expect(await c.next(kind('pong'))).toEqual({ kind: 'pong', t: 3 });
    expect(c.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('runs authorize on the upgrade and for every subscribe and append, as HTTP does', async () => {
    const seen: string[] = [];
    const url = await start({
      authorize(request, { sessionId, action }) {
        seen.push(`${action}:${sessionId}`);
        const role = request.headers.get('authorization');
        if (role === null) throw new SessionServerError('unauthorized', 'no token');
        if (role === 'viewer') return action === 'connect' || action === 'read';
        return !sessionId.startsWith('secret');
      },
    });
    await expect(connect(url)).rejects.toThrow(/401/);
    const viewer = await connect(url, { authorization: 'viewer' });
    const writer = await connect(url, { authorization: 'writer' });
    writer.send({ kind: 'create', ref: 1, session: 'room' });
    await writer.next(kind('ack', { ref: 1 }));
    viewer.send({ kind: 'subscribe', sub: 1, session: 'room', offset: '-1' });
    await viewer.next(kind('events', { sub: 1 }));
    viewer.send({ kind: 'append', ref: 2, session: 'room', event: { type: 'x' } });
    expect(await viewer.next(kind('error', { ref: 2 }))).toMatchObject({ code: 'forbidden', status: 403 });
    viewer.send({ kind: 'append', ref: 3, session: 'room', event: { type: 'cancel', turnId: '*', clientId: 'v' } });
    expect(await viewer.next(kind('error', { ref: 3 }))).toMatchObject({ code: 'forbidden' });
    writer.send({ kind: 'subscribe', sub: 1, session: 'secret-room', offset: '-1' });
    expect(await writer.next(kind('error', { sub: 1 }))).toMatchObject({ code: 'forbidden' });
    writer.send({ kind: 'create', ref: 4, session: 'secret-room' });
    expect(await writer.next(kind('error', { ref: 4 }))).toMatchObject({ code: 'forbidden' });
    expect(seen).toEqual(expect.arrayContaining(['connect:', 'read:room', 'append:room', 'control:room', 'create:room', 'read:secret-room']));
  });

  it('refuses origins that CORS does not allow', async () => {
    const url = await start({ cors: ['https://app.example'] });
    await expect(connect(url, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
    const ok = await connect(url, { origin: 'https://app.example' });
    expect(await ok.next(kind('hello'))).toMatchObject({ kind: 'hello' });
  });

  it('cuts off a reader that does not drain instead of buffering without bound', async () => {
    const url = await start({ websocket: { maxBufferedBytes: 256 * 1024 } });
    const c = await connect(url);
    c.send({ kind: 'create', ref: 1, session: 'big' });
    await c.next(kind('ack', { ref: 1 }));
    const event = { type: 'x', pad: 'y'.repeat(60_000) };
    for (let i = 0; i < 300; i++) await server!.host.session('big').append({ ...event, i }).catch(() => undefined);
    // Stop reading: the kernel buffers fill, then the server's own buffer passes the limit.
    (c.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    c.send({ kind: 'subscribe', sub: 1, session: 'big', offset: '-1' });
    const started = Date.now();
    while (server!.websocket!.connections > 0 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(server!.websocket!.connections).toBe(0);
    expect(errors.some((e) => e instanceof SessionServerError && /cut off/.test(e.message))).toBe(true);
  });

  it('ends a socket that stops answering heartbeats', async () => {
    const url = await start({ websocket: { heartbeatMs: 100 } });
    const c = await connect(url);
    await c.next(kind('hello'));
    // Freeze the client: it neither answers pings nor reads.
    (c.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const started = Date.now();
    while (server!.websocket!.connections > 0 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(server!.websocket!.connections).toBe(0);
  });

  it('answers upgrades on other paths with 404', async () => {
    const url = await start();
    await expect(connect(url.replace(WS_PATH, '/elsewhere'))).rejects.toThrow(/404/);
  });
});
