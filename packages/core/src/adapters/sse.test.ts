import { describe, expect, it } from 'vitest';
import { parseSse } from './sse';

function body(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
}
const all = async (chunks: string[]) => {
  const out = [];
  for await (const e of parseSse(body(chunks))) out.push(e);
  return out;
};

describe('parseSse', () => {
  it('parses named events with multi-line data', async () => {
    expect(await all(['event: data\ndata: [\ndata: {"k":"v"}\ndata: ]\n\nevent: control\ndata:{"streamNextOffset":"1"}\n\n'])).toEqual([
      { event: 'data', data: '[\n{"k":"v"}\n]' },
      { event: 'control', data: '{"streamNextOffset":"1"}' },
    ]);
  });

  it('handles CRLF and CR line ends, also split across chunks', async () => {
    expect(await all(['event: a\r', '\ndata: 1\r\n\r', '\nevent: b\rdata: 2\r\r'])).toEqual([
      { event: 'a', data: '1' },
      { event: 'b', data: '2' },
    ]);
  });

  it('handles multi-byte characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: é€😀\n\n');
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(new Uint8Array([b]));
        c.close();
      },
    });
    const out = [];
    for await (const e of parseSse(stream)) out.push(e);
    expect(out).toEqual([{ event: 'message', data: 'é€😀' }]);
  });

  it('skips comments and events without data, drops an unterminated last event', async () => {
    expect(await all([': keep-alive\n\nevent: control\n\ndata: x\n\ndata: partial'])).toEqual([{ event: 'message', data: 'x' }]);
  });

  it('keeps only one leading space of the value and accepts fields without a colon', async () => {
    expect(await all(['data:  two\ndata\n\n'])).toEqual([{ event: 'message', data: ' two\n' }]);
  });
});
