import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import type { WsClientFrame } from '../ws-protocol';
import { websocketAdapter } from './websocket';

/** A scripted server: records every frame and lets the test answer. */
async function stubServer(onFrame: (socket: ServerSocket, frame: WsClientFrame) => void, hello = true) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const frames: WsClientFrame[] = [];
  let connections = 0;
  server.on('connection', (socket) => {
    connections++;
    if (hello) socket.send(JSON.stringify({ kind: 'hello', v: 1, heartbeatMs: 15_000, maxFrameBytes: 1 << 20 }));
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as WsClientFrame;
      frames.push(frame);
      onFrame(socket, frame);
    });
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/socket`;
  const close = (): Promise<void> => {
    for (const c of server.clients) c.terminate();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return { server, url, frames, close, connections: () => connections };
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Answers a write subscription with an empty batch, so appends may follow. */
const attach = (socket: ServerSocket, frame: WsClientFrame): void => {
  if (frame.kind === 'subscribe') {
    socket.send(JSON.stringify({ kind: 'events', sub: frame.sub, session: frame.session, events: [], offset: 'o', upToDate: true, closed: false }));
  }
};

describe('websocketAdapter', () => {
  it('treats a socket without any frame for twice the ping interval as dead', async () => {
    const stub = await stubServer(() => {}, false); // accepts, then never says anything
    servers.push(stub);
    const adapter = websocketAdapter({ url: stub.url, WebSocket, pingIntervalMs: 100 });
    const started = Date.now();
    const read = adapter.read('s', '-1', { live: true, signal: new AbortController().signal });
    await expect(read[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'network' });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1000);
  });

  it('pipelines appends, and resends the unacknowledged ones on the next socket with the same producer fields', async () => {
    let firstSocket = true;
    const stub = await stubServer((socket, frame) => {
      attach(socket, frame);
      if (frame.kind !== 'append') return;
      const seq = frame.producer!.seq;
      // The first socket dies once it got all 40 appends, having acked only the first 10.
      if (firstSocket && seq < 10) socket.send(JSON.stringify({ kind: 'ack', ref: frame.ref, session: frame.session, offset: `o${seq}`, closed: false, duplicate: false }));
      if (firstSocket && seq === 39) {
        firstSocket = false;
        socket.terminate();
      }
      if (!firstSocket && seq >= 0) socket.send(JSON.stringify({ kind: 'ack', ref: frame.ref, session: frame.session, offset: `o${seq}`, closed: false, duplicate: seq < 10 }));
    });
    servers.push(stub);
    const adapter = websocketAdapter({ url: stub.url, WebSocket, reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
    const appends = Array.from({ length: 40 }, (_, seq) => adapter.append('s', { type: 'x', seq }, { producerId: 'p', epoch: 0, seq }));
    await Promise.all(appends);
    const sent = stub.frames.filter((f): f is Extract<WsClientFrame, { kind: 'append' }> => f.kind === 'append');
    // All 40 went out on the first socket before any answer was needed, then the 30 unanswered ones again, in order.
    expect(sent.slice(0, 40).map((f) => f.producer!.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(sent.slice(40).map((f) => f.producer!.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 10));
    expect(stub.connections()).toBe(2);
  });

  it('shares one socket among adapters and sessions of the same URL, and closes it when unused', async () => {
    const stub = await stubServer((socket, frame) => {
      attach(socket, frame);
    });
    servers.push(stub);
    const a = websocketAdapter({ url: stub.url, WebSocket, lingerMs: 50 });
    const b = websocketAdapter({ url: stub.url, WebSocket, lingerMs: 50 });
    const stops = ['s1', 's2'].map(() => new AbortController());
    const reads = [a.read('s1', '-1', { live: true, signal: stops[0]!.signal }), b.read('s2', '-1', { live: true, signal: stops[1]!.signal })];
    const firsts = await Promise.all(reads.map((r) => r[Symbol.asyncIterator]().next()));
    expect(firsts.map((f) => f.value?.upToDate)).toEqual([true, true]);
    expect(stub.connections()).toBe(1);
    for (const s of stops) s.abort();
    for (const r of reads) await r[Symbol.asyncIterator]().return?.(undefined);
    const until = Date.now() + 2000;
    while (stub.server.clients.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(stub.server.clients.size).toBe(0);
    expect(stub.frames.filter((f) => f.kind === 'unsubscribe')).toHaveLength(2);
  });

  it('maps error frames to the client errors httpAdapter gives (gone past -1, unauthorized)', async () => {
    const stub = await stubServer((socket, frame) => {
      if (frame.kind === 'subscribe') {
        const status = frame.session === 'private' ? 403 : 404;
        socket.send(JSON.stringify({ kind: 'error', sub: frame.sub, code: status === 403 ? 'forbidden' : 'not-found', status, message: 'no' }));
      }
    });
    servers.push(stub);
    const adapter = websocketAdapter({ url: stub.url, WebSocket });
    const signal = new AbortController().signal;
    const first = (id: string, offset: string) => adapter.read(id, offset, { live: true, signal })[Symbol.asyncIterator]().next();
    await expect(first('deleted', '0000000000000000_0000000000000004')).rejects.toMatchObject({ code: 'gone', status: 404 });
    await expect(first('private', '-1')).rejects.toMatchObject({ code: 'unauthorized', status: 403 });
  });
});
