import { DurableSessionError } from './errors';
import { randomId } from './util';

/**
 * The `localStorage` key keeping the default client id.
 * @example
 * localStorage.removeItem(CLIENT_ID_KEY); // the next session gets a new client id
 */
export const CLIENT_ID_KEY = 'durable-session:client-id';

/** A random client id, kept in `localStorage` when it works (else a `persistence` warning, after creation). */
export function defaultClientId(warn: (error: DurableSessionError) => void): string {
  try {
    const storage = globalThis.localStorage;
    const id = storage?.getItem(CLIENT_ID_KEY) || randomId();
    storage?.setItem(CLIENT_ID_KEY, id);
    return id;
  } catch (error) {
    // Emitted after creation, once the caller could listen.
    queueMicrotask(() => warn(new DurableSessionError('persistence', 'localStorage failed', { cause: error })));
    return randomId();
  }
}
