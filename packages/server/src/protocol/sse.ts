import { linkedAbort } from '../abort';
import { isTextual, modeOf, type StreamMode } from '../content-type';
import { NOW } from '../offsets';
import type { ReadOutcome, StoredEntry } from '../store';
import { readOrThrow, requireStream, type HandlerConfig } from './config';
import { nextCursor } from './cursor';
import { H } from './headers';
import { concatBytes, utf8 } from './responses';

type OkRead = Extract<ReadOutcome, { status: 'ok' }>;
type Encoding = 'json' | 'text' | 'base64';

/**
 * GET `live=sse`: catch up from `offset`, then stream every new batch as an `event: data`
 * followed by an `event: control` (offset, cursor, `upToDate`, `streamClosed`). Ends after
 * the closing control event, when the client goes away, or after `sseMaxDurationMs`
 * (the client reconnects from the last offset). Comment lines keep idle connections alive.
 */
export async function handleSse(request: Request, id: string, offset: string, config: HandlerConfig): Promise<Response> {
  const clientCursor = new URL(request.url).searchParams.get('cursor');
  // The first read happens before the response so that 404/410/400 are real statuses.
  const from = offset === NOW ? (await requireStream(config, id, true)).tail : offset;
  const first = await readOrThrow(config, id, { from, maxBytes: config.maxReadBytes, touch: true });
  const contentType = first.stream.contentType;
  const mode: StreamMode = modeOf(contentType);
  const encoding: Encoding = mode === 'json' ? 'json' : isTextual(contentType) ? 'text' : 'base64';

  const stop = new AbortController();
  const lifetime = linkedAbort([request.signal, stop.signal], config.sseMaxDurationMs);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string): void => {
        if (!stop.signal.aborted) controller.enqueue(utf8(text));
      };
      void pump(first, send, { id, config, encoding, clientCursor, signal: lifetime.signal })
        .catch((error: unknown) => config.onError(error))
        .finally(() => {
          lifetime.dispose();
          try {
            controller.close();
          } catch {
            // already closed because the client cancelled the stream; nothing left to end
          }
        });
    },
    cancel() {
      stop.abort();
    },
  });

  const headers: Record<string, string> = {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  };
  if (encoding === 'base64') headers[H.sseEncoding] = 'base64';
  return new Response(body, { status: 200, headers });
}

interface PumpContext {
  id: string;
  config: HandlerConfig;
  encoding: Encoding;
  clientCursor: string | null;
  signal: AbortSignal;
}

async function pump(first: OkRead, send: (text: string) => void, ctx: PumpContext): Promise<void> {
  const { id, config, signal } = ctx;
  let read = first;
  let announced = false;
  for (;;) {
    if (signal.aborted) return;
    if (read.entries.length > 0) send(dataEvent(read.entries, ctx.encoding));
    if (read.entries.length > 0 || !announced || read.closed) {
      send(controlEvent(read, ctx.clientCursor));
      announced = true;
    }
    if (read.closed) return;
    const from = read.next;
    if (!read.upToDate) {
      const more = await config.store.read(id, { from, maxBytes: config.maxReadBytes });
      if (more.status !== 'ok') return;
      read = more;
      continue;
    }
    const woke = await waitWithKeepAlive(id, from, config, signal, send);
    if (!woke) return;
    const next = await config.store.read(id, { from, maxBytes: config.maxReadBytes });
    if (next.status !== 'ok') return;
    read = next;
  }
}

/** Wait for a change after `from`, sending a comment line every `sseKeepAliveMs`. `false`: stop streaming. */
async function waitWithKeepAlive(id: string, from: string, config: HandlerConfig, signal: AbortSignal, send: (text: string) => void): Promise<boolean> {
  for (;;) {
    const wait = linkedAbort([signal], config.sseKeepAliveMs);
    try {
      const outcome = await config.store.wait(id, from, wait.signal);
      if (outcome === 'changed') return true;
      if (outcome === 'not-found' || signal.aborted || !wait.timedOut()) return false;
      send(': keep-alive\n\n');
    } finally {
      wait.dispose();
    }
  }
}

function dataEvent(entries: readonly StoredEntry[], encoding: Encoding): string {
  const lines: string[] = [];
  if (encoding === 'json') {
    const decoder = new TextDecoder();
    lines.push('[');
    entries.forEach((entry, i) => lines.push(decoder.decode(entry.data) + (i < entries.length - 1 ? ',' : '')));
    lines.push(']');
  } else {
    const bytes = concatBytes(entries.map((e) => e.data));
    if (encoding === 'base64') lines.push(base64(bytes));
    else lines.push(...new TextDecoder().decode(bytes).split(/\r\n|\r|\n/));
  }
  // A line starting with a space gets an extra one: SSE parsers strip exactly one after "data:".
  return `event: data\n${lines.map((line) => (line.startsWith(' ') ? `data: ${line}` : `data:${line}`)).join('\n')}\n\n`;
}

/** Standard base64 (RFC 4648) with the Web platform's `btoa`, so edge runtimes work too. */
function base64(bytes: Uint8Array): string {
  let out = '';
  const step = 3 * 8192; // a multiple of 3: chunks encode without padding in between
  for (let i = 0; i < bytes.byteLength; i += step) {
    out += btoa(String.fromCharCode(...bytes.subarray(i, i + step)));
  }
  return out;
}

function controlEvent(read: OkRead, clientCursor: string | null): string {
  const control: Record<string, unknown> = { streamNextOffset: read.next };
  if (read.closed) {
    control.streamClosed = true;
    control.upToDate = true;
  } else {
    control.streamCursor = nextCursor(clientCursor);
    if (read.upToDate) control.upToDate = true;
  }
  return `event: control\ndata:${JSON.stringify(control)}\n\n`;
}
