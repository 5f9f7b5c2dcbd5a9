import { SessionServerError } from '../errors';
import { bodyTimeout, checkDeclaredLength, concat, tooLarge } from './body-limits';
import { isLive, type LiveBody, type ProtocolRequest, type ProtocolResponse } from './exchange';

/**
 * A Web `Request` as a {@link ProtocolRequest}: what the Web-standard `handler` serves
 * (Hono, Next.js route handlers, Bun, Deno) and what the WebSocket endpoint hands its frames.
 */
export function fromWebRequest(request: Request): ProtocolRequest {
  let url: URL | undefined;
  return {
    method: request.method,
    get url() {
      url ??= new URL(request.url);
      return url;
    },
    header: (name) => request.headers.get(name),
    signal: request.signal,
    body: (maxBytes, timeoutMs) => readWebBody(request, maxBytes, timeoutMs),
    web: () => request,
  };
}

/** A {@link ProtocolResponse} as a Web `Response` (a live body becomes a pull-driven stream). */
export function toWebResponse(response: ProtocolResponse): Response {
  const { body } = response;
  const init = { status: response.status, headers: response.headers };
  return new Response(isLive(body) ? liveStream(body) : (body as BodyInit | null), init);
}

const encoder = new TextEncoder();

/**
 * Driven by `pull`: the next chunk is produced only once the reader took what came before. A
 * reader waiting for more gets a clean end when the body ends; one that stopped reading when
 * the body must end (its maximum duration) gets its response errored, so the connection is
 * released (it resumes from its last offset).
 */
function liveStream(body: LiveBody): ReadableStream<Uint8Array> {
  let pulling = false;
  let finished = false;
  let out: ReadableStreamDefaultController<Uint8Array> | undefined;
  const stop = (): void => {
    finished = true;
    body.cancel();
  };
  body.ended.addEventListener('abort', () => {
    if (pulling || finished) return;
    stop();
    out?.error(new SessionServerError('request-timeout', 'the live read ended while its reader was not reading'));
  });
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        out = controller;
      },
      async pull(controller) {
        pulling = true;
        const chunk = await body.next();
        pulling = false;
        if (finished) return; // cancelled meanwhile: the stream is gone
        if (chunk !== undefined) return controller.enqueue(encoder.encode(chunk));
        finished = true;
        controller.close();
      },
      cancel: stop,
    },
    { highWaterMark: 1 },
  );
}

/**
 * Read a request body, refusing (413) past `maxBytes` without buffering the rest, and
 * (408 `request-timeout`) when it takes longer than `timeoutMs` to arrive (slowloris).
 * A `Content-Length` over the limit is refused before reading anything.
 */
async function readWebBody(request: Request, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  checkDeclaredLength(request.headers.get('content-length'), maxBytes);
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
      if (step === 'timeout') throw bodyTimeout(timeoutMs);
      if (step.done) break;
      length += step.value.byteLength;
      if (length > maxBytes) throw tooLarge(maxBytes);
      chunks.push(step.value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined); // the error is the answer; a failed cancel changes nothing
    if (SessionServerError.isInstance(error)) throw error;
    // A body that broke off (the client went away) is no server failure to report.
    throw new SessionServerError('bad-request', 'the request body broke off before it arrived', { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return concat(chunks, length);
}
