import { parseSse } from './adapters/sse';
import { DurableSessionError } from './errors';
import type { Answer } from './fetch-answers';
import { environment } from './environment';
import { createBackoff, pause, retryDelay, type Backoff } from './retry';
import type { ReconnectOptions } from './types';
import { toError } from './util';

/** The fields of a session event a durable body looks at. */
export type LooseEvent = { type?: unknown; turnId?: unknown; text?: unknown; reason?: unknown; error?: unknown } | null;

/** What a durable body needs from its `durableFetch`. */
export interface BodyHost {
  /** GET a session URL; non-2xx answers throw typed errors. */
  get(url: string, signal?: AbortSignal): Promise<Response>;
  /** Write a `cancel` for the answer's turn (the caller's signal aborted). */
  cancel(answer: Answer): void;
  /** Forget the answer (it ended, failed or was stopped). */
  forget(answer: Answer): void;
  reconnect: ReconnectOptions;
  /** Failures in a row without progress that end the body. */
  maxAttempts: number;
}

const encoder = /* @__PURE__ */ new TextEncoder();

/** Where a resuming body is: the session offset it reads from and the bytes delivered after it. */
interface Position {
  from: string;
  delivered: number;
  failures: number;
}

/** How one SSE connection to the session ended: the answer ended (the body is finished), or not. */
type Outcome = 'ended' | 'continue';

/**
 * The body of a durable answer: `first` (the direct response body, or chunks already read),
 * then, after a drop, the turn's chunks read from the session from `from`, skipping the bytes
 * already delivered after `from`. Ends with the turn (`turn.end`; an `error` end fails it with
 * `http` 502); `signal` aborting writes a `cancel` and errors it with the abort reason.
 * @example
 * const body = durableBody(host, answer, answer.offset, response.body, signal);
 */
export function durableBody(
  host: BodyHost,
  answer: Answer,
  from: string,
  first: ReadableStream<Uint8Array> | Uint8Array[],
  signal: AbortSignal | undefined,
  release?: () => void,
): ReadableStream<Uint8Array> {
  const position: Position = { from, delivered: 0, failures: 0 };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stop = new AbortController();
  const onAbort = (): void => {
    if (stop.signal.aborted) return;
    host.cancel(answer);
    finish(signal!.reason, false);
  };
  const finish = (error: unknown, keep: boolean): void => {
    if (stop.signal.aborted) return;
    stop.abort();
    signal?.removeEventListener('abort', onAbort);
    if (!keep) host.forget(answer);
    try {
      if (error === undefined) controller.close();
      else controller.error(error);
    } catch {
      // the reader cancelled the body meanwhile: nobody to tell
    }
  };
  const push = (bytes: Uint8Array): void => {
    if (!stop.signal.aborted && bytes.byteLength > 0) controller.enqueue(bytes);
  };
  const run = async (): Promise<void> => {
    if (Array.isArray(first)) first.forEach(push);
    else if ((await relayDirect(first, position, push, stop.signal, release)) === 'ended') return finish(undefined, false);
    const backoff = createBackoff(host.reconnect);
    while (!stop.signal.aborted) {
      try {
        if ((await resumeOnce(host, answer, position, push, backoff, stop.signal, finish)) === 'ended') return;
      } catch (error) {
        if (stop.signal.aborted) return;
        const failure = toError(error);
        const offline = !environment.online();
        if (!failure.retryable || (!offline && ++position.failures >= host.maxAttempts)) return finish(failure, failure.retryable);
      }
      // Reconnect after a drop or when the server ended the SSE response; offline: when back online.
      await pause(retryDelay(backoff), stop.signal);
    }
  };
  const body = new ReadableStream<Uint8Array>({
    start: (started) => {
      controller = started;
    },
    cancel: () => {
      stop.abort(); // the reader is gone (it is not a stop): the answer stays re-attachable
      signal?.removeEventListener('abort', onAbort);
    },
  });
  if (signal?.aborted) onAbort();
  else {
    signal?.addEventListener('abort', onAbort, { once: true });
    void run().catch((error: unknown) => finish(toError(error), false));
  }
  return body;
}

/** Relay the direct response body: `ended` when it ended normally, `dropped` when the connection failed. */
async function relayDirect(
  first: ReadableStream<Uint8Array>,
  position: Position,
  push: (bytes: Uint8Array) => void,
  stop: AbortSignal,
  release: (() => void) | undefined,
): Promise<'ended' | 'dropped'> {
  const reader = first.getReader();
  stop.addEventListener('abort', () => {
    release?.(); // abort the request itself: some fetch implementations mishandle a bare cancel
    void reader.cancel().catch(() => {});
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return 'ended';
      position.delivered += value.byteLength;
      push(value);
    }
  } catch {
    return 'dropped'; // resume from the session
  }
}

/** Read the session once (`live=sse`) from `position.from`, pushing the turn's bytes not delivered yet. */
async function resumeOnce(
  host: BodyHost,
  answer: Answer,
  position: Position,
  push: (bytes: Uint8Array) => void,
  backoff: Backoff,
  stop: AbortSignal,
  finish: (error: unknown, keep: boolean) => void,
): Promise<Outcome> {
  let seen = 0; // bytes of the turn's chunks read after `position.from` on this connection
  let progressed = false;
  const response = await host.get(`${answer.streamUrl}?offset=${encodeURIComponent(position.from)}&live=sse`, stop);
  if (!response.body) throw new DurableSessionError('protocol', 'expected text/event-stream');
  for await (const { event, data } of parseSse(response.body)) {
    if (event === 'data') {
      const batch: unknown = JSON.parse(data);
      if (!Array.isArray(batch)) throw new DurableSessionError('protocol', 'expected a JSON array of events');
      for (const entry of batch as LooseEvent[]) {
        if (entry?.turnId !== answer.turnId) continue;
        if (entry.type === 'fetch.chunk' && typeof entry.text === 'string') {
          const bytes = encoder.encode(entry.text);
          seen += bytes.byteLength;
          if (seen > position.delivered) push(bytes.subarray(bytes.byteLength - (seen - position.delivered)));
          position.delivered = Math.max(position.delivered, seen);
        } else if (entry.type === 'turn.end') {
          const failed = entry.reason === 'error' && new DurableSessionError('http', `the answer failed: ${String(entry.error ?? 'error')}`, { status: 502 });
          finish(failed || undefined, false);
          return 'ended';
        }
      }
    } else if (event === 'control') {
      const control = JSON.parse(data) as { streamNextOffset?: unknown; streamClosed?: unknown };
      if (typeof control.streamNextOffset !== 'string') throw new DurableSessionError('protocol', 'control event without streamNextOffset');
      position.from = control.streamNextOffset;
      progressed = true;
      position.delivered -= seen;
      seen = 0;
      position.failures = 0;
      backoff.reset();
      if (control.streamClosed === true) throw new DurableSessionError('protocol', `session ${answer.sessionId} was closed before the answer ended`);
    }
  }
  // The server ends SSE responses now and then: fine after progress, a failure without.
  if (!progressed) throw new DurableSessionError('network', 'the session read ended without progress');
  return 'continue';
}
