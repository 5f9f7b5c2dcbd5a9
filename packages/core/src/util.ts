import { DurableSessionError } from './errors';

/** A random id (UUID where `crypto.randomUUID` exists, e.g. not in insecure contexts). */
export const randomId = (): string =>
  globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2) + Date.now().toString(36);

/**
 * Whether offset `a` comes after offset `b` in log order. Offsets are opaque
 * strings that sort lexicographically; `-1` (the start) comes before every other.
 * @example
 * isAfterOffset('0000_0010', '0000_0009'); // true
 * isAfterOffset('0000_0001', '-1'); // true
 */
export const isAfterOffset = (a: string, b: string): boolean => a !== '-1' && (b === '-1' || a > b);

/** Turn anything thrown into a {@link DurableSessionError}: aborted, protocol (bad JSON) or network. */
export const toError = (e: unknown, signal?: AbortSignal): DurableSessionError =>
  DurableSessionError.isInstance(e)
    ? e
    : new DurableSessionError(
        signal?.aborted ? 'aborted' : e instanceof SyntaxError ? 'protocol' : 'network',
        e instanceof Error ? e.message : String(e),
        { cause: e },
      );
