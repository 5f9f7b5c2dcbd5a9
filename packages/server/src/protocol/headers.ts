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

/** What every response carries: nothing served may run script on this origin (see {@link commonHeaders}). */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "sandbox; default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'cross-origin',
};
const ANY_ORIGIN: Readonly<Record<string, string>> = { ...SECURITY_HEADERS, 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED_HEADERS };

/**
 * The headers every response carries: browser security headers and CORS. Streams may
 * have any content type (the protocol stores what clients give), so nothing served may run
 * script on this origin: `Content-Security-Policy: sandbox` makes a document opened from
 * here a unique opaque origin without scripts, `default-src 'none'` blocks what it would
 * load, and `nosniff` keeps browsers from guessing a more dangerous type.
 * `header` reads the request's headers (lower-case names).
 */
export function commonHeaders(header: (name: string) => string | null, cors: CorsOrigin, preflight: boolean): Readonly<Record<string, string>> {
  if (cors === '*' && !preflight) return ANY_ORIGIN;
  if (cors === false) return SECURITY_HEADERS;
  const origin = header('origin');
  let allow: string | undefined;
  if (cors === '*') allow = '*';
  else if (origin !== null && (typeof cors === 'function' ? cors(origin) : cors.includes(origin))) allow = origin;
  const headers: Record<string, string> = { ...SECURITY_HEADERS };
  if (cors !== '*') headers.vary = 'origin';
  if (allow === undefined) return headers;
  headers['access-control-allow-origin'] = allow;
  headers['access-control-expose-headers'] = EXPOSED_HEADERS;
  if (preflight) {
    headers['access-control-allow-methods'] = 'GET, HEAD, POST, PUT, DELETE, OPTIONS';
    headers['access-control-allow-headers'] = header('access-control-request-headers') ?? ALLOWED_REQUEST_HEADERS;
    headers['access-control-max-age'] = '600';
  }
  return headers;
}

/** Whether a presence header (`Stream-Closed`) is set: only the value `true`, case-insensitively. */
export function isTrue(value: string | null): boolean {
  return value !== null && value.trim().toLowerCase() === 'true';
}
