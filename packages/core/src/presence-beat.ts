import type { DurableSessionError } from './errors';
import { environment } from './environment';
import type { PresenceEntry, SessionAdapter } from './types';
import { pause } from './retry';
import { randomId, toError } from './util';

/** What the heartbeat needs from its session. */
export interface PresenceHost {
  sessionId: string;
  clientId: string;
  adapter: Pick<SessionAdapter<unknown>, 'presence'>;
  signal: AbortSignal;
  set(presence: readonly PresenceEntry[]): void;
  warn(error: DurableSessionError): void;
}

const DEFAULT_BEAT_MS = 2000;
const MIN_BEAT_MS = 500;

const samePresence = (a: readonly PresenceEntry[], b: readonly PresenceEntry[]): boolean =>
  a.length === b.length && a.every((entry, i) => entry.clientId === b[i]!.clientId && entry.tabs === b[i]!.tabs);

/**
 * Beat this tab's presence until `signal` aborts, keeping the snapshot's `presence` current;
 * then (and on `pagehide`) say goodbye. A failed beat is a `warning` (once per outage) and is
 * tried again at the next beat. Returns the function that stops it.
 * @example
 * const stop = beatPresence(host);
 */
export function beatPresence(host: PresenceHost): () => void {
  const beat = host.adapter.presence?.bind(host.adapter);
  if (beat === undefined) return () => {};
  const tabId = randomId();
  let current: readonly PresenceEntry[] = [];
  let failing = false;
  const leave = (): void => void beat(host.sessionId, { clientId: host.clientId, tabId, leave: true }, {}).catch(() => {});
  const loop = async (): Promise<void> => {
    while (!host.signal.aborted) {
      let waitMs = DEFAULT_BEAT_MS;
      try {
        const answer = await beat(host.sessionId, { clientId: host.clientId, tabId }, { signal: host.signal });
        failing = false;
        waitMs = Math.max(MIN_BEAT_MS, answer.beatMs || DEFAULT_BEAT_MS);
        if (!host.signal.aborted && !samePresence(current, answer.clients)) host.set((current = answer.clients));
      } catch (error) {
        if (host.signal.aborted) break;
        if (!failing) host.warn(toError(error));
        failing = true;
      }
      await pause(waitMs, host.signal);
    }
  };
  void loop();
  const unlisten = environment.listen('pagehide', leave);
  return () => {
    unlisten();
    leave();
  };
}
