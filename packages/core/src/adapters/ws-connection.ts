import { codeOfStatus } from '../http-request';
import { createBackoff, type Backoff } from '../retry';
import { DurableSessionError } from '../errors';
import type { ReconnectOptions } from '../types';
import { WS_PROTOCOL_VERSION, WS_SUBPROTOCOL, type WsClientFrame, type WsErrorFrame, type WsEventsFrame, type WsServerFrame } from '../ws-protocol';

/**
 * What the adapter needs of a WebSocket: the browser's `WebSocket` and the `ws` package's both fit.
 * @example
 * import { WebSocket } from 'ws';
 * const impl: WebSocketConstructor = WebSocket;
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
};

/** The parts of a socket used here, with its event handler properties. */
interface Socket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason?: string }) => void) | null;
  onerror: (() => void) | null;
}

/** Settings of one shared connection (see `WebSocketAdapterOptions`). */
export interface ConnectionSettings {
  url: string;
  WebSocket: WebSocketConstructor;
  pingIntervalMs: number;
  lingerMs: number;
  maxPending: number;
  reconnect: ReconnectOptions | undefined;
}

/** A subscription's receiver. */
export interface SubscriptionHandlers {
  batch(frame: WsEventsFrame): void;
  error(error: DurableSessionError): void;
}

type Ack = Extract<WsServerFrame, { kind: 'ack' } | { kind: 'presence' }>;
type Request = Extract<WsClientFrame, { kind: 'append' } | { kind: 'create' } | { kind: 'presence' }>;
type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, 'ref'> : never) : never;

interface Sub {
  frame: Extract<WsClientFrame, { kind: 'subscribe' }>;
  handlers: SubscriptionHandlers;
  /** A write subscription: makes its session appendable on this socket, its batches are ignored. */
  write: boolean;
}

interface Pending {
  frame: Request;
  sent: boolean;
  resolve(ack: Ack): void;
  reject(error: DurableSessionError): void;
}

const OPEN = 1;

/**
 * A socket's `error` frame as the client's error: its HTTP status mapped as `httpAdapter` maps statuses.
 * @example
 * errorOfFrame({ kind: 'error', code: 'gone', status: 410, message: 'deleted' }).code; // 'gone'
 */
export function errorOfFrame(frame: WsErrorFrame): DurableSessionError {
  return new DurableSessionError(codeOfStatus(frame.status, frame.code), `${frame.code}: ${frame.message}`, { status: frame.status });
}

/**
 * One WebSocket shared by every session that uses it: opened on demand, closed after
 * `lingerMs` without subscriptions or pending requests, reopened with backoff while requests
 * wait. Subscriptions end with a `network` error when the socket goes (the session resumes from
 * its own offset); appends and creates stay pending and are sent again on the next socket, in
 * order (producer fields make a resent append land once). A socket without any frame for twice
 * `pingIntervalMs` is treated as dead.
 */
export class SocketConnection {
  private socket: Socket | undefined;
  private ready = false;
  private readonly subs = new Map<number, Sub>();
  private readonly pending = new Map<number, Pending>();
  /** Per session on the current socket: its write subscription's id, and whether it was answered. */
  private readonly attached = new Map<string, { sub: number; ready: boolean }>();
  private nextId = 1;
  private readonly backoff: Backoff;
  private retryAt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = 0;

  constructor(private readonly settings: ConnectionSettings) {
    this.backoff = createBackoff(settings.reconnect);
    // Back online: reconnect now rather than at the end of the backoff.
    globalThis.addEventListener?.('online', () => {
      if (this.retryTimer === undefined) return;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.retryAt = 0;
      this.work();
    });
  }

  /** Sockets opened so far (for tests and diagnostics). */
  opened = 0;

  /** Subscribe; returns the function that unsubscribes. */
  subscribe(session: string, offset: string, live: boolean, handlers: SubscriptionHandlers): () => void {
    const sub = this.nextId++;
    const entry: Sub = { frame: { kind: 'subscribe', sub, session, offset, live }, handlers, write: false };
    this.subs.set(sub, entry);
    if (this.ready) this.send(entry.frame);
    this.work();
    return () => {
      if (this.subs.get(sub) !== entry) return;
      this.subs.delete(sub);
      if (this.ready) this.send({ kind: 'unsubscribe', sub });
      this.idle();
    };
  }

  /** Send an append, create or presence beat; resolves with its answer, across reconnects, until `signal` aborts. */
  request(body: RequestBody, signal?: AbortSignal): Promise<Ack> {
    if (signal?.aborted) return Promise.reject(new DurableSessionError('aborted', 'the request was aborted'));
    if (this.pending.size >= this.settings.maxPending) {
      return Promise.reject(new DurableSessionError('bad-input', `more than ${this.settings.maxPending} requests wait for the socket`));
    }
    const ref = this.nextId++;
    return new Promise<Ack>((resolve, reject) => {
      const done = (): void => {
        this.pending.delete(ref);
        signal?.removeEventListener('abort', abort);
        this.idle();
      };
      const abort = (): void => {
        done();
        reject(new DurableSessionError('aborted', 'the request was aborted'));
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.pending.set(ref, {
        frame: { ...body, ref } as Request,
        sent: false,
        resolve: (ack) => (done(), resolve(ack)),
        reject: (error) => (done(), reject(error)),
      });
      this.work();
    });
  }

  /** There is something to do: connect (now, or once the backoff allows), or send what waits. */
  private work(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.socket === undefined && this.retryTimer === undefined) {
      this.retryTimer = setTimeout(() => this.connect(), Math.max(0, this.retryAt - Date.now()));
    }
    if (this.ready) this.flush();
  }

  /** Nothing left: close the socket after `lingerMs` unless work comes back. */
  private idle(): void {
    if (this.busy() || this.lingerTimer !== undefined) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      if (this.busy()) return;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      const socket = this.socket;
      this.drop();
      socket?.close(1000, 'idle');
    }, this.settings.lingerMs);
  }

  /** Whether a read or a request needs the socket (write subscriptions alone do not). */
  private busy(): boolean {
    return this.pending.size > 0 || [...this.subs.values()].some((s) => !s.write);
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (this.socket !== undefined || !this.busy()) return;
    let socket: Socket;
    try {
      socket = new this.settings.WebSocket(this.settings.url, WS_SUBPROTOCOL) as unknown as Socket;
    } catch (e) {
      this.failSubs(new DurableSessionError('bad-input', `cannot open a WebSocket to ${this.settings.url}`, { cause: e }));
      return this.retry();
    }
    this.socket = socket;
    this.opened++;
    this.lastFrameAt = Date.now();
    const ping = this.settings.pingIntervalMs;
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastFrameAt > 2 * ping) return this.lost(socket, 'no frame for twice the ping interval');
      if (socket.readyState === OPEN) socket.send(JSON.stringify({ kind: 'ping' }));
    }, ping);
    socket.onmessage = (event) => this.receive(socket, event.data);
    socket.onclose = (event) => this.lost(socket, `the socket closed (${event.code})`);
    socket.onerror = () => this.lost(socket, 'the socket failed');
  }

  private receive(socket: Socket, data: unknown): void {
    if (socket !== this.socket) return;
    this.lastFrameAt = Date.now();
    let frame: WsServerFrame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data)) as WsServerFrame;
    } catch {
      return this.lost(socket, 'the server sent a frame that is not JSON');
    }
    switch (frame.kind) {
      case 'hello':
        if (frame.v !== WS_PROTOCOL_VERSION) return this.lost(socket, `the server speaks protocol version ${frame.v}, not ${WS_PROTOCOL_VERSION}`);
        return this.start();
      case 'events':
        return this.onEvents(frame);
      case 'ack':
      case 'presence':
        return this.pending.get(frame.ref)?.resolve(frame);
      case 'error':
        return this.onError(frame);
      case 'pong':
        return;
    }
  }

  /** The server said hello: the socket is healthy; subscribe again and send what waits. */
  private start(): void {
    this.ready = true;
    this.backoff.reset();
    this.retryAt = 0;
    for (const sub of this.subs.values()) if (!sub.write) this.send(sub.frame);
    this.flush();
  }

  private onEvents(frame: WsEventsFrame): void {
    const sub = this.subs.get(frame.sub);
    if (sub === undefined) return; // unsubscribed meanwhile
    if (!sub.write) return sub.handlers.batch(frame);
    const attachment = this.attached.get(sub.frame.session);
    if (attachment?.sub === frame.sub && !attachment.ready) {
      attachment.ready = true;
      this.flush();
    }
  }

  private onError(frame: WsErrorFrame): void {
    const error = errorOfFrame(frame);
    if (frame.ref !== undefined) return this.pending.get(frame.ref)?.reject(error);
    const sub = frame.sub === undefined ? undefined : this.subs.get(frame.sub);
    if (sub === undefined) return;
    this.subs.delete(sub.frame.sub);
    if (!sub.write) return sub.handlers.error(error);
    // A write subscription failed: creating a missing session retries it, anything else fails the session's appends.
    const session = sub.frame.session;
    this.attached.delete(session);
    if (error.code !== 'not-found') {
      for (const p of [...this.pending.values()]) if (p.frame.session === session) p.reject(error);
      return;
    }
    this.request({ kind: 'create', session }).then(
      () => this.flush(),
      (e: DurableSessionError) => {
        for (const p of [...this.pending.values()]) if (p.frame.session === session) p.reject(e);
      },
    );
  }

  /** Send every request that waits, in order; appends once their session is attached on this socket. */
  private flush(): void {
    if (!this.ready) return;
    for (const p of this.pending.values()) {
      if (p.sent) continue;
      if (p.frame.kind === 'append') {
        const attachment = this.attached.get(p.frame.session) ?? this.attach(p.frame.session);
        if (!attachment.ready) continue;
      }
      p.sent = true;
      this.send(p.frame);
    }
    this.idle();
  }

  private attach(session: string): { sub: number; ready: boolean } {
    const sub = this.nextId++;
    const attachment = { sub, ready: false };
    this.attached.set(session, attachment);
    const entry: Sub = { frame: { kind: 'subscribe', sub, session, offset: 'now', live: false }, handlers: { batch() {}, error() {} }, write: true };
    this.subs.set(sub, entry);
    this.send(entry.frame);
    return attachment;
  }

  private send(frame: WsClientFrame): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(frame));
  }

  /** The current socket is gone: its subscriptions fail with `network`, its requests wait for the next one. */
  private lost(socket: Socket, reason: string): void {
    if (socket !== this.socket) return;
    this.drop();
    try {
      socket.close();
    } catch {
      // already closing: nothing more to release
    }
    this.failSubs(new DurableSessionError('network', `WebSocket ${this.settings.url}: ${reason}`));
    this.retry();
  }

  /** Forget the current socket (and what was sent on it). */
  private drop(): void {
    const socket = this.socket;
    if (socket !== undefined) {
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.onerror = () => {}; // `ws` throws an 'error' nobody listens to (closing a socket still connecting)
    }
    this.socket = undefined;
    this.ready = false;
    clearInterval(this.watchdog);
    this.attached.clear();
    for (const [sub, entry] of [...this.subs]) if (entry.write) this.subs.delete(sub);
    for (const p of this.pending.values()) p.sent = false;
  }

  private failSubs(error: DurableSessionError): void {
    const subs = [...this.subs.values()];
    this.subs.clear();
    for (const sub of subs) sub.handlers.error(error);
  }

  private retry(): void {
    this.retryAt = Date.now() + this.backoff.next();
    if (this.busy()) this.work();
    else this.idle();
  }
}
