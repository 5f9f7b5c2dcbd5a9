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
export const isAfterOffset = (offset: string, than: string): boolean => offset !== '-1' && (than === '-1' || offset > than);

/** Turn anything thrown into a {@link DurableSessionError}: aborted, protocol (bad JSON) or network. */
export const toError = (thrown: unknown, signal?: AbortSignal): DurableSessionError =>
  DurableSessionError.isInstance(thrown)
    ? thrown
    : new DurableSessionError(
        signal?.aborted ? 'aborted' : thrown instanceof SyntaxError ? 'protocol' : 'network',
        thrown instanceof Error ? thrown.message : String(thrown),
        { cause: thrown },
      );

/**
 * A signal that aborts with any of `parents`, or with a `network` error when `ms` pass without a
 * `restart()` (a watchdog: each sign of life restarts it; no `ms`, no timer). `stop()` disarms it
 * and lets go of the parents.
 * @example
 * const watch = watchdog([signal], 30_000);
 * try { await fetch(url, { signal: watch.signal }); } finally { watch.stop(); }
 */
export function watchdog(parents: (AbortSignal | undefined)[], ms?: number): { signal: AbortSignal; restart(): void; stop(): void } {
  const controller = new AbortController();
  const abort = (reason: unknown): void => controller.abort(reason);
  const follow = function (this: AbortSignal): void {
    abort(this.reason);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The error is made when the timer fires: a stack captured at every restart (each SSE chunk) costs.
  const expire = (): void => abort(new DurableSessionError('network', `silent ${ms} ms`));
  const restart = (): void => {
    clearTimeout(timer);
    if (ms !== undefined) timer = setTimeout(expire, ms);
  };
  for (const parent of parents) {
    if (parent?.aborted) abort(parent.reason);
    else parent?.addEventListener('abort', follow);
  }
  restart();
  return {
    signal: controller.signal,
    restart,
    stop() {
      clearTimeout(timer);
      for (const parent of parents) parent?.removeEventListener('abort', follow);
    },
  };
}

/**
 * Run application code (a subscriber, an `on(...)` listener) so that what it throws cannot break
 * the session: like an `EventTarget` listener, the exception is reported to the host
 * (`window.onerror` / `error` event, `uncaughtException` in Node) and the other callbacks still run.
 * @example
 * emitter.on('change', isolate(callback));
 */
export const isolate =
  <A extends unknown[]>(callback: (...args: A) => void) =>
  (...args: A): void => {
    try {
      callback(...args);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  };
