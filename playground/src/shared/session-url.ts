/** The session lives in the URL (`?session=<id>`): a link opens the same session in another tab, browser or device. */

/** The three pages of the playground, one per UI binding. */
export const PAGES = [
  { id: 'react', label: 'React', path: '/' },
  { id: 'vue', label: 'Vue', path: '/vue.html' },
  { id: 'svelte', label: 'Svelte', path: '/svelte.html' },
] as const;

/** One of {@link PAGES}' ids. */
export type PageId = (typeof PAGES)[number]['id'];

const VALID_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** A new session id (a UUID where `crypto.randomUUID` exists, i.e. in secure contexts). */
export function newSessionId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/**
 * The session id of this page: `?session=` when it is a valid id, else a new one written
 * into the URL (without a new history entry), so that reloading or sharing keeps it.
 */
export function sessionIdFromUrl(): string {
  const url = new URL(window.location.href);
  const given = url.searchParams.get('session');
  if (given !== null && VALID_ID.test(given)) return given;
  const id = newSessionId();
  url.searchParams.set('session', id);
  window.history.replaceState(window.history.state, '', url);
  return id;
}

/** How the page reaches the server (`?transport=`): SSE (the default), long-polling, or one WebSocket. */
export const TRANSPORTS = [
  { id: 'sse', label: 'SSE' },
  { id: 'long-poll', label: 'Long-poll' },
  { id: 'websocket', label: 'WebSocket' },
] as const;

/** One of {@link TRANSPORTS}' ids. */
export type TransportId = (typeof TRANSPORTS)[number]['id'];

/** The transport of this page: `?transport=` when it is a known one, else SSE. */
export function transportFromUrl(): TransportId {
  const given = new URL(window.location.href).searchParams.get('transport');
  return TRANSPORTS.find((t) => t.id === given)?.id ?? 'sse';
}

/** The URL of a page of the playground showing `sessionId` (same origin), over `transport` (default: this page's). */
export function pageUrl(path: string, sessionId: string, transport: TransportId = transportFromUrl()): string {
  return `${path}?session=${encodeURIComponent(sessionId)}${transport === 'sse' ? '' : `&transport=${transport}`}`;
}

/** The absolute link to this page and session, to open it elsewhere. */
export function shareUrl(sessionId: string): string {
  return new URL(pageUrl(window.location.pathname, sessionId), window.location.origin).href;
}
