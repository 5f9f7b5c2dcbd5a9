import { DurableSessionError, type DurableSessionErrorCode } from './errors';
import { toError } from './util';

/**
 * Request headers, or a function giving them for each request (e.g. a fresh auth token).
 * @example
 * const headers: HeadersOption = async () => ({ Authorization: `Bearer ${await getToken()}` });
 */
export type HeadersOption = Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);

/** What one request sends besides its URL. */
export interface RequestSpec {
  method: string;
  body?: string;
  /** Added to the configured headers. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Let the request outlive the page (a goodbye sent on `pagehide`). */
  keepalive?: boolean;
}

/** The code of each non-2xx status that has one; any other is `http`. */
const CODE_OF_STATUS: Partial<Record<number, DurableSessionErrorCode>> = { 401: 'unauthorized', 403: 'unauthorized', 404: 'not-found', 409: 'conflict', 410: 'gone' };

/**
 * The code of a non-2xx status, for every transport (HTTP responses, WebSocket error frames):
 * `deleted` is the server's 404 for a session deleted for good.
 * @example
 * codeOfStatus(404, 'deleted'); // 'deleted'
 */
export const codeOfStatus = (status: number, bodyCode?: unknown): DurableSessionErrorCode =>
  status === 404 && bodyCode === 'deleted'
    ? 'deleted'
    : status === 409 && bodyCode === 'already-answered'
      ? 'already-answered'
      : (CODE_OF_STATUS[status] ?? 'http');

/**
 * The HTTP status → {@link DurableSessionError} mapping, in one place: `410` → `gone`,
 * `401`/`403` → `unauthorized`, `404` → `not-found` (or `deleted` when the JSON error body says
 * so), `409` → `conflict` (or `already-answered`), anything else → `http`. Reads (at most) the error body.
 * @example
 * if (!response.ok) throw await errorOfResponse(response, `GET ${url}`);
 */
export async function errorOfResponse(response: Response, what: string): Promise<DurableSessionError> {
  const { status } = response;
  let bodyCode: unknown;
  if ((status === 404 || status === 409) && response.headers.get('content-type')?.includes('json')) {
    // `{ "error": { "code": "deleted" | "already-answered", ... } }`: anything else (or unreadable) is a plain 404 / 409.
    bodyCode = await response.json().then((body: { error?: { code?: unknown } } | null) => body?.error?.code, () => undefined);
  } else void response.body?.cancel().catch(() => {}); // free the connection: the status is what matters
  return new DurableSessionError(codeOfStatus(status, bodyCode), `${what} answered ${status}`, { status });
}

/**
 * Send one request with the configured headers; a failure to get an answer becomes a
 * `network` (or `aborted`) error and a non-2xx answer the error of {@link errorOfResponse}.
 * @example
 * const response = await sendRequest(fetch, headers, url, { method: 'GET', signal });
 */
export async function sendRequest(fetcher: typeof fetch, headers: HeadersOption | undefined, target: string, spec: RequestSpec): Promise<Response> {
  const init: RequestInit = { ...spec, headers: { ...(typeof headers === 'function' ? await headers() : headers), ...spec.headers } };
  let response: Response;
  try {
    response = await fetcher(target, init);
  } catch (error) {
    throw toError(error, spec.signal);
  }
  if (response.ok) return response;
  throw await errorOfResponse(response, `${spec.method} ${target}`);
}
