/**
 * The protocol's request and response, whatever carries them: node:http (`node.ts`, the fast
 * path `listen` uses) or the Web `Request`/`Response` (`web.ts`: Hono, Next.js, Bun, Deno).
 * Route handlers take a {@link ProtocolRequest} and return a {@link ProtocolResponse}, so the
 * protocol is written once and no transport pays for another's objects.
 */

/** A request as the protocol handlers see it. */
export interface ProtocolRequest {
  readonly method: string;
  /** The request URL (path and query; the host is the `Host` header's). */
  readonly url: URL;
  /** A header's value (`name` lower-case), or `null`. */
  header(name: string): string | null;
  /** Aborted when the client goes away (live reads end). */
  readonly signal: AbortSignal;
  /**
   * The whole body: 413 `payload-too-large` past `maxBytes` (nothing more is buffered),
   * 408 `request-timeout` when it takes longer than `timeoutMs` to arrive.
   */
  body(maxBytes: number, timeoutMs: number): Promise<Uint8Array>;
  /** The request as a Web `Request` (its body already read): what `authorize` is given. */
  web(): Request;
}

/**
 * A body written as it is produced (SSE): pulled one chunk at a time, so a slow reader holds
 * at most one chunk on the server.
 */
export interface LiveBody {
  /** The next chunk, or `undefined` at the end. Never rejects. */
  next(): Promise<string | undefined>;
  /** The client is gone or stalled: stop and release. Idempotent. */
  cancel(): void;
  /**
   * Aborted when the body should end even if nobody pulls (its maximum duration, the client
   * gone): a transport whose reader is not reading then cuts the response.
   */
  readonly ended: AbortSignal;
}

/** A response as the protocol handlers produce it. */
export interface ProtocolResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Uint8Array | string | LiveBody | null;
}

/** Whether a body is a {@link LiveBody}. */
export function isLive(body: ProtocolResponse['body']): body is LiveBody {
  return body !== null && typeof body === 'object' && 'next' in body;
}
