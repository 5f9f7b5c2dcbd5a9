import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { reportToConsole } from './report';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A node:http `upgrade` listener that returns `true` when it took the socket
 * (`SessionServer.upgrade`).
 * @example
 * const upgrade: UpgradeHandler = (request, socket, head) => server.upgrade(request, socket, head);
 */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/**
 * What {@link listen} serves: a Web-standard handler, or a session server (its `handler` and
 * its WebSocket `upgrade`).
 * @example
 * await listen(createSessionServer(), { port: 0 });
 */
export type Servable = ((request: Request) => Promise<Response>) | { handler: (request: Request) => Promise<Response>; upgrade?: UpgradeHandler };

/**
 * Options of {@link listen}.
 * @example
 * await listen(handler, { port: 0, host: '127.0.0.1' });
 */
export interface ListenOptions {
  /** TCP port; `0` picks a free one. Default 4437 (the protocol's registered port). */
  port?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Unexpected failures while writing responses. Default `console.error`. */
  onError?: (error: unknown) => void;
  /** Serve WebSocket upgrades (default: the session server's `upgrade`); others are answered 404. */
  upgrade?: UpgradeHandler;
  /**
   * How long a client may take to send a whole request (headers and body; slowloris): the
   * socket is closed after it. Default 30 s (Node's own default is 300 s).
   */
  requestTimeoutMs?: number;
  /**
   * How long a response may wait for a client that does not read (the socket's buffer full)
   * before the connection is cut, so no reader is buffered for without bound. Default 30 s.
   */
  writeTimeoutMs?: number;
}

/**
 * A running node:http server.
 * @example
 * const running = await listen(server.handler, { port: 0 });
 * console.log(running.url); // http://127.0.0.1:54321
 * await running.close();
 */
export interface ListeningServer {
  /** `http://HOST:PORT` (IPv6 hosts in brackets). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The underlying node:http server. */
  readonly server: Server;
  /** Stop accepting, end in-flight requests (live reads end), close every connection and socket. Idempotent. */
  close(): Promise<void>;
}

/** The parts of RequestInit that Node's fetch needs for a streamed request body. */
interface StreamingRequestInit extends RequestInit {
  duplex: 'half';
}

/**
 * Serve a Web-standard handler (`(Request) => Promise<Response>`) on node:http, or a session
 * server: its HTTP handler and its WebSocket endpoint on the same port.
 * Responses are streamed (SSE flushes as it goes); a client that disconnects aborts its
 * `request.signal`.
 * @example
 * const server = createSessionServer();
 * const running = await listen(server, { port: 0 }); // HTTP, and WebSockets at /v1/socket
 * await fetch(`${running.url}/v1/stream/chat-1`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
 */
export async function listen(servable: Servable, options: ListenOptions = {}): Promise<ListeningServer> {
  const handler = typeof servable === 'function' ? servable : servable.handler;
  const upgrade = options.upgrade ?? (typeof servable === 'function' ? undefined : servable.upgrade);
  const onError = options.onError ?? reportToConsole;
  const inFlight = new Set<AbortController>();
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const writeTimeoutMs = options.writeTimeoutMs ?? 30_000;
  // Node closes idle keep-alive sockets after 5 s, which races clients (undici among them) that
  // reuse a socket near that limit ("other side closed"). Idle sockets live 65 s instead.
  const timeouts = { requestTimeout, headersTimeout: Math.min(20_000, requestTimeout), keepAliveTimeout: 65_000, connectionsCheckingInterval: 1000 };
  const server = createServer(timeouts, (req, res) => {
    if (req.url?.startsWith('/') !== true) {
      // An absolute-form target (`GET http://other/ HTTP/1.1`) or `*`: not ours to serve.
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'bad-request', message: 'the request target must be a path' } }));
      return;
    }
    const controller = new AbortController();
    inFlight.add(controller);
    res.on('close', () => {
      inFlight.delete(controller);
      if (!res.writableFinished) controller.abort();
    });
    serve(handler, req, res, controller.signal, writeTimeoutMs).catch((error: unknown) => {
      onError(error);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'internal', message: 'internal server error' } }));
      } else {
        res.destroy();
      }
    });
  });
  const upgraded = serveUpgrades(server, upgrade);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4437, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    host,
    server,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        for (const controller of inFlight) controller.abort();
        server.closeIdleConnections();
        // Give aborted live reads a moment to end their responses, then cut what is left.
        setTimeout(() => {
          server.closeAllConnections();
          for (const socket of upgraded) socket.destroy();
        }, 100).unref();
      });
      return closing;
    },
  };
}

/** Hand upgrades to `upgrade` (others get 404); the sockets it took are returned, to be closed with the server. */
function serveUpgrades(server: Server, upgrade: UpgradeHandler | undefined): Set<Duplex> {
  const sockets = new Set<Duplex>();
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()); // a client that vanished mid-handshake
    if (upgrade?.(request, socket, head) === true) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  return sockets;
}

async function serve(
  handler: (request: Request) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
  writeTimeoutMs: number,
): Promise<void> {
  const { request, drain } = toRequest(req, signal);
  // Whatever the handler left unread (an early 404/413) is drained, so the connection stays usable.
  res.on('finish', drain);
  const response = await handler(request);
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (response.body === null || req.method === 'HEAD') {
    await response.body?.cancel();
    res.end();
    return;
  }
  if (response.headers.get('content-type') === 'text/event-stream') res.flushHeaders();
  const reader = response.body.getReader();
  res.on('close', () => {
    if (!res.writableFinished) reader.cancel().catch(() => undefined); // the client is gone; nothing to report
  });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (res.destroyed) return;
    if (!res.write(value)) await drained(res, writeTimeoutMs);
  }
  res.end();
}

/** Resolve once `res` drained or closed; cut the connection when it did not drain in `timeoutMs`. */
function drained(res: ServerResponse, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => res.destroy(), timeoutMs); // a reader that does not read: 'close' follows
    const done = (): void => {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** An IncomingMessage as a Web `Request` whose body streams from the socket. */
function toRequest(req: IncomingMessage, signal: AbortSignal): { request: Request; drain: () => void } {
  const host = req.headers.host ?? 'localhost';
  const url = `http://${host}${req.url ?? '/'}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const method = req.method ?? 'GET';
  const init: StreamingRequestInit = { method, headers, signal, duplex: 'half' };
  if (method === 'GET' || method === 'HEAD') return { request: new Request(url, init), drain: () => req.resume() };
  const body = bodyStream(req);
  init.body = body.stream;
  return { request: new Request(url, init), drain: body.drain };
}

/**
 * The request body as a ReadableStream with backpressure. Cancelling it (or `drain()`)
 * discards the rest instead of destroying the socket, so an early answer (413) still
 * reaches the client.
 */
function bodyStream(req: IncomingMessage): { stream: ReadableStream<Uint8Array>; drain: () => void } {
  let finished = false;
  const drain = (): void => {
    finished = true;
    req.resume();
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Buffer) => {
        if (finished) return;
        controller.enqueue(new Uint8Array(chunk)); // a copy: stored entries must not share Node's buffers
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on('end', () => {
        if (finished) return;
        finished = true;
        controller.close();
      });
      req.on('error', (error) => {
        if (finished) return;
        finished = true;
        controller.error(error);
      });
    },
    pull() {
      if (!finished) req.resume();
    },
    cancel: drain,
  });
  return { stream, drain };
}
