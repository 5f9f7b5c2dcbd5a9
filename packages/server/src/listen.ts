import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { reportToConsole } from './report';
import type { AddressInfo } from 'node:net';

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
  /** Stop accepting, end in-flight requests (live reads end), close every connection. Idempotent. */
  close(): Promise<void>;
}

/** The parts of RequestInit that Node's fetch needs for a streamed request body. */
interface StreamingRequestInit extends RequestInit {
  duplex: 'half';
}

/**
 * Serve a Web-standard handler (`(Request) => Promise<Response>`) on node:http.
 * Responses are streamed (SSE flushes as it goes); a client that disconnects aborts its
 * `request.signal`.
 * @example
 * const { handler } = createSessionServer();
 * const running = await listen(handler, { port: 0 });
 * await fetch(`${running.url}/v1/stream/chat-1`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
 */
export async function listen(handler: (request: Request) => Promise<Response>, options: ListenOptions = {}): Promise<ListeningServer> {
  const onError = options.onError ?? reportToConsole;
  const inFlight = new Set<AbortController>();
  const server = createServer((req, res) => {
    const controller = new AbortController();
    inFlight.add(controller);
    res.on('close', () => {
      inFlight.delete(controller);
      if (!res.writableFinished) controller.abort();
    });
    serve(handler, req, res, controller.signal).catch((error: unknown) => {
      onError(error);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'internal', message: 'internal server error' } }));
      } else {
        res.destroy();
      }
    });
  });
  // Node closes idle keep-alive sockets after 5 s, which races clients (undici among them) that
  // reuse a socket near that limit ("other side closed"). Idle sockets live 65 s instead.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
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
        setTimeout(() => server.closeAllConnections(), 100).unref();
      });
      return closing;
    },
  };
}

async function serve(handler: (request: Request) => Promise<Response>, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
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
    if (!res.write(value)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  res.end();
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
