/**
 * Presence: who watches a session now. Kept in memory on each node and never written to the
 * session's log. Each tab sends a small heartbeat (`POST <stream URL>?presence`) every
 * {@link PRESENCE_BEAT_MS}; its answer is the current list, so every watcher learns of a tab
 * opening within one beat, and of a tab closing within one beat too (a closing tab sends a
 * `leave`), or once its entry expires ({@link PRESENCE_TTL_MS}) when it could not say goodbye.
 */
import type { PresenceBeat, PresenceEntry } from '@durable-session/core';
import { SessionServerError } from './errors';

/** How often a tab beats. */
export const PRESENCE_BEAT_MS = 2000;
/** How long a tab counts as present after its last beat. */
export const PRESENCE_TTL_MS = 3 * PRESENCE_BEAT_MS;

export type { PresenceBeat, PresenceEntry };

interface Options {
  ttlMs?: number;
  /** Most tabs counted per session. Default 1000. */
  maxTabsPerSession?: number;
  /** Most sessions tracked per node. Default 10 000. */
  maxSessions?: number;
  now?: () => number;
}

/** The presence of every session this node serves. */
export class PresenceRegistry {
  readonly #sessions = new Map<string, Map<string, { clientId: string; expires: number }>>();
  readonly #ttlMs: number;
  readonly #maxTabs: number;
  readonly #maxSessions: number;
  readonly #now: () => number;

  constructor(options: Options = {}) {
    this.#ttlMs = options.ttlMs ?? PRESENCE_TTL_MS;
    this.#maxTabs = options.maxTabsPerSession ?? 1000;
    this.#maxSessions = options.maxSessions ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Record a beat (or a leave) and return who is present now. */
  beat(sessionId: string, beat: PresenceBeat): PresenceEntry[] {
    const tabs = this.#tabsOf(sessionId, !beat.leave);
    if (tabs === undefined) return [];
    const key = `${beat.clientId}\u0000${beat.tabId}`;
    if (beat.leave) tabs.delete(key);
    else {
      if (!tabs.has(key) && tabs.size >= this.#maxTabs) throw new SessionServerError('too-many-readers', `session ${sessionId} counts at most ${this.#maxTabs} tabs`);
      tabs.set(key, { clientId: beat.clientId, expires: this.#now() + this.#ttlMs });
    }
    return this.list(sessionId);
  }

  /** Who is present now (expired tabs dropped), sorted by client id. */
  list(sessionId: string): PresenceEntry[] {
    const tabs = this.#sessions.get(sessionId);
    if (tabs === undefined) return [];
    const now = this.#now();
    const counts = new Map<string, number>();
    for (const [key, tab] of tabs) {
      if (tab.expires <= now) tabs.delete(key);
      else counts.set(tab.clientId, (counts.get(tab.clientId) ?? 0) + 1);
    }
    if (tabs.size === 0) this.#sessions.delete(sessionId);
    return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([clientId, count]) => ({ clientId, tabs: count }));
  }

  #tabsOf(sessionId: string, create: boolean): Map<string, { clientId: string; expires: number }> | undefined {
    let tabs = this.#sessions.get(sessionId);
    if (tabs !== undefined || !create) return tabs;
    if (this.#sessions.size >= this.#maxSessions) {
      for (const id of [...this.#sessions.keys()]) this.list(id); // drop the expired
      if (this.#sessions.size >= this.#maxSessions) throw new SessionServerError('too-many-sessions', `presence is tracked for at most ${this.#maxSessions} sessions`);
    }
    tabs = new Map();
    this.#sessions.set(sessionId, tabs);
    return tabs;
  }
}

const MAX_ID = 200;

/** The beat in a request body, or a 400. */
export function parseBeat(text: string): PresenceBeat {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SessionServerError('invalid-json', 'a presence beat is a JSON object', { cause: error });
  }
  return parseBeatValue(value);
}

/** The beat in a parsed value (a POST body, a socket frame), or a 400. */
export function parseBeatValue(value: unknown): PresenceBeat {
  const beat = value as Partial<PresenceBeat> | null;
  const isId = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= MAX_ID;
  if (typeof beat !== 'object' || beat === null || !isId(beat.clientId) || !isId(beat.tabId) || (beat.leave !== undefined && typeof beat.leave !== 'boolean')) {
    throw new SessionServerError('bad-request', `a presence beat is { clientId, tabId, leave? } with ids of 1 to ${MAX_ID} characters`);
  }
  return { clientId: beat.clientId, tabId: beat.tabId, ...(beat.leave ? { leave: true } : {}) };
}
