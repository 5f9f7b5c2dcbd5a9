import { DurableSessionError } from '../errors';

/**
 * One Server-Sent Event: its `event` name (`message` when absent) and its `data`
 * lines joined with `\n`.
 * @example
 * const e: SseEvent = { event: 'control', data: '{"streamNextOffset":"42"}' };
 */
export interface SseEvent {
  event: string;
  data: string;
}

/** Options of {@link parseSse}. */
export interface SseOptions {
  maxEventLength?: number;
  onBytes?: () => void;
}

/**
 * Parse a `text/event-stream` body (as read by `fetch`) into events, per the
 * WHATWG rules: `\n`, `\r\n` or `\r` line ends, `:` comments, one optional space
 * after the colon, events without data skipped. Cancels the body when the
 * consumer stops early. An event (pending line plus data lines) longer than
 * `maxEventLength` characters (default 8 Mi) fails with `protocol`; `onBytes` is called on every
 * chunk read (a sign of life, keep-alive comments included).
 * @example
 * const res = await fetch(url);
 * for await (const { event, data } of parseSse(res.body!)) console.log(event, data);
 */
export async function* parseSse(body: ReadableStream<Uint8Array>, options: SseOptions = {}): AsyncGenerator<SseEvent, void, undefined> {
  const { maxEventLength = 1 << 23, onBytes } = options;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      onBytes?.();
      buffer += done ? decoder.decode() + '\n' : decoder.decode(value, { stream: true });
      // A trailing `\r` may be the first half of `\r\n`: keep it for the next chunk.
      const lines = buffer.split(/\r\n|\n|\r(?!$)/);
      buffer = lines.pop()!;
      for (const line of lines) {
        if (!line) {
          if (data.length) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          size = 0;
          continue;
        }
        const colon = line.indexOf(':');
        if (!colon) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
        if (field === 'event') event = value;
        else if (field === 'data') {
          data.push(value);
          size += value.length;
        }
      }
      // A line without end, or an event without a blank line, must not grow without bound.
      if (buffer.length + size > maxEventLength) throw new DurableSessionError('protocol', 'SSE event too long');
      if (done) return;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
