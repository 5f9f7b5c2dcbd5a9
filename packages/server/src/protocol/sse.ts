import { linkedAbort } from '../abort';
import { SessionServerError } from '../errors';
import { isTextual, modeOf, type StreamMode } from '../content-type';
import type { ReadOutcome, StoredEntry } from '../store';
import { openRead, type HandlerConfig } from './config';
import { nextCursor } from './cursor';
import { H } from './headers';
import { concatBytes } from './responses';
import type { LiveBody, ProtocolRequest, ProtocolResponse } from './exchange';

type OkRead = Extract<ReadOutcome, { status: 'ok' }>;
/** How an SSE data event carries a stream's data. */
export type Encoding = 'json' | 'text' | 'base64';

/**
 * GET `live=sse`: catch up from `offset`, then stream every new batch as an `event: data`
 * followed by an `event: control` (offset, cursor, `upToDate`, `streamClosed`). Ends after
 * the closing control event, when the client goes away, or after `sseMaxDurationMs`
 * (the client reconnects from the last offset). Comment lines keep idle connections alive.
 */
export async function handleSse(request: ProtocolRequest, id: string, offset: string, config: HandlerConfig): Promise<ProtocolResponse> {
  const release = acquireLiveReader(config, id);
  try {
    return await openSse(request, id, offset, config, release);
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * Count a live read of session `id` on this node (429 `too-many-readers` past the limit);
 * call the returned function once when it ends.
 */
export function acquireLiveReader(config: HandlerConfig, id: string): () => void {
  const open = config.liveReaders.get(id) ?? 0;
  if (open >= config.maxLiveReadersPerSession) {
    throw new SessionServerError('too-many-readers', `session ${id} already has ${open} live readers on this server`);
  }
  config.liveReaders.set(id, open + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (config.liveReaders.get(id) ?? 1) - 1;
    if (left <= 0) config.liveReaders.delete(id);
    else config.liveReaders.set(id, left);
  };
}

async function openSse(request: ProtocolRequest, id: string, offset: string, config: HandlerConfig, release: () => void): Promise<ProtocolResponse> {
  const clientCursor = request.url.searchParams.get('cursor');
  // The first read happens before the response so that 404/410/400 are real statuses.
  const first = await openRead(config, id, offset, sseEventBytes(config));
  const contentType = first.stream.contentType;
  const mode: StreamMode = modeOf(contentType);
  const encoding: Encoding = mode === 'json' ? 'json' : isTextual(contentType) ? 'text' : 'base64';
  const stop = new AbortController();
  const lifetime = linkedAbort([request.signal, stop.signal], config.sseMaxDurationMs);
  const events = sseEvents(first, { id, config, encoding, clientCursor, signal: lifetime.signal });
  const headers: Record<string, string> = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };
  if (encoding === 'base64') headers[H.sseEncoding] = 'base64';
  return { status: 200, headers, body: liveBody(events, lifetime, stop, release, config) };
}

/** The SSE text as a {@link LiveBody}: pulled chunk by chunk; ended by its lifetime or by `cancel`. */
function liveBody(
  events: AsyncGenerator<string, void, undefined>,
  lifetime: ReturnType<typeof linkedAbort>,
  stop: AbortController,
  release: () => void,
  config: HandlerConfig,
): LiveBody {
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    lifetime.dispose();
    release();
    // Runs the generator's cleanup once a step in progress (woken by the abort) returns.
    events.return(undefined).catch((error: unknown) => config.onError(error));
  };
  return {
    ended: lifetime.signal,
    async next() {
      if (finished) return undefined;
      let step: IteratorResult<string>;
      try {
        step = await events.next();
      } catch (error) {
        config.onError(error);
        step = { done: true, value: undefined };
      }
      if (step.done === true || finished) {
        finish();
        return undefined;
      }
      return step.value;
    },
    cancel() {
      stop.abort();
      finish();
    },
  };
}

/**
 * The data of one SSE event: at most 64 KiB (or `maxReadBytes` if smaller). What a reader that
 * stopped reading holds on the server is about one event, so a few hundred of them stay small.
 */
function sseEventBytes(config: HandlerConfig): number {
  return Math.min(config.maxReadBytes, 64 * 1024);
}

interface PumpContext {
  id: string;
  config: HandlerConfig;
  encoding: Encoding;
  clientCursor: string | null;
  signal: AbortSignal;
}

/**
 * The SSE text to send, one chunk per store read (its data event and control event), plus
 * keep-alive comments while waiting. Nothing is read until the previous chunk was taken.
 */
async function* sseEvents(first: OkRead, ctx: PumpContext): AsyncGenerator<string, void, undefined> {
  const { id, config, signal } = ctx;
  const keepAlive = keepAliveTicks(config.sseKeepAliveMs);
  let read = first;
  let announced = false;
  try {
    for (;;) {
      if (signal.aborted) return;
      let chunk = '';
      if (read.entries.length > 0) chunk += config.recentDataEvents.text(id, read, ctx.encoding);
      if (read.entries.length > 0 || !announced || read.closed) {
        chunk += controlEvent(read, ctx.clientCursor);
        announced = true;
      }
      if (chunk !== '') yield chunk;
      if (read.closed || signal.aborted) return;
      const from = read.next;
      if (read.upToDate) {
        // One wait per change, raced with the keep-alive ticks (a timer and a signal per wait cost more than the write).
        const change = config.store.wait(id, from, signal);
        for (;;) {
          const woke = await Promise.race([change, keepAlive.tick()]);
          if (woke === 'changed') break;
          if (woke !== KEEP_ALIVE) return; // aborted, or the stream is gone
          yield ': keep-alive\n\n';
        }
      }
      const next = await config.store.read(id, { from, maxBytes: sseEventBytes(config), limit: config.maxReadEntries });
      if (next.status !== 'ok') return;
      read = next;
    }
  } finally {
    keepAlive.stop();
  }
}

const KEEP_ALIVE = Symbol('keep-alive');

/** A tick every `ms`: `tick()` is the next one (a tick nobody waited for is dropped). */
function keepAliveTicks(ms: number): { tick(): Promise<typeof KEEP_ALIVE>; stop(): void } {
  let fire = (): void => undefined;
  let next = new Promise<typeof KEEP_ALIVE>((resolve) => (fire = () => resolve(KEEP_ALIVE)));
  const timer = setInterval(() => {
    fire();
    next = new Promise((resolve) => (fire = () => resolve(KEEP_ALIVE)));
  }, ms);
  return { tick: () => next, stop: () => clearInterval(timer) };
}

/**
 * The data event text of recent reads, shared by the live readers of a session on this node:
 * woken by the same append, they read the same batch, so it is decoded and framed once.
 */
export class RecentDataEvents {
  readonly #texts = new Map<string, string>();

  constructor(private readonly max = 64) {}

  /** The `event: data` text of `read`'s entries. */
  text(id: string, read: OkRead, encoding: Encoding): string {
    const key = `${encoding} ${read.entries[0]?.offset ?? ''} ${read.next} ${id}`;
    let text = this.#texts.get(key);
    if (text === undefined) {
      text = dataEvent(read.entries, encoding);
      if (this.#texts.size >= this.max) this.#texts.delete(this.#texts.keys().next().value as string);
      this.#texts.set(key, text);
    }
    return text;
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
  const next = JSON.stringify(read.next);
  if (read.closed) return `event: control\ndata:{"streamNextOffset":${next},"streamClosed":true,"upToDate":true}\n\n`;
  return `event: control\ndata:{"streamNextOffset":${next},"streamCursor":"${nextCursor(clientCursor)}"${read.upToDate ? ',"upToDate":true' : ''}}\n\n`;
}
