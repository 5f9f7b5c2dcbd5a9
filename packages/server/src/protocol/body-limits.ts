import { SessionServerError } from '../errors';

// What every transport's body reading shares: the limits' errors and joining what was read.

/** Refuse (413) a declared `Content-Length` over `maxBytes` before reading anything. */
export function checkDeclaredLength(declared: string | null | undefined, maxBytes: number): void {
  if (declared !== null && declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
}

/** One buffer of `chunks` (the chunk itself when there is one). */
export function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** 413 `payload-too-large`. */
export function tooLarge(maxBytes: number): SessionServerError {
  return new SessionServerError('payload-too-large', `the request body exceeds ${maxBytes} bytes`);
}

/** 408 `request-timeout`. */
export function bodyTimeout(timeoutMs: number): SessionServerError {
  return new SessionServerError('request-timeout', `the request body did not arrive within ${timeoutMs} ms`);
}
