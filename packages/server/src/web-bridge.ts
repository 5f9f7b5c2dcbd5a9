import type { IncomingMessage, ServerResponse } from 'node:http';
import { drained, urlOf, webHeaders } from './protocol/node';
import type { NodeHandler } from './protocol/node-handler';

/** The parts of RequestInit that Node's fetch needs for a streamed request body. */
interface StreamingRequestInit extends RequestInit {
  duplex: 'half';
}

/**
 * Any Web-standard handler as a node:http handler: each request becomes a `Request` whose
 * body streams from the socket, and the `Response` is written back with backpressure. Session
 * servers do not need it (they have a node-native handler); it serves other Web handlers.
 */
export function bridgeWebHandler(
  handler: (request: Request) => Promise<Response>,
  writeTimeoutMs: number,
  onError: (error: unknown) => void,
): NodeHandler {
  return (req, res) => {
    const url = urlOf(req);
    if (url === undefined) return answer(res, 400, 'bad-request', 'the request target must be a plain path');
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    serve(handler, url, req, res, controller.signal, writeTimeoutMs).catch((error: unknown) => {
      onError(error);
      if (res.headersSent) res.destroy();
      else answer(res, 500, 'internal', 'internal server error');
    });
  };
}

function answer(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code, message } }));
}

async function serve(
  handler: (request: Request) => Promise<Response>,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
  writeTimeoutMs: number,
): Promise<void> {
  const { request, drain } = toRequest(url, req, signal);
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

/** An IncomingMessage as a Web `Request` whose body streams from the socket. */
function toRequest(url: URL, req: IncomingMessage, signal: AbortSignal): { request: Request; drain: () => void } {
  const headers = webHeaders(req);
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
        controller.enqueue(new Uint8Array(chunk));
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
