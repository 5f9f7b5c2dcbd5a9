import { SessionServerError } from '../errors';

/**
 * Read a request body, refusing (413) past `maxBytes` without buffering the rest, and
 * (408 `request-timeout`) when it takes longer than `timeoutMs` to arrive (slowloris).
 * A `Content-Length` over the limit is refused before reading anything.
 */
export async function readRequestBody(request: Request, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    for (;;) {
      const step = await Promise.race([reader.read(), deadline]);
      if (step === 'timeout') throw new SessionServerError('request-timeout', `the request body did not arrive within ${timeoutMs} ms`);
      if (step.done) break;
      length += step.value.byteLength;
      if (length > maxBytes) throw tooLarge(maxBytes);
      chunks.push(step.value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined); // the error is the answer; a failed cancel changes nothing
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return concat(chunks, length);
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
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
