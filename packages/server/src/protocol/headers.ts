import { STREAM_HEADERS } from '@durable-session/core';

/** Header names of the Durable Streams protocol: core's one table, lower-case (as `Headers` reports them). */
export const H = Object.fromEntries(Object.entries(STREAM_HEADERS).map(([key, name]) => [key, name.toLowerCase()])) as {
  readonly [K in keyof typeof STREAM_HEADERS]: Lowercase<(typeof STREAM_HEADERS)[K]>;
};

/** Request headers a browser on another origin may send (CORS preflight). */
const ALLOWED_REQUEST_HEADERS = [
  'content-type',
  'authorization',
  'if-none-match',
  'last-event-id',
  H.seq,
  H.ttl,
  H.expiresAt,
  H.closed,
  H.forkedFrom,
  H.forkOffset,
  H.forkSubOffset,
  H.producerId,
  H.producerEpoch,
  H.producerSeq,
].join(', ');

/** Response headers a browser script on another origin may read. */
const EXPOSED_HEADERS = [
  H.nextOffset,
  H.upToDate,
  H.closed,
  H.cursor,
  H.ttl,
  H.expiresAt,
  H.sseEncoding,
  H.producerEpoch,
  H.producerSeq,
  H.producerExpectedSeq,
  H.producerReceivedSeq,
  'etag',
  'location',
  'content-type',
].join(', ');

/**
 * Which browser origins may call the server: `'*'` (default), a list of origins,
 * a predicate, or `false` to send no CORS headers.
 * @example
 * createSessionServer({ cors: ['https://app.example.com'] });
 */
export type CorsOrigin = '*' | readonly string[] | ((origin: string) => boolean) | false;

/**
 * Add the headers every response carries: browser security headers and CORS. Streams may
 * have any content type (the protocol stores what clients give), so nothing served may run
 * script on this origin: `Content-Security-Policy: sandbox` makes a document opened from
 * here a unique opaque origin without scripts, `default-src 'none'` blocks what it would
 * load, and `nosniff` keeps browsers from guessing a more dangerous type.
 */
export function addCommonHeaders(headers: Headers, request: Request, cors: CorsOrigin, preflight: boolean): void {
  headers.set('x-content-type-options', 'nosniff');
  headers.set('content-security-policy', "sandbox; default-src 'none'; frame-ancestors 'none'");
  headers.set('cross-origin-resource-policy', 'cross-origin');
  if (cors === false) return;
  const origin = request.headers.get('origin');
  let allow: string | undefined;
  if (cors === '*') allow = '*';
  else if (origin !== null && (typeof cors === 'function' ? cors(origin) : cors.includes(origin))) allow = origin;
  if (cors !== '*') headers.append('vary', 'origin');
  if (allow === undefined) return;
  headers.set('access-control-allow-origin', allow);
  headers.set('access-control-expose-headers', EXPOSED_HEADERS);
  if (preflight) {
    headers.set('access-control-allow-methods', 'GET, HEAD, POST, PUT, DELETE, OPTIONS');
    headers.set('access-control-allow-headers', request.headers.get('access-control-request-headers') ?? ALLOWED_REQUEST_HEADERS);
    headers.set('access-control-max-age', '600');
  }
}

/** Whether a presence header (`Stream-Closed`) is set: only the value `true`, case-insensitively. */
export function isTrue(value: string | null): boolean {
  return value !== null && value.trim().toLowerCase() === 'true';
}
