import { createDurableSession, httpAdapter, snapshotPaging, type DurableSession, type SessionAdapter, type SessionEvent } from '@durable-session/core';
import { websocketAdapter } from '@durable-session/core/websocket';
import { networkSwitch, type NetworkSwitch } from './network';
import { sessionIdFromUrl, transportFromUrl, type TransportId } from './session-url';

/** What every page of the playground starts from. */
export interface PlaygroundPage {
  sessionId: string;
  /** The page's session, handed to `useDurableSession` (and to the event inspector); the page owns it. */
  session: DurableSession;
  /** The "drop connection" switch around this page's adapter, and its resume notices. */
  network: NetworkSwitch<SessionEvent>;
}

/**
 * The session of this page (from `?session=`, created when missing), read and written on this
 * origin over the page's transport (`?transport=`) through the demo network switch.
 */
export function openPlaygroundPage(): PlaygroundPage {
  const sessionId = sessionIdFromUrl();
  const network = networkSwitch(adapterFor(transportFromUrl()));
  return {
    sessionId,
    network,
    // A demo: reconnect quickly (the default caps the backoff at 10 s); say who watches.
    // A new device starts from the server's snapshot (the last 10 turns); older turns load on scroll.
    session: createDurableSession({
      sessionId,
      adapter: network.adapter,
      presence: true,
      reconnect: { initialDelayMs: 200, maxDelayMs: 3000 },
      snapshot: snapshotPaging({ turns: 10 }),
    }),
  };
}

/** The adapter of a transport: HTTP with SSE or long-poll live reads, or the WebSocket at `/v1/socket`. */
export function adapterFor(transport: TransportId): SessionAdapter<SessionEvent> {
  if (transport !== 'websocket') return httpAdapter<SessionEvent>({ baseUrl: window.location.origin, live: transport });
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return websocketAdapter<SessionEvent>({ url: `${scheme}://${window.location.host}/v1/socket`, reconnect: { initialDelayMs: 200, maxDelayMs: 3000 } });
}
