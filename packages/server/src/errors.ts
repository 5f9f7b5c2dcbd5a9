import { hasMarker } from '@durable-session/core';

/**
 * What went wrong on the server side, as a stable string. Each code maps to one
 * HTTP status (see {@link statusOfCode}); codes without an HTTP meaning map to 500.
 * The agent API uses `closed` (host shut down), `turn-ended` (write after end),
 * `cancelled` (the reason of an aborted turn signal) and `timeout` (a question nobody answered
 * in time); `already-answered` refuses a second answer to a question.
 * @example
 * if (SessionServerError.isInstance(error) && error.code === 'turn-ended') return;
 */
export type SessionServerErrorCode =
  | 'bad-request'
  | 'invalid-json'
  | 'invalid-event'
  | 'invalid-offset'
  | 'empty-body'
  | 'unauthorized'
  | 'forbidden'
  | 'producer-stale-epoch'
  | 'not-found'
  | 'deleted'
  | 'method-not-allowed'
  | 'request-timeout'
  | 'conflict'
  | 'content-type-mismatch'
  | 'stream-closed'
  | 'sequence-conflict'
  | 'producer-seq-gap'
  | 'already-answered'
  | 'gone'
  | 'payload-too-large'
  | 'too-many-events'
  | 'session-full'
  | 'too-many-sessions'
  | 'store-full'
  | 'too-many-readers'
  | 'internal'
  | 'closed'
  | 'turn-ended'
  | 'timeout'
  | 'cancelled';

const STATUS: Record<SessionServerErrorCode, number> = {
  'bad-request': 400,
  'invalid-json': 400,
  'invalid-event': 400,
  'invalid-offset': 400,
  'empty-body': 400,
  unauthorized: 401,
  forbidden: 403,
  'producer-stale-epoch': 403,
  'not-found': 404,
  deleted: 404,
  'method-not-allowed': 405,
  'request-timeout': 408,
  conflict: 409,
  'content-type-mismatch': 409,
  'stream-closed': 409,
  'sequence-conflict': 409,
  'producer-seq-gap': 409,
  'already-answered': 409,
  gone: 410,
  'payload-too-large': 413,
  'too-many-events': 413,
  'session-full': 413,
  'too-many-sessions': 429,
  'store-full': 429,
  'too-many-readers': 429,
  internal: 500,
  closed: 500,
  'turn-ended': 500,
  timeout: 500,
  cancelled: 500,
};

/**
 * The HTTP status a {@link SessionServerErrorCode} is answered with.
 * @example
 * statusOfCode('not-found'); // 404
 */
export function statusOfCode(code: SessionServerErrorCode): number {
  return STATUS[code];
}

/** Marks a {@link SessionServerError} of any copy of this package (ESM and CJS builds, two versions). */
const MARKER = Symbol.for('durable-session-server.error');

/**
 * The one error class of `@durable-session/server`. Check `code`, not the message, and recognise
 * it with {@link SessionServerError.isInstance}, which (unlike `instanceof`) also holds for an
 * error of another copy of this package (an `authorize` hook bundled with its own copy).
 * Thrown by `authorize` hooks to refuse a request (`unauthorized` → 401, `forbidden` → 403),
 * and by the agent API (`turn-ended`, `closed`, `not-found`, …).
 * @example
 * createSessionServer({
 *   authorize(request) {
 *     if (!request.headers.get('authorization')) throw new SessionServerError('unauthorized', 'missing token');
 *   },
 * });
 */
export class SessionServerError extends Error {
  /**
   * Whether `value` is a `SessionServerError` of any copy of this package.
   * @example
   * if (SessionServerError.isInstance(error) && error.code === 'cancelled') return;
   */
  static readonly isInstance = (value: unknown): value is SessionServerError => hasMarker(value, MARKER);

  override readonly name = 'SessionServerError';
  readonly [MARKER] = true;
  /** The HTTP status this error is answered with. */
  readonly status: number;

  constructor(
    readonly code: SessionServerErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = STATUS[code];
  }
}
