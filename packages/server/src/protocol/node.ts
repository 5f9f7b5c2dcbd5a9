import type { IncomingMessage, ServerResponse } from 'node:http';
import { modeOf } from '../content-type';
import { SessionServerError } from '../errors';
import { isLive, type LiveBody, type ProtocolRequest, type ProtocolResponse } from './exchange';
import { bodyTimeout, checkDeclaredLength, concat, tooLarge } from './body-limits';

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
    return readNodeBody(this.req, maxBytes, timeoutMs).catch((error: unknown) => {
      // A body that stalled holds its connection no longer than the answer. (After a 413 the rest
      // is drained instead: a client still sending would not read its answer on a closed socket.)
      if (SessionServerError.isInstance(error) && error.code === 'request-timeout') this.res.shouldKeepAlive = false;
      throw error;
    });
  }

  web(): Request {
    this.#web ??= new Request(this.url, { method: this.method, headers: webHeaders(this.req) });
    return this.#web;
  }
}

const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The full URL of a request (`http://<host><path>`; Express's `originalUrl` when it is mounted
 * under a path), or `undefined` for a target that is not a plain path: an absolute form, `*`, or
 * one the URL parser would rewrite (`..`, `.`, backslash, `%2e` segments), which would name another
 * path than the one a framework or proxy routed on. The `Host` header only names the host (a
 * malformed one is `localhost`): it never changes the path.
 */
export function urlOf(req: ParsedRequest): URL | undefined {
  const target = req.originalUrl ?? req.url ?? '/';
  if (!target.startsWith('/')) return undefined;
  const host = req.headers.host !== undefined && HOST.test(req.headers.host) ? req.headers.host : 'localhost';
  let url: URL;
  try {
    url = new URL(`http://${host}${target}`);
  } catch {
    return undefined;
  }
  const end = target.search(/[?#]/);
  return url.pathname === (end === -1 ? target : target.slice(0, end)) ? url : undefined;
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
 * read is taken from `req.body` (see {@link parsedBody}).
 */
async function readNodeBody(req: ParsedRequest, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  checkDeclaredLength(req.headers['content-length'], maxBytes);
  if (req.readableEnded) return parsedBody(req, maxBytes);
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
    for (const { at, expire } of this.pending.values()) if (at <= now) expire(); // expire() calls done(key)
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
      req.off('data', onData).off('end', onEnd).off('error', onClose).off('close', onClose);
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
    // A client that goes away mid-body (`aborted`, ECONNRESET) is no server failure to report.
    const onClose = (): void => fail(new SessionServerError('bad-request', 'the client closed the request before its body arrived'));
    req.on('data', onData).on('end', onEnd).on('error', onClose).on('close', onClose);
  });
}

/**
 * The bytes of a body a parser read before us: raw bytes (`express.raw()`) as they are, JSON
 * (`express.json()` on a JSON request) re-serialized. Anything else (a form or text parser's
 * rewrite of the bytes, or nothing) is refused: the handler must be mounted before that parser.
 * An empty JSON object without a declared length reads as no body: `express.json()` gives `{}`
 * for an empty chunked body too.
 */
function parsedBody(req: ParsedRequest, maxBytes: number): Uint8Array {
  const parsed = req.body;
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!hasLength(req) && !chunked) return new Uint8Array(0); // no body was sent, whatever a parser put there
  let bytes: Uint8Array;
  if (parsed instanceof Uint8Array) bytes = parsed;
  else if (parsed !== undefined && typeof parsed !== 'string' && modeOf(req.headers['content-type'] ?? '') === 'json') {
    if (!hasLength(req) && isEmptyObject(parsed)) return new Uint8Array(0);
    bytes = Buffer.from(JSON.stringify(parsed));
  } else {
    throw new SessionServerError('internal', 'the request body was read by a body parser before the session handler; mount the handler before body parsers (see the README)');
  }
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  return bytes;
}

function hasLength(req: IncomingMessage): boolean {
  return Number(req.headers['content-length']) > 0;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
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
