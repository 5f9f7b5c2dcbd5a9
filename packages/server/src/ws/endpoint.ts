import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WS_PATH, WS_PROTOCOL_VERSION, WS_SUBPROTOCOL } from '@durable-session/core';
import { WebSocketServer, type WebSocket } from 'ws';
import { SessionServerError } from '../errors';
import { authorizeRequest, type HandlerConfig } from '../protocol/config';
import { resolveConfig, type ProtocolHandlerOptions } from '../protocol/handler';
import type { CorsOrigin } from '../protocol/headers';
import { fromWebRequest } from '../protocol/web';
import { serveSocket, type SocketContext, type SocketLimits } from './connection';

/**
 * Options of the WebSocket endpoint (`createSessionServer({ websocket })`). Every option is optional.
 * @example
 * createSessionServer({ websocket: { heartbeatMs: 10_000, maxSubscriptions: 64 } });
 */
export interface WebSocketOptions {
  /** Path of the socket. Default `/v1/socket`. */
  path?: string;
  /** Protocol-level ping interval; a socket that answered nothing since the last ping is ended. Default 15 s. */
  heartbeatMs?: number;
  /** Largest accepted frame in bytes: larger ones get a `payload-too-large` error. Default `maxBodyBytes` + 4 KiB. */
  maxFrameBytes?: number;
  /** Subscriptions one socket may hold. Default 256. */
  maxSubscriptions?: number;
  /** Bytes the server may hold unsent for one socket before it cuts the reader off. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** A frame not handed to the OS within this long cuts the reader off. Default 30 s. */
  writeTimeoutMs?: number;
  /** Frames of one socket waiting to be processed before the server stops reading from it. Default 1000. */
  maxPendingFrames?: number;
  /** Open sockets per endpoint; further upgrades are refused with 503. Default 10 000. */
  maxConnections?: number;
}

/**
 * The WebSocket side of a session server: a node:http `upgrade` listener, and what it serves.
 * @example
 * const endpoint = createWebSocketEndpoint({ store });
 * httpServer.on('upgrade', endpoint.upgrade);
 */
export interface WebSocketEndpoint {
  /**
   * A node:http `upgrade` listener (`server.on('upgrade', endpoint.upgrade)`). Returns `false`,
   * leaving the socket untouched, when the request is not for this endpoint's path.
   */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Sockets open now. */
  readonly connections: number;
  /** Close every socket (code 1001) and stop the heartbeat. Idempotent. */
  close(): Promise<void>;
}

/**
 * Create the WebSocket endpoint over the same options (store, `authorize`, limits) as the HTTP
 * handler: `createSessionServer` does, and exposes it as `server.upgrade`.
 * @example
 * const endpoint = createWebSocketEndpoint({ store: memoryStore() }, { heartbeatMs: 5_000 });
 * const running = await listen(handler, { port: 0, upgrade: endpoint.upgrade });
 */
export function createWebSocketEndpoint(options: ProtocolHandlerOptions, ws: WebSocketOptions = {}): WebSocketEndpoint {
  const config = resolveConfig(options);
  const maxFrameBytes = ws.maxFrameBytes ?? config.maxBodyBytes + 4096;
  const limits: SocketLimits = {
    maxFrameBytes,
    maxSubscriptions: ws.maxSubscriptions ?? 256,
    maxBufferedBytes: ws.maxBufferedBytes ?? 4 * 1024 * 1024,
    writeTimeoutMs: ws.writeTimeoutMs ?? 30_000,
    maxPendingFrames: ws.maxPendingFrames ?? 1000,
  };
  const path = ws.path ?? WS_PATH;
  const heartbeatMs = ws.heartbeatMs ?? 15_000;
  const maxConnections = ws.maxConnections ?? 10_000;
  // Frames up to twice the limit are read, so the error can name their `ref`; beyond, ws closes with 1009.
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: 2 * maxFrameBytes,
    handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
  const alive = new WeakMap<WebSocket, boolean>();
  const heartbeat = setInterval(() => {
    for (const socket of server.clients) {
      if (alive.get(socket) === false) socket.terminate();
      else {
        alive.set(socket, false);
        socket.ping();
      }
    }
  }, heartbeatMs);
  heartbeat.unref();

  const accept = (socket: WebSocket, context: SocketContext): void => {
    const markAlive = (): void => void alive.set(socket, true);
    socket.on('pong', markAlive).on('message', markAlive);
    socket.on('error', () => socket.terminate()); // a protocol violation (1002, 1009): ws already closes it
    const stop = serveSocket(socket, context);
    socket.on('close', stop);
    socket.send(JSON.stringify({ kind: 'hello', v: WS_PROTOCOL_VERSION, heartbeatMs, maxFrameBytes }));
  };

  let closing: Promise<void> | undefined;
  return {
    upgrade(request, socket, head) {
      if (new URL(request.url ?? '/', 'http://localhost').pathname !== path) return false;
      if (closing !== undefined || server.clients.size >= maxConnections) {
        refuse(socket, new SessionServerError('internal', closing === undefined ? 'too many sockets' : 'shutting down'), 503);
        return true;
      }
      admit(config, request)
        .then((context) => {
          if (socket.destroyed) return;
          server.handleUpgrade(request, socket, head, (client) => accept(client, { ...context, limits }));
        })
        .catch((error: unknown) => {
          const refusal = SessionServerError.isInstance(error) ? error : new SessionServerError('internal', 'internal server error');
          if (refusal.status >= 500) config.onError(error);
          refuse(socket, refusal, refusal.status);
        });
      return true;
    },
    get connections() {
      return server.clients.size;
    },
    close() {
      closing ??= (async () => {
        clearInterval(heartbeat);
        for (const socket of server.clients) socket.close(1001, 'server shutting down');
        const deadline = Date.now() + 1000;
        while (server.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        for (const socket of server.clients) socket.terminate();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** Check the origin and `authorize` the upgrade (action `connect`), and build what the socket's frames are checked against. */
async function admit(config: HandlerConfig, upgrade: IncomingMessage): Promise<Omit<SocketContext, 'limits'>> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(upgrade.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('sec-websocket-')) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const origin = headers.get('origin');
  if (origin !== null && !originAllowed(config.cors, origin)) throw new SessionServerError('forbidden', `origin ${origin} is not allowed`);
  const base = `http://${upgrade.headers.host ?? 'localhost'}`;
  const request = fromWebRequest(new Request(new URL(upgrade.url ?? '/', base), { headers }));
  await authorizeRequest(config, request, '', 'connect');
  return {
    config,
    request,
    createRequest(sessionId) {
      const put = new Headers(headers);
      put.set('content-type', 'application/json');
      return fromWebRequest(new Request(`${base}${config.basePath}/${encodeURIComponent(sessionId)}`, { method: 'PUT', headers: put }));
    },
  };
}

const HOP_BY_HOP = new Set(['connection', 'upgrade', 'keep-alive', 'transfer-encoding', 'content-length']);

/** Browsers send cookies with any page's WebSocket: only the origins CORS allows may open one. */
function originAllowed(cors: CorsOrigin, origin: string): boolean {
  if (cors === '*' || cors === false) return true;
  return typeof cors === 'function' ? cors(origin) : cors.includes(origin);
}

/** Answer an upgrade with an HTTP error (the same JSON body as the HTTP handler's) and close. */
function refuse(socket: Duplex, error: SessionServerError, status: number): void {
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
