import { SessionServerError } from '../errors';

/**
 * Read a request body, refusing (413) past `maxBytes` without buffering the rest.
 * A `Content-Length` over the limit is refused before reading anything.
 */
export async function readRequestBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > maxBytes) {
      await reader.cancel().catch(() => undefined); // the 413 is the answer; a failed cancel changes nothing
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

function tooLarge(maxBytes: number): SessionServerError {
  return new SessionServerError('payload-too-large', `the request body exceeds ${maxBytes} bytes`);
}
