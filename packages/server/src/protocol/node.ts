import type { IncomingMessage, ServerResponse } from 'node:http';
import { SessionServerError } from '../errors';
import { isLive, type LiveBody, type ProtocolRequest, type ProtocolResponse } from './exchange';
import { bodyTimeout, checkDeclaredLength, concat, tooLarge } from './web';

/** What a body parser mounted before us (Express's `express.json()`, …) may have left on the request. */
interface ParsedRequest extends IncomingMessage {
  body?: unknown;
  originalUrl?: string;
}

/**
 * An `IncomingMessage` as a {@link ProtocolRequest}, reading headers and body straight from
 * node:http: no Web `Request` unless `authorize` asks for one. `url` is the request's full URL
 * (Express's `originalUrl` when it is mounted under a path).
 */
export function fromNodeRequest(req: ParsedRequest, res: ServerResponse, url: URL): ProtocolRequest {
  return new NodeRequest(req, res, url);
}

/** One class, so a request costs one object (no closures). */
class NodeRequest implements ProtocolRequest {
  readonly method: string;
  #controller: AbortController | undefined;
  #web: Request | undefined;

  constructor(
    private readonly req: ParsedRequest,
    private readonly res: ServerResponse,
    readonly url: URL,
  ) {
    this.method = req.method ?? 'GET';
  }

  header(name: string): string | null {
    const value = this.req.headers[name];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const aborted = new AbortController();
      this.#controller = aborted;
      this.res.once('close', () => {
        if (!this.res.writableFinished) aborted.abort();
      });
      if (this.res.destroyed) aborted.abort();
    }
    return this.#controller.signal;
  }

  body(maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
    return readNodeBody(this.req, maxBytes, timeoutMs);
  }

  web(): Request {
    this.#web ??= new Request(this.url, { method: this.method, headers: webHeaders(this.req) });
    return this.#web;
  }
}

/** The full URL of a request (`http://<host><path>`), or `undefined` for a target that is not a path. */
export function urlOf(req: ParsedRequest): URL | undefined {
  const target = req.originalUrl ?? req.url ?? '/';
  if (!target.startsWith('/')) return undefined; // an absolute-form target or `*`: not ours to serve
  try {
    return new URL(`http://${req.headers.host ?? 'localhost'}${target}`);
  } catch {
    return new URL(`http://localhost${target}`); // a malformed Host names no other place
  }
}

/** A node:http request's headers as Web `Headers`. */
export function webHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return headers;
}

/**
 * The body, straight from the socket, bounded in bytes and time. After a 413 or 408 the rest
 * is discarded (not buffered) so the answer still reaches the client. A body a parser already
 * read (`express.json()`, `express.raw()`, `express.text()`) is taken from `req.body`.
 */
function readNodeBody(req: ParsedRequest, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  checkDeclaredLength(req.headers['content-length'], maxBytes);
  if (req.readableEnded) return Promise.resolve(parsedBody(req, maxBytes));
  return streamedBody(req, maxBytes, timeoutMs);
}

/**
 * Deadlines of bodies still arriving, checked by one timer every 250 ms while there are any:
 * a timer per request costs about what reading a small body does.
 */
const bodyDeadlines = {
  pending: new Map<symbol, { at: number; expire: () => void }>(),
  timer: undefined as ReturnType<typeof setInterval> | undefined,
  watch(timeoutMs: number, expire: () => void): symbol {
    const key = Symbol('body');
    this.pending.set(key, { at: Date.now() + timeoutMs, expire });
    this.timer ??= setInterval(() => this.sweep(), 250).unref();
    return key;
  },
  done(key: symbol): void {
    this.pending.delete(key);
  },
  sweep(): void {
    const now = Date.now();
    for (const [key, { at, expire }] of this.pending) if (at <= now) expire(); // expire() calls done(key)
    if (this.pending.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  },
};

/** A body still arriving: bounded in bytes and time. */
function streamedBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const deadline = bodyDeadlines.watch(timeoutMs, () => fail(bodyTimeout(timeoutMs)));
    const cleanup = (): void => {
      bodyDeadlines.done(deadline);
      req.off('data', onData).off('end', onEnd).off('error', fail).off('close', onClose);
    };
    const fail = (error: unknown): void => {
      cleanup();
      req.resume(); // discard what is left, so the connection can carry the answer
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.byteLength;
      if (length > maxBytes) fail(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(concat(chunks, length));
    };
    const onClose = (): void => fail(new SessionServerError('bad-request', 'the client closed the request before its body arrived'));
    req.on('data', onData).on('end', onEnd).on('error', fail).on('close', onClose);
  });
}

/** The bytes of a body a body parser read before us (its JSON re-serialized). */
function parsedBody(req: ParsedRequest, maxBytes: number): Uint8Array {
  const parsed = req.body;
  if (!declaresBody(req)) return new Uint8Array(0); // the parser's `{}` for an empty body is not an event
  if (parsed === undefined) {
    throw new SessionServerError('internal', 'the request body was read before the session handler; mount it before body parsers (see the README)');
  }
  const bytes = parsed instanceof Uint8Array ? parsed : Buffer.from(typeof parsed === 'string' ? parsed : JSON.stringify(parsed));
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  return bytes;
}

/** Whether a request has a body (RFC 9112 §6.3: a `Content-Length` above 0 or a `Transfer-Encoding`). */
function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Write a {@link ProtocolResponse} to node:http. A live body is pumped with backpressure: a
 * reader that does not drain within `writeTimeoutMs`, or is not reading when the body must
 * end, has its connection cut (it resumes from its last offset).
 */
export function writeNodeResponse(res: ServerResponse, response: ProtocolResponse, headOnly: boolean, writeTimeoutMs: number): Promise<void> | void {
  const { body } = response;
  res.writeHead(response.status, response.headers);
  if (!isLive(body)) {
    res.end(headOnly ? undefined : (body ?? undefined));
    return;
  }
  if (headOnly) {
    body.cancel();
    res.end();
    return;
  }
  return pumpLive(res, body, writeTimeoutMs);
}

async function pumpLive(res: ServerResponse, body: LiveBody, writeTimeoutMs: number): Promise<void> {
  res.flushHeaders();
  let waiting = false;
  const gone = (): void => body.cancel();
  const stalled = (): void => {
    if (waiting) res.destroy(); // the body must end and its reader is not reading
  };
  res.once('close', gone);
  body.ended.addEventListener('abort', stalled, { once: true });
  try {
    for (;;) {
      const chunk = await body.next();
      if (chunk === undefined || res.destroyed) break;
      if (res.write(chunk)) continue;
      waiting = true;
      await drained(res, writeTimeoutMs);
      waiting = false;
    }
    if (!res.destroyed) res.end();
  } finally {
    res.off('close', gone);
    body.ended.removeEventListener('abort', stalled);
  }
}

/** Resolve once `res` drained or closed; cut the connection when it did not drain in `timeoutMs`. */
export function drained(res: ServerResponse, timeoutMs: number): Promise<void> {
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
