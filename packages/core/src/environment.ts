/**
 * The browser facts a session depends on, behind one small object: whether the browser is
 * online, the page events that matter (`online`, `offline`, `pagehide`), and whether IndexedDB
 * and tab coordination (Web Locks + BroadcastChannel) exist. Each is looked up when asked, so a
 * test can stub a global, or replace a method (`vi.spyOn(environment, 'online')`).
 */
export interface Environment {
  /** Whether the browser believes it is online (`true` where nobody knows: Node, workers). */
  online(): boolean;
  /** Listen to a page event; returns the function that stops listening. A no-op outside a browser. */
  listen(name: 'online' | 'offline' | 'pagehide', listener: () => void): () => void;
  /** Whether `indexedDB` exists. */
  indexedDB(): boolean;
  /** Whether tabs can coordinate: the Web Locks API and `BroadcastChannel`. */
  tabs(): boolean;
}

/** The one {@link Environment} the client reads. */
export const environment: Environment = {
  online: () => globalThis.navigator?.onLine !== false,
  listen(name, listener) {
    globalThis.addEventListener?.(name, listener);
    return () => globalThis.removeEventListener?.(name, listener);
  },
  indexedDB: () => typeof indexedDB !== 'undefined',
  tabs: () => !!globalThis.navigator?.locks && typeof BroadcastChannel === 'function',
};
