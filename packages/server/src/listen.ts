import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { toNodeHandler, type Servable, type UpgradeHandler } from './to-node-handler';
import { reportToConsole } from './report';

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
  /** Failures of a Web handler that is not a session server's (those go to the server's `onError`). Default `console.error`. */
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

/**
 * Serve a session server on node:http: its HTTP surface through its node-native handler
 * ({@link toNodeHandler}: no Web `Request`/`Response` per call) and its WebSocket endpoint, on
 * the same port. Any other Web-standard handler (`(Request) => Promise<Response>`) is bridged.
 * Responses are streamed (SSE flushes as it goes); a client that disconnects ends its live reads.
 * @example
 * const server = createSessionServer();
 * const running = await listen(server, { port: 0 }); // HTTP, and WebSockets at /v1/socket
 * await fetch(`${running.url}/v1/stream/chat-1`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
 */
export async function listen(servable: Servable, options: ListenOptions = {}): Promise<ListeningServer> {
  const upgrade = options.upgrade ?? (typeof servable === 'function' ? undefined : servable.upgrade);
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const handler = toNodeHandler(servable, { writeTimeoutMs: options.writeTimeoutMs ?? 30_000, onError: options.onError ?? reportToConsole });
  // Node closes idle keep-alive sockets after 5 s, which races clients (undici among them) that
  // reuse a socket near that limit ("other side closed"). Idle sockets live 65 s instead.
  const timeouts = { requestTimeout, headersTimeout: Math.min(20_000, requestTimeout), keepAliveTimeout: 65_000, connectionsCheckingInterval: 1000 };
  const server = createServer(timeouts, (req, res) => handler(req, res));
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
        server.closeIdleConnections();
        // Give requests in flight a moment to finish, then cut what is left (live reads end with their connection).
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
