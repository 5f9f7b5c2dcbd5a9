import { httpAdapter, type DurableSessionOptions, type SessionEvent } from '@durable-session/core';
import { networkSwitch, type NetworkSwitch } from './network';
import { sessionIdFromUrl } from './session-url';

/** What every page of the playground starts from. */
export interface PlaygroundPage {
  sessionId: string;
  /** Options for `useDurableSession` (the binding creates the session and closes it). */
  options: DurableSessionOptions;
  /** The "drop connection" switch around this page's adapter, and its resume notices. */
  network: NetworkSwitch<SessionEvent>;
}

/**
 * The session of this page (from `?session=`, created when missing), read and written
 * over HTTP on this origin through the demo network switch.
 */
export function openPlaygroundPage(): PlaygroundPage {
  const sessionId = sessionIdFromUrl();
  const network = networkSwitch(httpAdapter<SessionEvent>({ baseUrl: window.location.origin }));
  return {
    sessionId,
    network,
    // A demo: reconnect quickly (the default caps the backoff at 10 s).
    options: { sessionId, adapter: network.adapter, reconnect: { initialDelayMs: 200, maxDelayMs: 3000 } },
  };
}
