import type { WsClientFrame, WsErrorFrame, WsServerFrame } from '@durable-session/core';
import type { RawData, WebSocket } from 'ws';
import { SessionServerError, statusOfCode } from '../errors';
import { appendFromInput, appendRefusal, isAccepted } from '../protocol/append';
import { authorizeRequest, type HandlerConfig } from '../protocol/config';
import { handleCreate } from '../protocol/create';
import type { ProtocolRequest } from '../protocol/exchange';
import { utf8 } from '../protocol/responses';
import { PRESENCE_BEAT_MS } from '../presence';
import { FrameError, parseClientFrame } from './frames';
import { pumpSubscription } from './subscription';

/**
 * Limits of one socket (see `WebSocketOptions`).
 * @example
 * const limits: SocketLimits = { maxFrameBytes: 1 << 20, maxSubscriptions: 256, maxBufferedBytes: 4 << 20, writeTimeoutMs: 30_000, maxPendingFrames: 1000 };
 */
export interface SocketLimits {
  maxFrameBytes: number;
  maxSubscriptions: number;
  maxBufferedBytes: number;
  writeTimeoutMs: number;
  maxPendingFrames: number;
}

/** What one socket needs from its endpoint. */
export interface SocketContext {
  config: HandlerConfig;
  limits: SocketLimits;
  /** The upgrade request: what `authorize` sees for every frame. */
  request: ProtocolRequest;
  /** A PUT of a JSON stream for `create`, with the upgrade request's headers. */
  createRequest(sessionId: string): ProtocolRequest;
}

/** One subscription of a socket: `ready` once `authorize` allowed it. */
export interface Subscription {
  sub: number;
  session: string;
  offset: string;
  live: boolean;
  ready: boolean;
  stop: AbortController;
}

/** A socket's sending side, shared with the subscription pumps. */
export interface SocketSender {
  /** Send a frame; resolves once it was handed to the OS (the reader drained what came before). */
  send(data: string | Uint8Array): Promise<void>;
  /** Cut a reader off (it does not drain, or broke the protocol). */
  cutOff(reason: string): void;
}

/** What the frame handlers of one socket share. */
interface SocketState {
  ws: WebSocket;
  ctx: SocketContext;
  subs: Map<number, Subscription>;
  sender: SocketSender;
  /** Run `step` after every earlier frame of the same session. */
  inOrder(session: string, step: () => Promise<void>): void;
  /** Send the error frame for `error`. */
  fail(error: unknown, ids: ErrorIds): void;
  /** The tabs this socket beats for (they leave when it closes). */
  tabs: Map<string, { session: string; clientId: string; tabId: string }>;
}

type ErrorIds = { ref?: number; sub?: number; session?: string; headers?: Record<string, string> };
type FrameOf<K extends WsClientFrame['kind']> = Extract<WsClientFrame, { kind: K }>;

/**
 * Serve one client socket: parse frames, run each session's frames in order (subscribe,
 * unsubscribe, append, create), answer pings. A bad frame gets an `error` frame; the socket and
 * its other sessions keep working. Returns the function that ends everything on close.
 */
export function serveSocket(ws: WebSocket, ctx: SocketContext): () => void {
  const chains = new Map<string, Promise<void>>();
  let pending = 0;
  const sender = createSender(ws, ctx);
  const state: SocketState = {
    ws,
    ctx,
    subs: new Map(),
    tabs: new Map(),
    sender,
    fail: (error, ids) => void sender.send(JSON.stringify(errorFrame(error, ids, ctx.config))).catch(() => undefined),
    // Fewer frames are read from the socket while many wait (TCP pushes back on the client).
    inOrder(session, step) {
      if (++pending === ctx.limits.maxPendingFrames) ws.pause();
      const next = (chains.get(session) ?? Promise.resolve()).then(step).finally(() => {
        if (--pending === Math.floor(ctx.limits.maxPendingFrames / 2)) ws.resume();
        if (chains.get(session) === next) chains.delete(session);
      });
      chains.set(session, next);
    },
  };
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) return state.fail(new SessionServerError('bad-request', 'frames are JSON text, not binary'), {});
    try {
      onFrame(state, parseClientFrame(bytes.toString('utf8'), bytes.byteLength, ctx.limits.maxFrameBytes));
    } catch (error) {
      const ids: ErrorIds = {};
      if (error instanceof FrameError && error.ref !== undefined) ids.ref = error.ref;
      if (error instanceof FrameError && error.sub !== undefined) ids.sub = error.sub;
      state.fail(error, ids);
    }
  });
  return () => {
    for (const s of [...state.subs.values()]) end(state, s);
    for (const tab of state.tabs.values()) ctx.config.presence.beat(tab.session, { clientId: tab.clientId, tabId: tab.tabId, leave: true });
    state.tabs.clear();
  };
}

function onFrame(state: SocketState, frame: WsClientFrame): void {
  switch (frame.kind) {
    case 'ping':
      void state.sender.send(JSON.stringify(frame.t === undefined ? { kind: 'pong' } : { kind: 'pong', t: frame.t })).catch(() => undefined);
      return;
    case 'subscribe':
      return subscribe(state, frame);
    case 'unsubscribe': {
      const s = state.subs.get(frame.sub);
      if (s !== undefined) state.inOrder(s.session, async () => end(state, s));
      return;
    }
    case 'append':
      return state.inOrder(frame.session, () => append(state, frame).catch((e: unknown) => state.fail(e, frame)));
    case 'create':
      return state.inOrder(frame.session, () => create(state, frame).catch((e: unknown) => state.fail(e, frame)));
    case 'presence':
      return void presence(state, frame).catch((e: unknown) => state.fail(e, frame));
  }
}

/** A tab's beat over the socket: checked as a `read`; the tab leaves when the socket closes. */
async function presence(state: SocketState, frame: FrameOf<'presence'>): Promise<void> {
  const { config, request } = state.ctx;
  const caller = await authorizeRequest(config, request, frame.session, 'read');
  if (caller.clientId !== undefined && caller.clientId !== frame.clientId) {
    throw new SessionServerError('forbidden', `this caller is client ${caller.clientId}, not ${frame.clientId}`);
  }
  const beat = { clientId: frame.clientId, tabId: frame.tabId, ...(frame.leave ? { leave: true } : {}) };
  const key = JSON.stringify([frame.session, frame.clientId, frame.tabId]);
  if (frame.leave) state.tabs.delete(key);
  else state.tabs.set(key, { session: frame.session, clientId: frame.clientId, tabId: frame.tabId });
  const clients = config.presence.beat(frame.session, beat);
  const reply: WsServerFrame = { kind: 'presence', ref: frame.ref, session: frame.session, clients, beatMs: PRESENCE_BEAT_MS };
  await state.sender.send(JSON.stringify(reply)).catch(() => undefined);
}

function end(state: SocketState, s: Subscription): void {
  s.stop.abort();
  if (state.subs.get(s.sub) === s) state.subs.delete(s.sub);
}

/** Register at once (so later frames find it), authorize in order, then pump in the background. */
function subscribe(state: SocketState, frame: FrameOf<'subscribe'>): void {
  const { ctx, subs } = state;
  const ids = { sub: frame.sub, session: frame.session };
  if (subs.has(frame.sub)) return state.fail(new SessionServerError('bad-request', `subscription ${frame.sub} already exists`), ids);
  if (subs.size >= ctx.limits.maxSubscriptions) {
    return state.fail(new SessionServerError('bad-request', `at most ${ctx.limits.maxSubscriptions} subscriptions per socket`), ids);
  }
  const s: Subscription = { ...frame, live: frame.live !== false, ready: false, stop: new AbortController() };
  subs.set(frame.sub, s);
  state.inOrder(frame.session, async () => {
    try {
      await authorizeRequest(ctx.config, ctx.request, frame.session, 'read');
    } catch (error) {
      end(state, s);
      return state.fail(error, ids);
    }
    s.ready = true;
    pumpSubscription(s, ctx.config, state.sender).catch((error: unknown) => {
      if (s.stop.signal.aborted) return; // unsubscribed or closed meanwhile
      end(state, s);
      state.fail(error, ids);
    });
  });
}

/** An append frame through the same function as an HTTP POST, answered by an `ack` or an `error`. */
async function append(state: SocketState, frame: FrameOf<'append'>): Promise<void> {
  const { ctx } = state;
  if (![...state.subs.values()].some((s) => s.ready && s.session === frame.session)) {
    throw new SessionServerError('bad-request', `subscribe to session ${frame.session} on this socket before appending to it`);
  }
  const body = utf8(JSON.stringify(frame.event));
  if (body.byteLength > ctx.config.maxBodyBytes) throw new SessionServerError('payload-too-large', `the event exceeds ${ctx.config.maxBodyBytes} bytes`);
  const input = { body: { values: [frame.event] }, contentType: 'application/json', close: frame.close === true, producer: frame.producer, streamSeq: undefined };
  const outcome = await appendFromInput(ctx.config, ctx.request, frame.session, input);
  if (!isAccepted(outcome)) {
    const refusal = appendRefusal(frame.session, outcome);
    return state.fail(new SessionServerError(refusal.code, refusal.message), { ref: frame.ref, session: frame.session, headers: refusal.headers });
  }
  const ack: WsServerFrame = { kind: 'ack', ref: frame.ref, session: frame.session, offset: outcome.tail, closed: outcome.closed, duplicate: outcome.status === 'duplicate' };
  await state.sender.send(JSON.stringify(ack)).catch(() => undefined);
}

/** A create frame through the HTTP PUT handler itself (checks, `authorize`, announcing the session to the agents). */
async function create(state: SocketState, { ref, session }: FrameOf<'create'>): Promise<void> {
  const response = await handleCreate(state.ctx.createRequest(session), session, state.ctx.config);
  let frame: WsServerFrame;
  if (response.status < 300) {
    const offset = response.headers['stream-next-offset'] ?? '';
    frame = { kind: 'ack', ref, session, offset, closed: response.headers['stream-closed'] === 'true', duplicate: response.status === 200 };
  } else {
    const body = JSON.parse(new TextDecoder().decode(response.body as Uint8Array)) as { error: { code: string; message: string } };
    frame = { kind: 'error', ref, session, code: body.error.code, status: response.status, message: body.error.message };
  }
  await state.sender.send(JSON.stringify(frame)).catch(() => undefined);
}

/** The error frame for anything thrown: a {@link SessionServerError} keeps its code; the rest is `internal` (and reported). */
function errorFrame(error: unknown, ids: ErrorIds, config: HandlerConfig): WsErrorFrame {
  if (!(SessionServerError.isInstance(error)) || error.status >= 500) config.onError(error);
  const code = SessionServerError.isInstance(error) ? error.code : 'internal';
  const message = SessionServerError.isInstance(error) ? error.message : 'internal server error';
  const frame: WsErrorFrame = { kind: 'error', code, status: statusOfCode(code), message };
  if (ids.ref !== undefined) frame.ref = ids.ref;
  if (ids.sub !== undefined) frame.sub = ids.sub;
  if (ids.session !== undefined) frame.session = ids.session;
  if (ids.headers !== undefined && Object.keys(ids.headers).length > 0) frame.headers = ids.headers;
  return frame;
}

/**
 * Sending with bounded buffering: a frame that would take the socket's unsent bytes past
 * `maxBufferedBytes`, or a write not drained within `writeTimeoutMs`, cuts the reader off.
 */
function createSender(ws: WebSocket, ctx: SocketContext): SocketSender {
  const closed = (): Error => new SessionServerError('closed', 'the socket is closed');
  const cutOff = (reason: string): void => {
    if (ws.readyState === ws.CLOSED) return;
    ws.terminate();
    ctx.config.onError(new SessionServerError('closed', `WebSocket client cut off: ${reason}`));
  };
  return {
    cutOff,
    send(data) {
      if (ws.readyState !== ws.OPEN) return Promise.reject(closed());
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      if (ws.bufferedAmount + size > ctx.limits.maxBufferedBytes) {
        cutOff(`it does not read (${ws.bufferedAmount} bytes unsent)`);
        return Promise.reject(closed());
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => cutOff(`a write was not drained within ${ctx.limits.writeTimeoutMs} ms`), ctx.limits.writeTimeoutMs);
        ws.send(data, { binary: false }, (error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        });
      });
    },
  };
}
