/**
 * What went wrong, as a stable string an application can switch on.
 * - `bad-input`: the caller passed something invalid (empty text, unknown turn).
 * - `gone`: the store no longer holds the requested offset (HTTP 410).
 * - `not-found`: the session does not exist (HTTP 404).
 * - `deleted`: the session was deleted for good (HTTP 404 with error code `deleted`): the client
 *   stops reading and never re-creates it.
 * - `unauthorized`: the server refused the request (HTTP 401/403).
 * - `conflict`: the session is closed or the append conflicts (HTTP 409).
 * - `already-answered`: the question was answered by someone else first, or it closed (HTTP 409
 *   with error code `already-answered`).
 * - `http`: any other unexpected HTTP status.
 * - `network`: the request never got an answer (connection refused, cut, timeout).
 * - `protocol`: the server answered something this client cannot parse.
 * - `persistence`: IndexedDB failed; the session fell back to memory.
 * - `closed`: the session object was closed.
 * - `aborted`: the operation was aborted by the caller.
 * @example
 * const code: DurableSessionErrorCode = 'gone';
 */
export type DurableSessionErrorCode =
  | 'bad-input'
  | 'gone'
  | 'not-found'
  | 'deleted'
  | 'unauthorized'
  | 'conflict'
  | 'already-answered'
  | 'http'
  | 'network'
  | 'protocol'
  | 'persistence'
  | 'closed'
  | 'aborted';

/** Marks a {@link DurableSessionError} of any copy of this package (ESM and CJS builds, two versions). */
const MARKER = Symbol.for('durable-session.error');

/**
 * Whether `value` is an object carrying `marker` (a `Symbol.for` key): how an error class is
 * recognised across copies of its package, where `instanceof` fails.
 * @example
 * const isMine = (value: unknown) => hasMarker(value, Symbol.for('my-package.error'));
 */
export const hasMarker = (value: unknown, marker: symbol): boolean => typeof value === 'object' && value !== null && marker in value;

/**
 * The one error class the client throws or reports. Check `code`, not the message, and
 * recognise it with {@link DurableSessionError.isInstance}: unlike `instanceof`, it also holds
 * for an error thrown by another copy of this package (an adapter built against the CJS build).
 * @example
 * try { await session.send(''); } catch (e) {
 *   if (DurableSessionError.isInstance(e) && e.code === 'bad-input') showHint();
 * }
 */
export class DurableSessionError extends Error {
  /**
   * Whether `value` is a `DurableSessionError` of any copy of this package.
   * @example
   * if (DurableSessionError.isInstance(error) && error.code === 'gone') rebuild();
   */
  static isInstance(value: unknown): value is DurableSessionError {
    return hasMarker(value, MARKER);
  }

  readonly [MARKER] = true;
  override readonly name = 'DurableSessionError';
  readonly code: DurableSessionErrorCode;
  /** The HTTP status, when the error came from an HTTP answer. */
  readonly status: number | undefined;

  constructor(code: DurableSessionErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }

  /** Whether retrying the same operation later may succeed. */
  get retryable(): boolean {
    return this.code === 'network' || (this.code === 'http' && (this.status === undefined || this.status >= 500 || this.status === 429));
  }
}
